"""`relx` command line: data | train | evaluate | predict | models | export."""

from __future__ import annotations

import argparse
import os
import sys

from relx.errors import RelxConfigError, RelxInputError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def build_parser() -> argparse.ArgumentParser:
    from relx.cli import analyze, data, evaluate, export, models, predict, rules, train

    parser = argparse.ArgumentParser(prog="relx", description="Supervised relation extraction toolkit.")
    sub = parser.add_subparsers(dest="command", required=True)
    for mod in (data, train, evaluate, analyze, predict, models, export, rules):
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (RelxInputError, RelxConfigError) as exc:
        print(f"relx: error: {exc}", file=sys.stderr)
        return 2
    except KeyError as exc:  # unknown registry names
        print(f"relx: error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
