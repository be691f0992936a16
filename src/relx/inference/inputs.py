"""Prediction inputs from a file: marked sentences, raw text or a dataset format, told apart here (not in the CLI).

A .txt / .txt.gz file holds one sentence per line: marked with ``<e1>..</e1> <e2>..</e2>`` (format ``text``, pair
classification) or raw text (format ``raw``, entities and relations extracted); ``auto`` decides by the first
line's tags, and a file that is not a bare-sentence .txt goes to the registered dataset readers
(:func:`relx.data.io.read`, format guessed by :func:`relx.data.io.guess_format`). :func:`read_inputs` returns an
:class:`Inputs`, which :meth:`relx.inference.pipeline.Pipeline.predict_inputs` routes to extraction or
classification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from relx.data.schema import Document, Entity
from relx.errors import RelxInputError
from relx.inference.extraction import is_marked

Where = Callable[[int], str | int]
TEXT_FORMATS = ("text", "raw")  # besides the registered dataset formats


@dataclass
class Inputs:
    """What a file holds: raw ``texts`` (with ``ids``) or ``docs``; ``where(i)`` locates item i (a line or record)."""

    source: Path
    where: Where
    texts: list[str] | None = None
    ids: list[str] = field(default_factory=list)
    docs: list[Document] = field(default_factory=list)

    @property
    def raw(self) -> bool:
        return self.texts is not None


def _json_object(text: str) -> bool:
    """``text`` is a JSON object (a relx JSONL record, say), not a sentence."""
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except json.JSONDecodeError:
        return False


MARKED_JSON = (
    "this line is a JSON object, not a sentence marked with <e1>..</e1> <e2>..</e2>; for relx JSONL use --format jsonl (or --format auto)"
)
RAW_MARKED = (
    "this line has <e1>/<e2> tags but the file is raw text: a file holds either marked sentences (--format text) or raw text (--format raw)"
)
RAW_JSON = "this line is a JSON object, not raw text; for relx JSONL use --format jsonl (or --format auto)"


def _text_lines(path: Path, refuse: dict[str, Callable[[str], bool]], keep_indent: bool = False) -> list[tuple[int, str]]:
    """(line number, text) of every non-empty line of ``path`` (plain or .gz UTF-8, split on \\n only), stripped,
    or with ``keep_indent`` only right-stripped (leading whitespace kept, so offsets count from the file's line start);
    a line for which a ``refuse`` test is true raises that problem, naming the line."""
    from relx.data.io import iter_lines

    lines = []
    for lineno, line in iter_lines(path):
        text = line.strip()
        problem = next((problem for problem, test in refuse.items() if text and test(text)), None)
        if problem is not None:
            raise RelxInputError(problem, path, lineno)
        if text:
            lines.append((lineno, line.rstrip() if keep_indent else text))
    return lines


def read_marked_lines(path: Path) -> list[Document]:
    """One inline-marked sentence per non-empty line; errors name the line."""
    from relx.data.inline import parse_marked

    docs = []
    for lineno, text in _text_lines(path, {MARKED_JSON: _json_object}):
        try:
            tokens, entities = parse_marked(text)
        except RelxInputError as exc:
            raise exc.at(path, lineno) from None
        docs.append(Document(id=f"line{lineno}", tokens=tokens, entities=entities, meta={"text": text}))
    return docs


def read_raw_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of every non-empty line of a raw-text file, leading whitespace kept (character offsets are
    relative to the line as it is in the file); a marked or JSON line is an error."""
    return _text_lines(path, {RAW_MARKED: is_marked, RAW_JSON: _json_object}, keep_indent=True)


def _first_line(path: Path) -> str:
    from relx.data.io import iter_lines

    return next((line for _, line in iter_lines(path) if line.strip()), "")


def is_plain_sentences(path: Path) -> bool:
    """A .txt / .txt.gz file whose first line is a bare sentence (not SemEval/KBP37 `id<TAB>"sentence"`)."""
    name = path.name.lower()
    if not (name.endswith(".txt") or name.endswith(".txt.gz")):
        return False
    return re.match(r'^\S+\t"', _first_line(path)) is None


def is_raw_text(path: Path) -> bool:
    """A plain-sentence file whose first non-empty line has no inline tags."""
    return is_plain_sentences(path) and not is_marked(_first_line(path))


def _jsonl_line_of(path: Path) -> Where:
    """Map the i-th document of a relx JSONL file to its line (the reader skips blank lines)."""
    cache: list[int] = []

    def where(i: int) -> int:
        if not cache:
            from relx.data.io import iter_lines

            cache.extend(n for n, line in iter_lines(path) if line.strip())
        return cache[i] if i < len(cache) else i + 1

    return where


def _first_record(path: Path) -> object:
    """The first non-empty line of ``path`` as JSON (None when it is not JSON)."""
    try:
        return json.loads(_first_line(path))
    except json.JSONDecodeError:
        return None


def _json_lines(path: Path) -> tuple[list[int], list[object]]:
    """(line numbers, parsed JSON values) of the non-empty lines of a JSONL file; bad JSON names the line."""
    from relx.data.io import iter_lines

    lines, records = [], []
    for lineno, line in iter_lines(path):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise RelxInputError(f"not valid JSON: {exc.msg} (column {exc.colno})", path, lineno) from None
            lines.append(lineno)
    return lines, records


def read_inputs(path: str | Path, fmt: str = "auto") -> Inputs:
    """The prediction inputs of ``path``: ``fmt`` is ``raw``, ``text``, a registered dataset format or ``auto``."""
    from relx.data.io import guess_format, read, record_where

    path = Path(path)
    if fmt == "raw" or (fmt == "auto" and is_raw_text(path)):
        lines = read_raw_lines(path)
        return Inputs(path, lambda i: lines[i][0], texts=[t for _, t in lines], ids=[f"line{n}" for n, _ in lines])
    if fmt == "text" or (fmt == "auto" and is_plain_sentences(path)):
        docs = read_marked_lines(path)
        return Inputs(path, lambda i: int(docs[i].id[4:]), docs=docs)
    fmt = guess_format(path) if fmt == "auto" else fmt
    if fmt == "jsonl" and is_offset_record(_first_record(path)):
        lines, records = _json_lines(path)
        docs = offset_documents(records, [f"line{n}" for n in lines], path, lambda i: lines[i])
        return Inputs(path, lambda i: lines[i], docs=docs)
    docs = read(path, fmt)
    if fmt == "jsonl":
        return Inputs(path, _jsonl_line_of(path), docs=docs)
    return Inputs(path, lambda i: record_where(i + 1, docs[i].id), docs=docs)


# --- records with character-offset entities: {"text": ..., "entities": [{"start", "end", "label"}]} -----------------
RECORD_KEYS = ("id", "text", "entities", "meta")
ENTITY_KEYS = ("start", "end", "label")
RECORD_SHAPE = '{"text": ..., "entities": [{"start": CHAR, "end": CHAR, "label": TYPE}]}'


def is_offset_record(item: object) -> bool:
    """``item`` is a text with character-offset entities (a dict with ``text`` and no ``tokens``), not a relx record."""
    return isinstance(item, dict) and "text" in item and "tokens" not in item


def _record_problem(rec: object) -> str | None:
    """Why ``rec`` is not a well-formed offset record (shape and types; offsets are checked against tokens later)."""
    from relx.inference.preprocess import text_problem

    if not isinstance(rec, dict):
        return f"expected a record {RECORD_SHAPE}, got {type(rec).__name__}"
    extra = sorted(str(k) for k in rec if k not in RECORD_KEYS)
    if extra:
        return f"unknown field(s) {', '.join(map(repr, extra))}; a record is {RECORD_SHAPE} (optional: 'id', 'meta')"
    problem = text_problem(rec.get("text"))
    if problem is not None:
        return f"'text': {problem}"
    ents = rec.get("entities", [])
    if not isinstance(ents, list):
        return f"'entities' must be a list of {{'start', 'end', 'label'}} objects, got {type(ents).__name__}"
    text = rec["text"]
    for k, e in enumerate(ents):
        if not isinstance(e, dict) or sorted(set(e) - set(ENTITY_KEYS)) or not {"start", "end"} <= set(e):
            return f"entity {k}: expected {{'start': CHAR, 'end': CHAR, 'label': TYPE (optional)}}, got {e!r}"
        s, t = e["start"], e["end"]
        if any(isinstance(x, bool) or not isinstance(x, int) for x in (s, t)):
            return f"entity {k}: 'start' and 'end' must be integer character offsets, got {s!r}, {t!r}"
        if not 0 <= s < t <= len(text):
            return f"entity {k}: character span [{s}, {t}) is not inside the text (0 <= start < end <= {len(text)})"
        if not isinstance(e.get("label", "O"), str):
            return f"entity {k}: 'label' must be a string, got {e['label']!r}"
    if "id" in rec and not isinstance(rec["id"], str):
        return f"'id' must be a string, got {type(rec['id']).__name__}"
    if not isinstance(rec.get("meta", {}), dict):
        return f"'meta' must be an object, got {type(rec['meta']).__name__}"
    return None


def _entity_tokens(text: str, offsets: list[list[int]], k: int, e: dict) -> tuple[int, int]:
    """Token span [start, end) of entity ``k`` (character offsets ``e``); an offset inside a token is an error."""
    starts = {s: i for i, (s, _) in enumerate(offsets)}
    ends = {t: i for i, (_, t) in enumerate(offsets)}
    for key, table in (("start", starts), ("end", ends)):
        if e[key] not in table:
            near = next(((s, t) for s, t in offsets if s < e[key] < t), None)
            where = f"cuts the token {text[near[0] : near[1]]!r} [{near[0]}, {near[1]})" if near else "falls on whitespace"
            span = f"entity {k} [{e['start']}, {e['end']}) {text[e['start'] : e['end']]!r}"
            raise RelxInputError(f"{span}: {key} {e[key]} {where}; entity offsets must fall on token boundaries")
    return starts[e["start"]], ends[e["end"]] + 1


def offset_documents(records: list, ids: list[str] | None = None, source: object = None, where: Where | None = None) -> list[Document]:
    """Texts with character-offset entities -> Documents: the text is tokenized (and tagged) by spaCy as raw text is,
    each entity is mapped to its tokens (``char_start`` / ``char_end`` kept) and ``meta["entity_offsets"]`` is set; a
    malformed record, or an offset out of range or inside a token, is a RelxInputError naming the record and entity."""
    from relx.inference.preprocess import load_spacy, parse

    ids = [str(i) for i in range(len(records))] if ids is None else ids
    for i, rec in enumerate(records):
        problem = _record_problem(rec)
        if problem is not None:
            raise RelxInputError(problem, source, where(i) if where else None)
    docs = []
    for i, (rec, sdoc) in enumerate(zip(records, load_spacy().pipe(r["text"] for r in records))):
        doc = parse(rec["text"], sdoc, rec.get("id", ids[i])).doc
        offsets = doc.meta["token_offsets"]
        for k, e in enumerate(rec.get("entities", [])):
            try:
                s, t = _entity_tokens(rec["text"], offsets, k, e)
            except RelxInputError as exc:
                raise RelxInputError(exc.problem, source, where(i) if where else None) from None
            doc.entities.append(Entity(s, t, e.get("label", "O"), char_start=e["start"], char_end=e["end"]))
        doc.meta = {**rec.get("meta", {}), **doc.meta, "entity_offsets": True}
        docs.append(doc)
    return docs
