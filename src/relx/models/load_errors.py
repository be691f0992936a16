"""Turning every problem met while loading a model directory into one single-line RelxInputError that
names the file: damaged files are found first, then a path quoted in the message, else the directory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from relx.errors import RelxConfigError, RelxInputError
from relx.models.layout import CONFIG_FILE, MissingStateKey
from relx.models.untrusted import check_safetensors, one_line


def find_damaged_file(directory: str | Path) -> tuple[Path, str] | None:
    """First file under ``directory`` that cannot be parsed (a JSON file cut short, a damaged
    safetensors header), with the problem; None when every such file looks sound."""
    from relx.models.persistence import read_json_file  # its size cap is patched there in tests

    directory = Path(directory)
    files = sorted(
        (p for p in directory.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.relative_to(directory).parts)),
        key=lambda p: (len(p.relative_to(directory).parts), str(p)),
    )
    for path in files:
        try:
            if path.suffix == ".json":
                read_json_file(path)
            elif path.suffix == ".safetensors":
                check_safetensors(path)
        except RelxInputError as exc:
            return path, exc.problem
    return None


def state_dict_problem(exc: BaseException) -> str:
    """One line for a torch ``load_state_dict`` error: the first size mismatch and how many more."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    mismatches = [line for line in lines if line.startswith("size mismatch")]
    if mismatches:
        more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        return f"weights do not fit the model: {one_line(mismatches[0].rstrip('.'), 240)}{more}"
    return f"weights do not fit the model: {one_line(' '.join(lines[1:] or lines))}"


def _path_in_message(directory: Path, message: str) -> Path | None:
    """A path inside ``directory`` quoted in an exception message (e.g. from transformers), if any."""
    for match in re.finditer(re.escape(str(directory)) + r"[^'\"\s,;]*", message):
        candidate = Path(match.group(0).rstrip(".:)"))
        if candidate != directory:
            return candidate
    return None


def describe_failure(directory: Path, exc: BaseException) -> RelxInputError:
    """A RelxInputError naming the file of ``directory`` that most likely caused ``exc``."""
    damaged = find_damaged_file(directory)
    if damaged is not None:
        return RelxInputError(damaged[1], damaged[0])
    message = one_line(str(exc) or type(exc).__name__)
    filename = getattr(exc, "filename", None)
    culprit = Path(filename) if isinstance(filename, str) else _path_in_message(directory, str(exc))
    if culprit is not None:
        if not culprit.exists():
            return RelxInputError("missing", culprit)
        if isinstance(exc, OSError) and exc.strerror:
            message = exc.strerror
        return RelxInputError(f"cannot be loaded: {message}", culprit)
    if isinstance(exc, KeyError):
        return RelxInputError(f"incomplete saved model: no entry {exc.args[0]!r}" if exc.args else "incomplete saved model", directory)
    return RelxInputError(f"cannot be loaded ({type(exc).__name__}: {message})", directory)


@contextmanager
def load_errors(directory: str | Path) -> Iterator[None]:
    """Turn what building/loading a model from ``directory`` raises into one RelxInputError naming the file.

    RelxInputErrors that already name a file pass through (e.g. from a nested stage directory);
    a key missing from the saved state names config.json; other failures are traced to the first
    damaged file, a path quoted in the message, or the directory itself.
    """
    directory = Path(directory)
    try:
        yield
    except RelxInputError as exc:
        if exc.path is not None:
            raise
        raise exc.at(directory) from exc
    except MissingStateKey as exc:
        key = exc.args[0] if exc.args else "?"
        raise RelxInputError(
            f"saved state has no {key!r} entry (written by another relx version, or edited)", directory / CONFIG_FILE
        ) from exc
    except RelxConfigError as exc:
        raise RelxInputError(one_line(str(exc)), directory) from exc
    except (OSError, ValueError, RuntimeError, KeyError, IndexError, TypeError) as exc:
        raise describe_failure(directory, exc) from exc
    except Exception as exc:
        from safetensors import SafetensorError

        if isinstance(exc, SafetensorError):
            raise describe_failure(directory, exc) from exc
        raise
