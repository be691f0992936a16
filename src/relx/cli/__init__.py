"""`relx` command line: data | train | evaluate | compare | analyze | predict | models | zoo | export | rules | bench | serve."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from relx.errors import RelxConfigError, RelxInputError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def package_version() -> str:
    """Installed version of the relx distribution, else ``relx.__version__`` (source checkout), else 'unknown'."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("relx")
    except PackageNotFoundError:
        import relx

        return str(getattr(relx, "__version__", "unknown"))


def command(sub: argparse._SubParsersAction, name: str, doc: str | None) -> argparse.ArgumentParser:
    """Add subcommand ``name`` whose help is the first line of ``doc`` (its module docstring) and whose
    description is the docstring's second paragraph."""
    paragraphs = (doc or "").strip().split("\n\n")
    description = " ".join(paragraphs[1].split()) if len(paragraphs) > 1 else None
    return sub.add_parser(name, help=paragraphs[0].strip(), description=description)


def build_parser() -> argparse.ArgumentParser:
    from relx.cli import analyze, bench, compare, data, evaluate, export, models, predict, predict_distributed, rules, serve, train, zoo

    parser = argparse.ArgumentParser(prog="relx", description="Supervised relation extraction toolkit.")
    parser.add_argument("--version", action="version", version=f"relx {package_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for mod in (data, train, evaluate, compare, analyze, predict, predict_distributed, models, zoo, export, rules, bench, serve):
        mod.add_parser(sub)
    return parser


def os_error_line(exc: OSError) -> str:
    """One line for a failed file operation, naming the path (the target of a rename when there is one)."""
    path = exc.filename2 if exc.filename2 is not None else exc.filename
    reason = exc.strerror or str(exc)
    return f"{os.fsdecode(path)}: {reason}" if path is not None else reason


class PrintableStream:
    """A text stream whose writes go through :func:`relx.data.safetext.printable` (newlines and tabs kept): whatever a
    command prints from its input (texts, tokens, labels, file names) shows escape sequences instead of running them."""

    def __init__(self, stream: Any):
        self._stream = stream

    def write(self, text: str) -> int:
        from relx.data.safetext import printable

        self._stream.write(printable(text, keep="\n\t"))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def error_line(message: object) -> str:
    """``relx: error: ...`` on one line, control characters of the message (user input) escaped."""
    from relx.data.safetext import printable

    return f"relx: error: {printable(message)}"


def main(argv: list[str] | None = None) -> int:
    import contextlib

    parser = build_parser()
    args = parser.parse_args(argv)
    # serve's stdout is uvicorn's log (its own colours); every other command's stdout is reports built from input
    guard = contextlib.nullcontext() if args.command == "serve" else contextlib.redirect_stdout(PrintableStream(sys.stdout))
    try:
        with guard:
            return int(args.func(args) or 0)
    except (RelxInputError, RelxConfigError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    except KeyError as exc:  # unknown registry names
        print(error_line(exc.args[0] if exc.args else exc), file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. an output path that is a directory or not writable
        print(error_line(os_error_line(exc)), file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
