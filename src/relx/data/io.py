"""Format-independent reading and writing of Documents, plus helpers shared by all readers.

``read(path, format="auto")`` picks the registered reader (guessing the format from the file name
and content when asked), ``write(path, docs, format)`` the registered writer. Readers use
``open_text`` / ``read_text`` / ``load_json`` (plain or gzipped UTF-8, errors with line numbers),
``record_context`` (turns any problem with one record into a located RelxInputError) and
``write_text`` (atomic, gzipped when the name ends in .gz).

Invalid records: ``read(..., on_invalid="error")`` (the default) stops at the first one;
``on_invalid="skip"`` drops them, counts them in a ``ReadReport`` (``read_with_report``) and prints one
warning line to stderr. Only record-level problems are skipped: a file that cannot be opened or
decoded, or a whole-file JSON that does not parse, is always an error. A reader honours the policy by
passing the ``report`` it is given to ``record_context`` and yielding inside that block.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from relx.data.labels import LabelSet, split_directed
from relx.data.schema import Document, has_whitespace
from relx.errors import RelxConfigError, RelxInputError
from relx.registry import READERS, WRITERS
from relx.utils import atomic_open

FORMATS: list[str] = ["jsonl", "tacred", "semeval", "marked", "spert", "casrel", "fewrel", "dygiepp"]
NEGATIVE_LABELS = ("no_relation", "Other")
ON_INVALID = ("error", "skip")
# Exceptions of hostile or broken input that json.loads lets through besides JSONDecodeError:
# RecursionError (deep nesting), ValueError (integers over the digit limit).
_JSON_ERRORS = (ValueError, RecursionError)

PathLike = str | Path


# --- reading raw text ------------------------------------------------------
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
        raise RelxInputError(_json_problem(exc)) from None


def _json_problem(exc: BaseException) -> str:
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
        raise RelxInputError(_json_problem(exc), path, line) from None


def load_json_list(path: PathLike, what: str) -> list[Any]:
    """``load_json`` for formats whose file is one JSON array of records."""
    data = load_json(path)
    if not isinstance(data, list):
        raise RelxInputError(f"expected a JSON list of {what} records, got a JSON {type(data).__name__}", path)
    return data


# --- locating problems -------------------------------------------------------
def record_where(index: int, record_id: Any = None) -> str:
    """Location string for the ``index``-th (1-based) record of a JSON list."""
    return f"record {index}" if record_id is None else f"record {index} (id {str(record_id)!r})"


@dataclass
class ReadReport:
    """What one read dropped under ``on_invalid="skip"``: every skipped record's located error."""

    path: str
    on_invalid: str = "error"
    errors: list[RelxInputError] = field(default_factory=list)
    max_shown: int = 3

    def __post_init__(self) -> None:
        check_on_invalid(self.on_invalid)

    @property
    def skipped(self) -> int:
        """Number of records dropped."""
        return len(self.errors)

    @property
    def skip(self) -> bool:
        """True when invalid records are dropped rather than raised."""
        return self.on_invalid == "skip"

    def summary(self) -> str:
        """One line: how many records were skipped and the first few ``file:line: problem``."""
        shown = "; ".join(e.format() for e in self.errors[: self.max_shown])
        more = f"; ... and {self.skipped - self.max_shown} more" if self.skipped > self.max_shown else ""
        noun = "record" if self.skipped == 1 else "records"
        return f"relx: warning: skipped {self.skipped} invalid {noun} in {self.path}: {shown}{more}"


def check_on_invalid(on_invalid: str) -> str:
    """``on_invalid`` if it is one of ON_INVALID, else RelxConfigError."""
    if on_invalid not in ON_INVALID:
        raise RelxConfigError(f"on_invalid must be one of {', '.join(ON_INVALID)}, got {on_invalid!r}")
    return on_invalid


def _located(exc: BaseException, path: PathLike, where: str | int) -> RelxInputError:
    """Any problem with one record as a RelxInputError at ``path``/``where``."""
    if isinstance(exc, RelxInputError):
        return exc.at(path, where)
    if isinstance(exc, KeyError):
        return RelxInputError(f"missing field {exc.args[0]!r}", path, where)
    if isinstance(exc, RecursionError):
        return RelxInputError("record is nested too deeply", path, where)
    return RelxInputError(f"malformed record ({exc.__class__.__name__}: {exc})", path, where)


