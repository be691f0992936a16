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


def decode_text(data: bytes, path: PathLike | None = None) -> str:
    """UTF-8 ``data`` as text with CRLF/CR newlines turned into LF and a leading BOM dropped; RelxInputError
    naming the line of the first byte that is not valid UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RelxInputError(f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x})", path, line) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: PathLike) -> str:
    """The whole file (plain or .gz) as UTF-8 text (``decode_text``)."""
    path = Path(path)
    return decode_text(_read_bytes(path), path)


def open_text(path: PathLike) -> TextIO:
    """Open a plain or gzipped UTF-8 file for reading (decoded up front, so errors name the line)."""
    return io.StringIO(read_text(path))


def iter_lines(path: PathLike) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, line)`` (1-based, without the newline)."""
    yield from enumerate(read_text(path).split("\n"), 1)


def json_depth(value: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), computed without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def json_problem(exc: BaseException, max_depth: int | None = None) -> str:
    """The one wording of a ``json.loads`` failure: ``invalid JSON (...)``, ``invalid JSON, cut short (...)``
    when the text ends before the value does."""
    if isinstance(exc, json.JSONDecodeError):
        ended = exc.pos >= len(exc.doc.rstrip()) or exc.msg.startswith("Unterminated string")
        cut = ", cut short" if ended else ""
        return f"invalid JSON{cut} ({exc.msg} at column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "invalid JSON (nested too deeply)" if max_depth is None else f"invalid JSON (nested more than {max_depth} levels deep)"
    return f"invalid JSON ({str(exc).split(':')[0]})"  # e.g. an integer over the digit limit


def parse_json(text: str, path: PathLike | None = None, max_depth: int | None = None) -> Any:
    """The one JSON parser: ``json.loads`` whose every failure is one RelxInputError (``json_problem``) at
    ``path`` and the line (unlocated without a ``path``, e.g. one JSONL record); with ``max_depth`` a value
    nested deeper than that is refused too."""
    try:
        value = json.loads(text)
    except _JSON_ERRORS as exc:
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) and path is not None else None
        raise RelxInputError(json_problem(exc, max_depth), path, line) from None
    if max_depth is not None and json_depth(value) > max_depth:
        raise RelxInputError(f"invalid JSON (nested more than {max_depth} levels deep)", path)
    return value


def load_json(path: PathLike) -> Any:
    """Parse a whole-file JSON document (plain or .gz); invalid JSON raises RelxInputError with the line."""
    return parse_json(read_text(path), path)


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
