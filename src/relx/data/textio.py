"""Text I/O shared by every reader and writer: plain or gzipped UTF-8 with errors that name the line,
the one JSON parser (every failure one RelxInputError) and the atomic text writer."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from relx.errors import RelxInputError
from relx.utils import atomic_open

# Exceptions of hostile or broken input that json.loads lets through besides JSONDecodeError:
# RecursionError (deep nesting), ValueError (integers over the digit limit).
_JSON_ERRORS = (ValueError, RecursionError)

PathLike = str | Path


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RelxInputError(f"cannot open: {exc.strerror or exc}", path) from None
    if path.suffix == ".gz" and data[:2] != b"\x1f\x8b":
        raise RelxInputError("not a gzip file, though its name ends in .gz (compress it, or drop the .gz)", path)
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise RelxInputError(f"corrupt gzip file ({exc})", path) from None
    return data


def read_text(path: PathLike) -> str:
    """The whole file (plain or .gz) as UTF-8 text with CRLF/CR newlines turned into LF.

    Raises RelxInputError naming the line of the first byte that is not valid UTF-8.
    """
    path = Path(path)
    data = _read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RelxInputError(f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", path, line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def open_text(path: PathLike) -> TextIO:
    """Open a plain or gzipped UTF-8 file for reading (decoded up front, so errors name the line)."""
    return io.StringIO(read_text(path))


def iter_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` (1-based, without the newline)."""
    yield from enumerate(read_text(path).split("\n"), 1)


def parse_json(text: str) -> Any:
    """``json.loads`` whose every failure is an unlocated RelxInputError (for one-record texts)."""
    try:
        return json.loads(text)
    except _JSON_ERRORS as exc:
        raise RelxInputError(json_problem(exc)) from None


def json_problem(exc: BaseException) -> str:
    """The one wording of a ``json.loads`` failure: ``invalid JSON (...)``."""
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON ({exc.msg} at column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "invalid JSON (nested too deeply)"
    return f"invalid JSON ({str(exc).split(':')[0]})"  # e.g. an integer over the digit limit


def load_json(path: PathLike) -> Any:
    """Parse a whole-file JSON document; invalid JSON raises RelxInputError with the line."""
    text = read_text(path)
    try:
        return json.loads(text)
    except _JSON_ERRORS as exc:
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else None
        raise RelxInputError(json_problem(exc), path, line) from None


def load_json_list(path: PathLike, what: str) -> list[Any]:
    """``load_json`` for formats whose file is one JSON array of records."""
    data = load_json(path)
    if not isinstance(data, list):
        raise RelxInputError(f"expected a JSON list of {what} records, got a JSON {type(data).__name__}", path)
    return data



def write_text(path: PathLike, text: str) -> None:
    """Atomically write UTF-8 ``text``; gzipped when ``path`` ends in .gz."""
    path = Path(path)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate from a "\ud800" JSON escape in an id, label or meta
        line = text.count("\n", 0, exc.start) + 1
        raise RelxInputError(
            f"cannot write line {line}: it holds {exc.object[exc.start]!r}, a lone surrogate that is not text", path
        ) from None
    with atomic_open(path, "wb") as fh:
        fh.write(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)

