"""SemEval-2010 Task 8 TXT: records of ``id<TAB>"sentence with <e1>/<e2> tags"``, label, ``Comment:``, blank.

Also reads sentence-only files (TEST_FILE.txt: unlabeled Documents with meta {"unlabeled": true}).
The helpers here (``read_tagged`` / ``format_tagged``) are shared with the KBP37-style ``marked`` format.

Writing (semeval and marked) refuses, with RelxInputError naming the record, a document the file could not
give back: a token that is empty or whitespace or holds whitespace (the sentence is split on whitespace,
so it would be lost or cut), a token that reads as a tag (``<e1>``; there is no escape), an id that is
empty or holds whitespace or ``"``, a label that reads back as another relation. Every written record is
read back in memory and compared (tokens and spans, id, label) before the file is written. What the
formats hold: marked the tokens, the two entity spans (not their types), the relation and its direction;
semeval the same but its reader re-tokenizes the text with spaCy, so only the characters of the
sentence and of each entity are kept, not the token boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relx.data.inline import has_tag, parse_marked, render_marked
from relx.data.io import (
    NEGATIVE_LABELS,
    ReadReport,
    check_split_tokens,
    iter_lines,
    record_context,
    record_where,
    sentence_label,
    write_text,
)
from relx.data.schema import Document, Relation
from relx.errors import RelxInputError
from relx.registry import READERS, WRITERS

_SENTENCE = re.compile(r'^\s*(?P<id>[^\s"]+)(?:\t|\s+(?="))\s*(?P<text>.*?)\s*$')
_COMMENT = re.compile(r"^\s*Comment\s*:\s?(?P<text>.*?)\s*$", re.IGNORECASE)
_LABEL = re.compile(r"^\S+$")
_DIRECTED = re.compile(r"^(?P<type>[^()]+)\((?P<a>e[12]),(?P<b>e[12])\)$")
_ID = re.compile(r'[^\s"]+')


@dataclass
class RawRecord:
    """One record as found in the file, before tokenization."""

    id: str
    text: str
    line: int
    label: str | None = None
    comment: str | None = None
    label_line: int | None = None


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _raw_records(path: str | Path) -> list[RawRecord]:
    """Split the file into records; reject lines that fit no record."""
    return _parse_lines(iter_lines(path), path)


def _parse_lines(lines: Iterable[tuple[int, str]], path: str | Path | None) -> list[RawRecord]:
    """``_raw_records`` of numbered lines (also used to read back each record before it is written)."""
    records: list[RawRecord] = []
    cur: RawRecord | None = None
    for lineno, line in lines:
        if not line.strip():
            cur = None
            continue
        c, m = _COMMENT.match(line), _SENTENCE.match(line)
        if c and cur is not None and cur.comment is None:
            cur.comment = c.group("text")
        elif m and not c:
            cur = RawRecord(m.group("id"), _unquote(m.group("text")), lineno)
            records.append(cur)
        elif cur is not None and cur.label is None and cur.comment is None and _LABEL.match(line.strip()) and "<e" not in line:
            cur.label, cur.label_line = line.strip(), lineno
        else:
            raise RelxInputError(f"unexpected line {_clip(line)} (expected an 'id<TAB>\"sentence\"' line)", path, lineno)
    return records


def _clip(line: str, width: int = 50) -> str:
    line = line.strip()
    return repr(line if len(line) <= width else line[: width - 3] + "...")


def label_relation(label: str) -> Relation | None:
    """'Cause-Effect(e2,e1)' -> Relation(1, 0, 'Cause-Effect'); negatives -> None.

    A label with parentheses must end in exactly ``(e1,e2)`` or ``(e2,e1)``; anything else
    (``(e3,e1)``, ``(e1,e1)``, ``(e1, e2)``) raises RelxInputError instead of becoming a new class.
    """
    if label in NEGATIVE_LABELS:
        return None
    if "(" not in label and ")" not in label:
        return Relation(0, 1, label)
    m = _DIRECTED.match(label)
    if not m or m.group("a") == m.group("b"):
        raise RelxInputError(f"malformed direction in label {label!r} (expected TYPE(e1,e2) or TYPE(e2,e1))")
    return Relation(1, 0, m.group("type")) if m.group("a") == "e2" else Relation(0, 1, m.group("type"))


def _relation_of(raw: RawRecord) -> Relation | None:
    """The record's relation; a bad label is reported at its own line."""
    try:
        return label_relation(raw.label) if raw.label is not None else None
    except RelxInputError as exc:
        raise RelxInputError(exc.problem, None, raw.label_line) from None


