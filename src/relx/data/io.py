"""Format-independent reading and writing of Documents; the public face of relx's data I/O.

``read(path, format="auto")`` picks the registered reader (guessing the format from the file name
and content when asked), ``write(path, docs, format)`` the registered writer. The parts live in
:mod:`relx.data.textio` (``open_text`` / ``read_text`` / ``load_json``: plain or gzipped UTF-8, errors
with line numbers; ``write_text``: atomic, gzipped when the name ends in .gz), :mod:`relx.data.validation`
(``record_context`` turns any problem with one record into a located RelxInputError; the invalid-record
policy), :mod:`relx.data.fields` (field type checks) and :mod:`relx.data.formats` (the registered
format names, format guessing); every name readers use is importable from here too.

Invalid records: ``read(..., on_invalid="error")`` (the default) stops at the first one;
``on_invalid="skip"`` drops them, counts them in a ``ReadReport`` (``read_with_report``) and prints one
warning line to stderr. Only record-level problems are skipped: a file that cannot be opened or
decoded, or a whole-file JSON that does not parse, is always an error. A reader honours the policy by
passing the ``report`` it is given to ``record_context`` and yielding inside that block.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from relx.data.fields import require, string_list
from relx.data.formats import base_suffix, format_names, guess_format, lookup
from relx.data.labels import NEGATIVE_LABELS, LabelSet, split_directed
from relx.data.schema import Document, check_unique_id
from relx.data.textio import PathLike, iter_lines, load_json, load_json_list, open_text, parse_json, read_text, write_text
from relx.data.validation import ON_INVALID, ReadReport, check_labels, check_on_invalid, check_split_tokens, record_context, record_where
from relx.errors import RelxInputError
from relx.registry import READERS, WRITERS

__all__ = [
    "NEGATIVE_LABELS",
    "ON_INVALID",
    "PathLike",
    "ReadReport",
    "check_labels",
    "check_on_invalid",
    "check_split_tokens",
    "guess_format",
    "iter_lines",
    "load_json",
    "load_json_list",
    "open_text",
    "parse_json",
    "read",
    "read_text",
    "read_with_report",
    "record_context",
    "record_where",
    "require",
    "sentence_label",
    "string_list",
    "write",
    "write_text",
]


def __getattr__(name: str) -> Any:
    """``FORMATS``: the registered reader formats, read from the registry when asked (never a hand list)."""
    if name == "FORMATS":
        return format_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def read_with_report(
    path: PathLike, format: str = "auto", labels: LabelSet | None = None, on_invalid: str = "error", **kw: Any
) -> tuple[list[Document], ReadReport]:
    """``read`` that also returns the ReadReport (``report.skipped``: records dropped under "skip")."""
    report = ReadReport(str(path), on_invalid)
    fmt = guess_format(path) if format == "auto" else format
    reader = lookup(READERS, fmt, path)
    docs: list[Document] = []
    first: dict[str, int] = {}
    for i, doc in enumerate(reader(path, report=report, **kw), 1):
        with record_context(path, record_where(i, doc.id), report):
            check_unique_id(first, doc.id, i)
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
        suffix = base_suffix(Path(path))
        if suffix != ".jsonl":
            raise RelxInputError(
                f"cannot guess the output format from {suffix or 'no suffix'!r}; name it (one of {', '.join(format_names())})", path
            )
        fmt = "jsonl"
    writer = lookup(WRITERS, fmt, path)
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
