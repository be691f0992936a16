"""The one triple definition: a relation as ``(head key, relation type, tail key)``.

``listed_triples`` is shared by the scorer (``relx evaluate``: keys are spans, first or last tokens,
as sets per document), ``relx data stats`` and ``relx evaluate --analysis overlap`` (the sentence
structure: keys are the entity TEXTS and every triple the source listed counts, repeats and the
triples the reader could not locate in ``meta`` included). The structure counting is CopyRE's
(Zeng et al. 2018), which CasRel and the kernel-matrix paper report: it reproduces the published
WebNLG* test counts Normal 246 / EPO 26 / SEO 457 (span keys without the listed repeats gave 262 / 18 / 439).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from relx.data.labels import split_directed
from relx.data.schema import Document, Entity
from relx.errors import RelxInputError

TRIPLE_MODES = ("exact", "partial", "partial_last")
TEXT = "text"
LISTED_KEYS = ("unlocated_triples", "duplicate_triples")  # ``meta`` lists of [head text, label, tail text] (casrel reader)


def entity(doc: Document, idx: int) -> Entity:
    """Entity ``idx`` of ``doc``; RelxInputError when a relation argument points outside the entity list."""
    if not 0 <= idx < len(doc.entities):
        raise RelxInputError(f"document {doc.id!r}: relation argument {idx} does not index one of {len(doc.entities)} entities")
    return doc.entities[idx]


def _key(doc: Document, idx: int, mode: str) -> Any:
    e = entity(doc, idx)
    if mode == TEXT:
        return doc.span_text(idx)
    return {"exact": (e.start, e.end), "partial": (e.start,), "partial_last": (e.end - 1,)}[mode]


def listed_triples(doc: Document, negative: str | None = None, mode: str = "exact") -> list[tuple[Any, str, Any]]:
    """Every ``(head key, relation type, tail key)`` of ``doc`` in order, repeats kept.

    Keys: spans (``exact``), first tokens (``partial``), last tokens (``partial_last``) or entity texts
    (``text``, which also lists the source's unlocated and repeated triples kept in ``meta``). A directed
    pair label ``T(e2,e1)`` on the pair of entities 0 and 1 becomes type T from entities[1] to
    entities[0]; ``negative``-labelled relations are dropped."""
    out = []
    for r in doc.relations:
        if r.label == negative:
            continue
        head, tail, label = r.head, r.tail, r.label
        rtype, reverse = split_directed(label)
        if reverse is not None and {head, tail} == {0, 1}:
            head, tail, label = (1, 0, rtype) if reverse else (0, 1, rtype)
        out.append((_key(doc, head, mode), label, _key(doc, tail, mode)))
    if mode == TEXT:
        for name in LISTED_KEYS:
            out += [
                (str(t[0]), str(t[1]), str(t[2]))
                for t in doc.meta.get(name) or []
                if isinstance(t, (list, tuple)) and len(t) == 3 and t[1] != negative
            ]
    return out


def relation_triples(doc: Document, negative: str | None = None, mode: str = "exact") -> set[tuple]:
    """The distinct ``listed_triples`` of ``doc`` (what the scorer matches)."""
    return set(listed_triples(doc, negative, mode))


def overlap_class(trips: Iterable[tuple]) -> set[str]:
    """CopyRE's categories (Zeng et al. 2018; the counts CasRel and the kernel-matrix paper report):
    {'Normal'} when no entity occurs in two triples; else 'EPO' when an ORDERED entity pair occurs in
    two triples (a repeated triple counts) and/or 'SEO' when two distinct ordered pairs share an entity
    (so (a, b) + (b, a) is SEO). Triples are (head, tail, label) with hashable entities; empty set for none."""
    pairs = [(t[0], t[1]) for t in trips]
    if not pairs:
        return set()
    mentions = [e for p in pairs for e in p]
    if len(set(mentions)) == len(mentions):
        return {"Normal"}
    found: set[str] = set()
    if len(set(pairs)) != len(pairs):
        found.add("EPO")
    distinct = set(pairs)
    if len({e for p in distinct for e in p}) != 2 * len(distinct):
        found.add("SEO")
    return found


def sentence_structure(doc: Document, negative: str | None = None) -> tuple[set[str], int]:
    """The overlap classes of ``doc`` (``overlap_class`` of its text-keyed listed triples) and its number of distinct triples."""
    listed = listed_triples(doc, negative, TEXT)
    return overlap_class([(h, t, label) for h, label, t in listed]), len(set(listed))