def _to_document(raw: RawRecord, labeled: bool, tokenize: bool) -> Document:
    if labeled and raw.label is None:
        raise RelxInputError("missing label line after the sentence")
    tokens, entities = parse_marked(raw.text, tokenize=tokenize)
    meta: dict[str, Any] = {}
    if tokenize:
        meta["sentence"] = raw.text
    rel = _relation_of(raw)
    if not labeled:
        meta["unlabeled"] = True
    elif rel is None:
        meta["negative"] = raw.label
    if raw.comment is not None:
        meta["comment"] = raw.comment
    return Document(id=raw.id, tokens=tokens, entities=entities, relations=[rel] if rel else [], meta=meta).validate()


def read_tagged(path: str | Path, tokenize: bool, report: ReadReport | None = None) -> Iterator[Document]:
    """Documents from a SemEval-layout file (spaCy tokenization or whitespace tokens).

    ``report``: invalid-record policy (see ``io.read``); lines that fit no record are always errors.
    """
    records = _raw_records(path)
    labeled = any(r.label is not None for r in records)
    for raw in records:
        with record_context(path, raw.line, report):
            yield _to_document(raw, labeled, tokenize)


@READERS.register("semeval")
def read(path: str | Path, report: ReadReport | None = None, **kwargs: Any) -> Iterator[Document]:
    """Yield Documents from SemEval-2010 Task 8 TXT (CRLF or LF, plain or .gz)."""
    return read_tagged(path, tokenize=True, report=report)


# --- writing -------------------------------------------------------------------
def pair_label(doc: Document, negative: str) -> str:
    """Directed pair label: 'X(e1,e2)' / 'X(e2,e1)', or ``negative`` when there is no relation."""
    return sentence_label(doc, negative, always_directed=True)


def _sentence(doc: Document, spaced: bool) -> str:
    """The tagged sentence: the original one when it still matches the tokens, else rendered."""
    original = doc.meta.get("sentence")
    if isinstance(original, str) and not spaced and "\n" not in original and "\r" not in original:
        try:
            tokens, ents = parse_marked(original)
        except RelxInputError:
            tokens, ents = [], []
        if tokens == doc.tokens and [(e.start, e.end) for e in ents] == [(e.start, e.end) for e in doc.entities]:
            return original
    return render_marked(doc.tokens, doc.entities, spaced=spaced)


def _check_writable(doc: Document, fmt: str) -> None:
    """Refuse (RelxInputError naming the token) what a tagged sentence cannot hold: whitespace and tag-like tokens, odd ids."""
    check_split_tokens(doc, fmt)
    for i, tok in enumerate(doc.tokens):
        if has_tag(tok):
            raise RelxInputError(
                f"document {doc.id!r}: token {i} {tok!r} looks like an entity tag, which the {fmt} reader would take for one "
                "(the format has no escape for it)"
            )
    if not _ID.fullmatch(doc.id):
        raise RelxInputError(f"document id {doc.id!r} cannot be written in {fmt}: ids there are non-empty, without whitespace or '\"'")


