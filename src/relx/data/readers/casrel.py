"""CasRel triples JSON: a list of ``{"text": "space tokenized", "triple_list": [[subj, rel, obj], ...]}``.

Entities are given as strings only; each triple's subject and object are located as token
subsequences of the text, preferring the pair of occurrences closest to each other. Triples that
cannot be located are kept in ``doc.meta["unlocated_triples"]`` and counted in the report; a triple
listed again is stored once and its repeats are kept in ``doc.meta["duplicate_triples"]``.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from relx.data.io import ReadReport, check_split_tokens, load_json_list, record_context, record_where, require, write_text
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.registry import READERS, WRITERS

ENTITY_LABEL = "ENTITY"
Span = tuple[int, int]


def occurrences(tokens: list[str], phrase: list[str]) -> list[int]:
    """Start positions of ``phrase`` as a contiguous token subsequence of ``tokens``."""
    n = len(phrase)
    if n == 0:
        return []
    return [i for i in range(len(tokens) - n + 1) if tokens[i : i + n] == phrase]


def _cost(a: Span, b: Span) -> tuple[int, int, int, int]:
    overlap = a[0] < b[1] and b[0] < a[1]
    gap = max(0, b[0] - a[1], a[0] - b[1])
    return (int(overlap), gap, a[0], b[0])


def fold(text: str) -> str:
    """Lower-case ``text`` and strip diacritics ('Cancún' -> 'cancun')."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def locate_pair(tokens: list[str], subj: str, obj: str) -> tuple[Span, Span] | None:
    """Token spans of ``subj`` and ``obj``: the pair of occurrences nearest each other (non-overlapping first)."""
    s_toks, o_toks = subj.split(), obj.split()
    return _nearest(tokens, s_toks, o_toks)


def _nearest(tokens: list[str], s_toks: list[str], o_toks: list[str]) -> tuple[Span, Span] | None:
    s_spans = [(i, i + len(s_toks)) for i in occurrences(tokens, s_toks)]
    o_spans = [(j, j + len(o_toks)) for j in occurrences(tokens, o_toks)]
    if not s_spans or not o_spans:
        return None
    return min(((a, b) for a in s_spans for b in o_spans), key=lambda p: _cost(*p))


def _triple(t: Any, k: int) -> tuple[str, str, str]:
    if not (isinstance(t, list) and len(t) == 3 and all(isinstance(x, str) for x in t)):
        raise RelxInputError(f"triple {k} must be a list of 3 strings [subject, relation, object]")
    return t[0], t[1], t[2]


def locate_folded(tokens: list[str], subj: str, obj: str) -> tuple[Span, Span] | None:
    """``locate_pair`` ignoring case and diacritics (NYT writes 'Cancún' for the text's 'Cancun')."""
    return _nearest([fold(t) for t in tokens], fold(subj).split(), fold(obj).split())


def parse_record(rec: Any, index: int, stats: dict[str, int], fold_accents: bool = True) -> Document:
    """One CasRel record -> Document with deduplicated entities and relations; updates ``stats``."""
    tokens = require(rec, "text", str).split()
    ents: dict[Span, int] = {}
    rels: list[Relation] = []
    unlocated: list[list[str]] = []
    repeated: list[list[str]] = []
    for k, t in enumerate(require(rec, "triple_list", list)):
        subj, label, obj = _triple(t, k)
        stats["triples"] += 1
        pair = locate_pair(tokens, subj, obj)
        if pair is None and fold_accents and (pair := locate_folded(tokens, subj, obj)):
            stats["folded"] += 1
        if pair is None:
            unlocated.append([subj, label, obj])
            continue
        head, tail = (ents.setdefault(span, len(ents)) for span in pair)
        rel = Relation(head, tail, label)
        if rel in rels:
            stats["duplicates"] += 1
            repeated.append([subj, label, obj])
        else:
            rels.append(rel)
    stats["unlocated"] += len(unlocated)
    entities = [Entity(s, e, ENTITY_LABEL) for (s, e) in ents]
    meta: dict[str, Any] = {"unlocated_triples": unlocated} if unlocated else {}
    if repeated:
        meta["duplicate_triples"] = repeated  # listed again in the source; kept for CopyRE's overlap categories
    return Document(id=str(index - 1), tokens=tokens, entities=entities, relations=rels, meta=meta).validate()


def read_with_report(
    path: str | Path, fold_accents: bool = True, report: ReadReport | None = None
) -> tuple[list[Document], dict[str, int]]:
    """All Documents of a CasRel file and counts {documents, triples, unlocated, folded, duplicates}.

    ``folded``: triples located only when ignoring case and diacritics (``fold_accents``).
    ``duplicates``: repeated identical triples, stored once. Prints one summary line to stderr
    when some triples could not be located. ``report``: invalid-record policy (see ``io.read``).
    """
    stats = {"documents": 0, "triples": 0, "unlocated": 0, "folded": 0, "duplicates": 0}
    docs = []
    for i, rec in enumerate(load_json_list(path, "CasRel"), 1):
        with record_context(path, record_where(i), report):
            docs.append(parse_record(rec, i, stats, fold_accents))
    stats["documents"] = len(docs)
    if stats["unlocated"]:
        print(f"casrel: {stats['unlocated']} of {stats['triples']} triples could not be located in {path}", file=sys.stderr)
    return docs, stats


@READERS.register("casrel")
def read(path: str | Path, fold_accents: bool = True, report: ReadReport | None = None, **kwargs: Any) -> Iterator[Document]:
    """Yield Documents from a CasRel triples file (see ``read_with_report`` for the counts)."""
    return iter(read_with_report(path, fold_accents, report)[0])


def to_record(doc: Document) -> dict[str, Any]:
    """Document -> CasRel record (entity strings from tokens; unlocated and repeated triples kept).

    Raises RelxInputError (unlocated) for a token that is empty or holds whitespace: ``text`` is split on
    whitespace when read, so such a token would be lost or cut. What the format holds (and a round trip
    keeps): the tokens and each relation as (head text, label, tail text); not ids, entity types, entities
    outside a relation, or which of several equal strings an entity was.
    """
    check_split_tokens(doc, "casrel")
    triples = [[doc.span_text(r.head), r.label, doc.span_text(r.tail)] for r in doc.relations]
    triples += [list(t) for t in doc.meta.get("duplicate_triples", [])]
    triples += [list(t) for t in doc.meta.get("unlocated_triples", [])]
    return {"text": " ".join(doc.tokens), "triple_list": triples}


@WRITERS.register("casrel")
def write(path: str | Path, docs: Iterable[Document], **kwargs: Any) -> int:
    """Atomically write a CasRel triples JSON list; returns the count."""
    records = []
    for i, doc in enumerate(docs, 1):
        with record_context(path, record_where(i, doc.id)):
            records.append(to_record(doc))
    write_text(path, json.dumps(records, ensure_ascii=False, indent=4) + "\n")
    return len(records)
