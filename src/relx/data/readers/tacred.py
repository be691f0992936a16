"""TACRED JSON: a list of sentence records with subject/object spans (INCLUSIVE ends).

Also reads TACRED-layout files with optional fields missing (e.g. the AGGCN SemEval test.json has
no types and no NER). PTB bracket tokens (-LRB- ...) become brackets in relx and go back on write
(``ptb_brackets=False``: brackets are written as they are).

Writing refuses (RelxInputError naming the record) what would not read back: a literal token
``-LRB-`` (the reader would turn it into ``(``; replace it by the bracket first), crossing subject and
object spans, a relation label that reads back as another relation (``no_relation``, a direction
suffix that disagrees with the relation). Whitespace tokens are kept exactly (JSON strings).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from relx.data.io import (
    NEGATIVE_LABELS,
    ReadReport,
    load_json_list,
    record_context,
    record_where,
    require,
    sentence_label,
    string_list,
    write_text,
)
from relx.data.labels import split_directed
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.registry import READERS, WRITERS

PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}
_TO_PTB = {v: k for k, v in PTB_BRACKETS.items()}
_TOKEN_FIELDS = (("stanford_pos", "pos"), ("stanford_ner", "ner"), ("stanford_deprel", "deprels"))


def _span(rec: dict, side: str, n_tokens: int, label: str) -> Entity:
    start = require(rec, f"{side}_start", int)
    end = require(rec, f"{side}_end", int)
    if start > end:
        raise RelxInputError(f"{side} span [{start}, {end}] is empty or crossed")
    if start < 0 or end >= n_tokens:
        raise RelxInputError(f"{side} span [{start}, {end}] is outside the sentence of {n_tokens} tokens")
    return Entity(start, end + 1, label)


def _relation(label: str) -> Relation | None:
    if label in NEGATIVE_LABELS:
        return None
    rtype, reverse = split_directed(label)
    return Relation(1, 0, rtype) if reverse else Relation(0, 1, rtype)


def _heads(rec: dict) -> list[int] | None:
    if rec.get("stanford_head") is None:
        return None
    heads = require(rec, "stanford_head", list)
    try:
        return [int(h) for h in heads]
    except (TypeError, ValueError):
        raise RelxInputError("field 'stanford_head' must hold integers") from None


def parse_record(rec: Any, index: int) -> Document:
    """One TACRED record -> Document (entities [subj, obj]; at most one relation)."""
    tokens = [PTB_BRACKETS.get(t, t) for t in string_list(rec, "token")]
    label = require(rec, "relation", str)
    ents = [
        _span(rec, "subj", len(tokens), rec.get("subj_type") or "ENTITY"),
        _span(rec, "obj", len(tokens), rec.get("obj_type") or "ENTITY"),
    ]
    (a, b), (c, d) = ((e.start, e.end) for e in ents)
    if a < c < b < d or c < a < d < b:  # partial overlap: no marker can bracket both (nested or equal spans are allowed)
        raise RelxInputError(f"subj span [{a}, {b - 1}] and obj span [{c}, {d - 1}] cross (they overlap without one containing the other)")
    rel = _relation(label)
    meta: dict[str, Any] = {}
    if rel is None:
        meta["negative"] = label
    if rec.get("docid") is not None:
        meta["docid"] = rec["docid"]
    extra = {name: string_list(rec, key) for key, name in _TOKEN_FIELDS if rec.get(key) is not None}
    doc = Document(
        id=str(rec.get("id", index - 1)),
        tokens=tokens,
        entities=ents,
        relations=[rel] if rel else [],
        heads=_heads(rec),
        meta=meta,
        **extra,
    )
    return doc.validate()


@READERS.register("tacred")
def read(path: str | Path, report: ReadReport | None = None, **kwargs: Any) -> Iterator[Document]:
    """Yield Documents from a TACRED-style JSON list (plain or .gz)."""
    for i, rec in enumerate(load_json_list(path, "TACRED"), 1):
        with record_context(path, record_where(i, rec.get("id") if isinstance(rec, dict) else None), report):
            yield parse_record(rec, i)


def relation_label(doc: Document, negative: str) -> str:
    """TACRED ``relation`` of a sentence-level Document; reversed pairs get an ``(e2,e1)`` suffix."""
    return sentence_label(doc, negative, always_directed=False)


def to_record(doc: Document, negative: str | None = None, ptb_brackets: bool = True) -> dict[str, Any]:
    """Document -> TACRED record (inclusive ends; stanford_* only when present)."""
    if len(doc.entities) != 2:
        raise RelxInputError(f"document {doc.id!r} has {len(doc.entities)} entities; TACRED holds exactly 2 (subject, object)")
    subj, obj = doc.entities
    (a, b), (c, d) = (subj.start, subj.end), (obj.start, obj.end)
    if a < c < b < d or c < a < d < b:
        raise RelxInputError(f"document {doc.id!r}: subject [{a}, {b}) and object [{c}, {d}) cross, which the TACRED reader refuses")
    for i, tok in enumerate(doc.tokens):
        if tok in PTB_BRACKETS:
            raise RelxInputError(
                f"document {doc.id!r}: token {i} {tok!r} would read back as {PTB_BRACKETS[tok]!r} (the TACRED reader turns PTB "
                "bracket tokens into brackets); replace it by the bracket to write it"
            )
    rec: dict[str, Any] = {"id": doc.id}
    if "docid" in doc.meta:
        rec["docid"] = doc.meta["docid"]
    rec["relation"] = relation_label(doc, negative or doc.meta.get("negative", "no_relation"))
    if doc.relations:
        r, back = doc.relations[0], _relation(rec["relation"])
        if back is None or relation_label(Document(doc.id, doc.tokens, doc.entities, [back]), "") != rec["relation"]:
            raise RelxInputError(f"document {doc.id!r}: relation label {r.label!r} would not read back as the same relation")
    rec["token"] = [_TO_PTB.get(t, t) for t in doc.tokens] if ptb_brackets else list(doc.tokens)
    rec.update(subj_start=subj.start, subj_end=subj.end - 1, obj_start=obj.start, obj_end=obj.end - 1)
    rec.update(subj_type=subj.label, obj_type=obj.label)
    for key, name in _TOKEN_FIELDS[:2]:
        if getattr(doc, name) is not None:
            rec[key] = list(getattr(doc, name))
    if doc.heads is not None:
        rec["stanford_head"] = list(doc.heads)
    if doc.deprels is not None:
        rec["stanford_deprel"] = list(doc.deprels)
    return rec


@WRITERS.register("tacred")
def write(path: str | Path, docs: Iterable[Document], negative: str | None = None, ptb_brackets: bool = True, **kwargs: Any) -> int:
    """Atomically write a TACRED JSON list. ``negative`` names the no-relation label
    (default: the document's original negative name, else "no_relation")."""
    records = []
    for i, doc in enumerate(docs, 1):
        with record_context(path, record_where(i, doc.id)):
            records.append(to_record(doc, negative, ptb_brackets))
    write_text(path, json.dumps(records, ensure_ascii=False) + "\n")
    return len(records)