def _read_back_problem(doc: Document, record: str, label: str, labeled: bool, sentence: str, rendered: bool) -> str | None:
    """Why ``record`` (one formatted record of ``doc``) would not read back as ``doc``, or None when it would.

    ``rendered``: the sentence was rendered from the tokens (not the original one), so they must come back exactly.
    """
    try:
        raws = _parse_lines(enumerate(record.rstrip("\n").split("\n"), 1), None)
        if len(raws) != 1:
            return f"it would read back as {len(raws)} records"
        raw = raws[0]
        if raw.id != doc.id:
            return f"its id would read back as {raw.id!r}"
        if raw.label != (label if labeled else None):
            return f"its label line {label!r} would not read back"
        if labeled and doc.relations and not _same_pair_label(doc, _relation_of(raw), label):
            return f"its label {label!r} would read back as another relation"
        if raw.text != sentence:
            return "its sentence would not read back as written"
        if rendered:
            tokens, ents = parse_marked(raw.text, tokenize=False)
            for i, tok in enumerate(doc.tokens):
                back = tokens[i] if i < len(tokens) else None
                if back != tok:
                    return f"token {i} {tok!r} would read back as {'nothing' if back is None else repr(back)}"
            if len(tokens) != len(doc.tokens) or [(e.start, e.end) for e in ents] != [(e.start, e.end) for e in doc.entities]:
                return "its tokens or entity spans would read back differently"
    except RelxInputError as exc:
        return f"it would not read back ({exc.problem})"
    return None


def _same_pair_label(doc: Document, back: Relation | None, label: str) -> bool:
    """True when the relation read back from ``label`` gives ``doc`` the same directed pair label."""
    return back is not None and pair_label(Document(doc.id, doc.tokens, doc.entities, [back]), "") == label


def format_tagged(doc: Document, negative: str, labeled: bool, spaced: bool) -> str:
    """One record: sentence line, then (when labeled) label, comment and a blank line.

    Raises RelxInputError (unlocated) when the record would not read back as ``doc`` (see the module docstring).
    """
    fmt = "marked" if spaced else "semeval"
    label = pair_label(doc, negative)  # also checks the shape of doc
    _check_writable(doc, fmt)
    comment = doc.meta.get("comment")
    rendered = render_marked(doc.tokens, doc.entities, spaced=spaced)
    for text in dict.fromkeys([_sentence(doc, spaced), rendered]):  # the original sentence first, when it fits
        sentence = f'{doc.id}\t"{text}"\n'
        if not labeled:
            record = sentence
        elif comment is None and spaced:  # KBP37 records have no comment line
            record = f"{sentence}{label}\n\n"
        else:
            record = f"{sentence}{label}\nComment:{' ' + comment if comment else ''}\n\n"
        problem = _read_back_problem(doc, record, label, labeled, text, spaced or text == rendered)
        if problem is None:
            return record
    raise RelxInputError(f"document {doc.id!r} cannot be written in {fmt}: {problem}")


def write_tagged(path: str | Path, docs: Iterable[Document], negative: str, spaced: bool, key_only: bool, labeled: bool | None) -> int:
    """Shared writer of the semeval and marked formats."""
    docs = list(docs)
    if labeled is None:
        labeled = not docs or not all(d.meta.get("unlabeled") and not d.relations for d in docs)
    parts = []
    for i, doc in enumerate(docs, 1):
        with record_context(path, record_where(i, doc.id)):
            parts.append(f"{doc.id}\t{pair_label(doc, negative)}\n" if key_only else format_tagged(doc, negative, labeled, spaced))
    write_text(path, "".join(parts))
    return len(docs)


@WRITERS.register("semeval")
def write(
    path: str | Path,
    docs: Iterable[Document],
    negative: str = "Other",
    key_only: bool = False,
    labeled: bool | None = None,
    **kwargs: Any,
) -> int:
    """Write SemEval TXT (LF); ``key_only=True`` writes ``id<TAB>Label`` answer-key lines instead.

    ``labeled=None`` writes sentence lines only when every document is unlabeled.
    """
    return write_tagged(path, docs, negative, spaced=False, key_only=key_only, labeled=labeled)
