"""SpERT JSON: a list of ``{tokens, entities: [{type, start, end}], relations: [{type, head, tail}], orig_id}``.

Entity ends are exclusive; relation head/tail index the record's entities. A types file
(``*_types.json``: {"entities": {...}, "relations": {...}}) fixes the allowed types.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from relx.data.io import ReadReport, load_json, load_json_list, record_context, record_where, require, string_list, write_text
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.registry import READERS, WRITERS

AUTO = "auto"


def find_types_file(path: str | Path) -> Path | None:
    """The sibling ``<prefix>_types.json[.gz]`` of a data file (``conll04_train.json`` -> ``conll04_types.json``)."""
    path = Path(path)
    candidates = sorted(p for p in [*path.parent.glob("*_types.json"), *path.parent.glob("*_types.json.gz")] if p != path)
    matching = [p for p in candidates if path.name.startswith(p.name.split("_types.json")[0] + "_")]
    if matching:
        return max(matching, key=lambda p: len(p.name))
    return candidates[0] if len(candidates) == 1 else None


def load_types(path: str | Path) -> tuple[set[str], set[str]]:
    """(entity types, relation types) of a SpERT types file."""
    data = load_json(path)
    try:
        return set(require(data, "entities", dict)), set(require(data, "relations", dict))
    except RelxInputError as exc:
        raise exc.at(path) from None


def _check_type(kind: str, label: str, allowed: set[str] | None, types_path: Path | None) -> None:
    if allowed is not None and label not in allowed:
        raise RelxInputError(f"unknown {kind} type {label!r} (not in {types_path.name if types_path else 'the types file'})")


def parse_record(rec: Any, index: int, types: tuple[set[str], set[str]] | None = None, types_path: Path | None = None) -> Document:
    """One SpERT record -> Document."""
    tokens = string_list(rec, "tokens")
    ents, rels = [], []
    for k, e in enumerate(require(rec, "entities", list)):
        where = f" of entity {k}"
        ents.append(Entity(require(e, "start", int, where), require(e, "end", int, where), require(e, "type", str, where)))
        _check_type("entity", ents[-1].label, types[0] if types else None, types_path)
    for k, r in enumerate(require(rec, "relations", list) if "relations" in rec else []):
        where = f" of relation {k}"
        rels.append(Relation(require(r, "head", int, where), require(r, "tail", int, where), require(r, "type", str, where)))
        _check_type("relation", rels[-1].label, types[1] if types else None, types_path)
    meta: dict[str, Any] = {}
    if rec.get("orig_id") is not None:
        meta["orig_id"] = rec["orig_id"]
    doc_id = str(rec["orig_id"]) if "orig_id" in meta else str(index - 1)
    return Document(id=doc_id, tokens=tokens, entities=ents, relations=rels, meta=meta).validate()


def _types_for(path: Path, types_path: str | Path | None) -> tuple[tuple[set[str], set[str]] | None, Path | None]:
    if types_path == AUTO:
        found = find_types_file(path)
        return (load_types(found), found) if found else (None, None)
    if types_path:
        return load_types(types_path), Path(types_path)
    return None, None


@READERS.register("spert")
def read(path: str | Path, types_path: str | Path | None = AUTO, report: ReadReport | None = None, **kwargs: Any) -> Iterator[Document]:
    """Yield Documents from a SpERT JSON list. ``types_path``: types file to validate against
    ("auto": the sibling ``*_types.json`` when there is one; None: no check)."""
    path = Path(path)
    types, tpath = _types_for(path, types_path)
    for i, rec in enumerate(load_json_list(path, "SpERT"), 1):
        with record_context(path, record_where(i, rec.get("orig_id") if isinstance(rec, dict) else None), report):
            yield parse_record(rec, i, types, tpath)


def to_record(doc: Document) -> dict[str, Any]:
    """Document -> SpERT record (``orig_id`` from meta, else the document id)."""
    return {
        "tokens": list(doc.tokens),
        "entities": [{"type": e.label, "start": e.start, "end": e.end} for e in doc.entities],
        "relations": [{"type": r.label, "head": r.head, "tail": r.tail} for r in doc.relations],
        "orig_id": doc.meta.get("orig_id", doc.id),
    }


@WRITERS.register("spert")
def write(path: str | Path, docs: Iterable[Document], **kwargs: Any) -> int:
    """Atomically write a SpERT JSON list; returns the count."""
    records = [to_record(d) for d in docs]
    write_text(path, json.dumps(records, ensure_ascii=False) + "\n")
    return len(records)