@contextmanager
def record_context(path: PathLike, where: str | int, report: ReadReport | None = None) -> Iterator[None]:
    """Turn any problem raised while building one record into RelxInputError at ``path``/``where``.

    With a ``report`` that skips, the error is recorded there and the block is abandoned, so a reader
    must yield (or keep) the record inside the block.
    """
    try:
        yield
    except (RelxInputError, TypeError, ValueError, IndexError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        error = _located(exc, path, where)
        if report is None or not report.skip:
            raise error from None
        report.errors.append(error)


def require(obj: Any, key: str, kind: type | tuple[type, ...], what: str = "") -> Any:
    """``obj[key]`` checked to be a ``kind``; RelxInputError (unlocated) otherwise."""
    if not isinstance(obj, dict):
        raise RelxInputError(f"expected a JSON object{what}, got {type(obj).__name__}")
    if key not in obj:
        raise RelxInputError(f"missing field {key!r}{what}")
    val = obj[key]
    if not isinstance(val, kind) or isinstance(val, bool):
        raise RelxInputError(f"field {key!r}{what} has the wrong type ({type(val).__name__})")
    return val


def string_list(obj: Any, key: str) -> list[str]:
    """``obj[key]`` checked to be a list of strings."""
    val = require(obj, key, list)
    if not all(isinstance(t, str) for t in val):
        raise RelxInputError(f"field {key!r} must be a list of strings")
    return val


# --- writing -------------------------------------------------------------------
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


def check_split_tokens(doc: Document, fmt: str) -> None:
    """Raise RelxInputError (unlocated) naming the first token of ``doc`` that a text format split on
    whitespace (``fmt``: marked, semeval, casrel) cannot hold: an empty token, or one that is or holds
    whitespace would be dropped or cut in two when the file is read back."""
    for i, tok in enumerate(doc.tokens):
        if has_whitespace(tok):
            what = "empty" if not tok else "whitespace" if tok.isspace() else "holds whitespace"
            raise RelxInputError(
                f"document {doc.id!r}: token {i} {tok!r} is {what}, which {fmt} cannot hold (its text is split on whitespace, "
                "so the token would be lost or cut); jsonl, tacred and spert keep such tokens"
            )


# --- format guessing -------------------------------------------------------
def _base_suffix(path: Path) -> str:
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return Path(name).suffix.lower()


def _guess_marked_flavour(text: str) -> str:
    """'marked' (KBP37: whitespace tokens, TACRED-style labels) or 'semeval'."""
    for line in text.split("\n"):
        line = line.strip()
        if line == "no_relation" or re.match(r"^(per|org):\S+\((e1,e2|e2,e1)\)$", line):
            return "marked"
    return "semeval"


def _is_dygiepp(obj: Any) -> bool:
    """A DyGIE++ / PURE document: ``doc_key`` and ``sentences`` (a list of token lists)."""
    return isinstance(obj, dict) and "doc_key" in obj and isinstance(obj.get("sentences"), list)


def _guess_json(data: Any) -> str | None:
    if isinstance(data, list):
        first = next((r for r in data if isinstance(r, dict)), None)
        if first is None:
            return None
        if "token" in first and "subj_start" in first:
            return "tacred"
        if "tokens" in first and "entities" in first:
            return "spert"
        if "triple_list" in first:
            return "casrel"
        return None
    if _is_dygiepp(data):
        return "dygiepp"
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        first = next((v[0] for v in data.values() if v), None)
        if isinstance(first, dict) and "tokens" in first and "h" in first:
            return "fewrel"
    return None


def guess_format(path: PathLike) -> str:
    """Guess a registered format from the file name and content."""
    path = Path(path)
    suffix = _base_suffix(path)
    if suffix == ".jsonl":
        return "jsonl"
    text = read_text(path)
    head = text.lstrip()[:1]
    if suffix == ".txt" or head not in ("[", "{"):
        if "<e1>" in text.lower():
            return _guess_marked_flavour(text)
    elif head == "{" and "\n" in text.strip():
        first = text.lstrip().split("\n", 1)[0]
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and "tokens" in obj and "id" in obj:
            return "jsonl"
        if _is_dygiepp(obj):
            return "dygiepp"
    if head in ("[", "{"):
        try:
            guessed = _guess_json(json.loads(text))
        except json.JSONDecodeError:
            guessed = None
        if guessed:
            return guessed
    raise RelxInputError(f"cannot guess the format; name it (one of {', '.join(FORMATS)})", path)


# --- label checking ------------------------------------------------------------
def _doc_labels(doc: Document, labels: LabelSet) -> list[str]:
    """The labels of ``doc`` that must be in ``labels`` (pair label for sentence-level documents)."""
    if len(doc.entities) == 2 and len(doc.relations) <= 1:
        return [labels.pair_label(doc)]
    return [r.label for r in doc.relations]


def _label_known(label: str, labels: LabelSet) -> bool:
    if label in labels:
        return True
    if split_directed(label)[1] is None:  # undirected relation type of a directed label set
        return any(f"{label}({d})" in labels for d in ("e1,e2", "e2,e1"))
    return False


def check_labels(doc: Document, labels: LabelSet) -> None:
    """Raise RelxInputError (unlocated) when ``doc`` carries a label outside ``labels``."""
    for lab in _doc_labels(doc, labels):
        if not _label_known(lab, labels):
            raise RelxInputError(f"unknown label {lab!r} (not one of the {len(labels)} labels in the label set)")


# --- public entry points -----------------------------------------------------------
def _lookup(registry: Any, fmt: str, path: PathLike) -> Any:
    try:
        return registry.get(fmt)
    except KeyError:
        raise RelxInputError(f"unknown format {fmt!r} (known: {', '.join(registry.names())})", path) from None


def read_with_report(
    path: PathLike, format: str = "auto", labels: LabelSet | None = None, on_invalid: str = "error", **kw: Any
) -> tuple[list[Document], ReadReport]:
    """``read`` that also returns the ReadReport (``report.skipped``: records dropped under "skip")."""
    report = ReadReport(str(path), on_invalid)
    fmt = guess_format(path) if format == "auto" else format
    reader = _lookup(READERS, fmt, path)
    docs: list[Document] = []
    first: dict[str, int] = {}
    for i, doc in enumerate(reader(path, report=report, **kw), 1):
        with record_context(path, record_where(i, doc.id), report):
            if doc.id in first:
                raise RelxInputError(f"duplicate document id {doc.id!r} (first used by record {first[doc.id]}); ids must be unique")
            first[doc.id] = i
            if labels is not None:
                check_labels(doc, labels)
            docs.append(doc)
    if not docs and not report.skipped:
        raise RelxInputError("no records: the file is empty (or holds an empty list)", path)
    if report.skipped:
        print(report.summary(), file=sys.stderr)
    return docs, report


def read(path: PathLike, format: str = "auto", labels: LabelSet | None = None, on_invalid: str = "error", **kw: Any) -> list[Document]:
    """Read all Documents of ``path`` (plain or .gz) in ``format`` ("auto" guesses it).

    With ``labels`` every pair label must belong to the label set, else RelxInputError naming the record.
    ``on_invalid``: "error" raises RelxInputError at the first invalid record; "skip" drops invalid
    records and prints one warning line to stderr (counts: ``read_with_report``).
    """
    return read_with_report(path, format, labels, on_invalid, **kw)[0]


def write(path: PathLike, docs: Iterable[Document], format: str = "auto", **kw: Any) -> int:
    """Atomically write ``docs`` to ``path`` in ``format`` ("auto": .jsonl only); returns the count."""
    fmt = format
    if fmt == "auto":
        suffix = _base_suffix(Path(path))
        if suffix != ".jsonl":
            raise RelxInputError(
                f"cannot guess the output format from {suffix or 'no suffix'!r}; name it (one of {', '.join(FORMATS)})", path
            )
        fmt = "jsonl"
    writer = _lookup(WRITERS, fmt, path)
    return int(writer(path, docs, **kw))


def sentence_label(doc: Document, negative: str, always_directed: bool) -> str:
    """Pair label a sentence-level format writes for ``doc`` (``negative`` when it has no relation).

    ``always_directed``: SemEval-style ``X(e1,e2)``/``X(e2,e1)``; otherwise the bare label, with an
    ``(e2,e1)`` suffix only for reversed pairs (TACRED style).
    """
    if len(doc.entities) != 2:
        raise RelxInputError(f"document {doc.id!r} has {len(doc.entities)} entities; this format holds exactly 2")
    if len(doc.relations) > 1:
        raise RelxInputError(f"document {doc.id!r} has {len(doc.relations)} relations; this format holds at most 1")
    if not doc.relations:
        return negative
    r = doc.relations[0]
    if {r.head, r.tail} != {0, 1}:
        raise RelxInputError(f"document {doc.id!r}: relation {r.head}->{r.tail} is not between entities 0 and 1")
    if split_directed(r.label)[1] is not None or (r.head == 0 and not always_directed):
        return r.label
    return f"{r.label}({'e1,e2' if r.head == 0 else 'e2,e1'})"
