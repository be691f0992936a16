"""Joint entity + relation extraction scores (scheme ``joint``, the SpERT settings)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from relx.data.schema import Document
from relx.data.triples import entity
from relx.errors import RelxInputError
from relx.evaluation.metrics import JOINT_SCHEME, align_documents, record, record_index, set_scores


def _entity_key(doc: Document, idx: int, typed: bool) -> tuple:
    e = entity(doc, idx)
    return (e.start, e.end, e.label if typed else None)


def _names(names: Iterable[str]) -> set[str]:
    """A set of relation type names (a single string is one name)."""
    return {names} if isinstance(names, str) else set(names)


def joint_entities(doc: Document) -> set[tuple[int, int, str]]:
    """``{(start, end, type)}`` of the document's entities (the NER tuples of ``score_joint``)."""
    return {(e.start, e.end, e.label) for e in doc.entities}


def joint_relations(doc: Document, typed: bool, symmetric: Iterable[str] = ()) -> set[tuple]:
    """``{(head key, tail key, label)}`` with entity key ``(start, end, type)`` (type None unless ``typed``);
    for a ``symmetric`` label the two keys are sorted, so both argument orders give the same tuple."""
    symmetric = symmetric if isinstance(symmetric, (set, frozenset)) else _names(symmetric)
    out = set()
    for r in doc.relations:
        head, tail = _entity_key(doc, r.head, typed), _entity_key(doc, r.tail, typed)
        if r.label in symmetric and tail < head:
            head, tail = tail, head
        out.add((head, tail, r.label))
    return out


def score_joint(
    gold_docs: Iterable[Document],
    pred_docs: Iterable[Document],
    symmetric: Iterable[str] = (),
    gold_name: str = "gold",
    pred_name: str = "pred",
) -> dict[str, Any]:
    """Joint entity + relation extraction in the three SpERT settings (lavis-nlp/spert evaluator.py).

    ``ner_*``: an entity is correct when span and type match. ``re_boundaries_*``: a relation is
    correct when the relation type and both entity spans match (entity types ignored).
    ``re_strict_*``: also both entity types must match. Micro over all tuples; macro averages the
    per-type P/R/F1 over the types that occur in gold or predictions. For a ``symmetric`` relation
    type the argument order is canonicalised (sorted by entity key) on both sides before matching,
    so a reversed prediction is correct (SpERT's ``_adjust_rel``); tuples are sets per document.
    """
    gold_docs, pred_docs = list(gold_docs), list(pred_docs)
    pairs = align_documents(gold_docs, pred_docs, gold_name, pred_name)
    symmetric = _names(symmetric)
    index = {gold_name: record_index(gold_docs), pred_name: record_index(pred_docs)}

    def rels(doc: Document, typed: bool, name: str) -> set[tuple]:
        try:
            return joint_relations(doc, typed, symmetric)
        except RelxInputError as exc:
            raise exc.at(name, record(index[name][doc.id])) from None

    ents = [(joint_entities(g), joint_entities(p)) for g, p in pairs]
    out: dict[str, Any] = {"scheme": JOINT_SCHEME, "n": len(pairs), "symmetric": sorted(symmetric)}
    out.update(set_scores("ner_", ents, type_of=lambda t: t[2]))
    for setting, typed in (("boundaries", False), ("strict", True)):
        sets = [(rels(g, typed, gold_name), rels(p, typed, pred_name)) for g, p in pairs]
        out.update(set_scores(f"re_{setting}_", sets, type_of=lambda t: t[2]))
    return out
