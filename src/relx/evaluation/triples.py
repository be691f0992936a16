"""Relation-level scores: every relation is a (head key, relation type, tail key) triple.

``score_relations`` (scheme ``relations``) matches exact spans and drops negative-labelled relations;
``score_triples`` (CasRel / kernel-matrix papers) also offers first-token and last-token matching.
The triples themselves are :func:`relx.data.triples.relation_triples` (the one definition).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from relx.data.schema import Document
from relx.data.triples import TRIPLE_MODES, relation_triples
from relx.errors import RelxInputError
from relx.evaluation.metrics import RELATION_SCHEME, TRIPLE_SCHEME, align_documents, record, record_index, set_scores


def check_mode(mode: str) -> None:
    """RelxInputError unless ``mode`` is one of ``TRIPLE_MODES``."""
    if mode not in TRIPLE_MODES:
        raise RelxInputError(f"unknown triple match mode {mode!r} (choose from {', '.join(TRIPLE_MODES)})")


def score_relations(
    gold: Iterable[Document],
    pred: Iterable[Document],
    negative: str = "no_relation",
    gold_name: str = "gold",
    pred_name: str = "pred",
) -> dict[str, Any]:
    """Relation-level P/R/F1 over (head span, label, tail span) of every relation of every document.

    Documents are aligned by id; entities are compared by span, so predictions may carry other
    entities. Each gold relation the prediction lacks is a false negative, each extra predicted
    relation a false positive. Micro over all relations; macro over the relation types seen.
    """
    gold, pred = list(gold), list(pred)
    aligned = align_documents(gold, pred, gold_name, pred_name)
    g_index, p_index = record_index(gold), record_index(pred)
    pairs = []
    for g, p in aligned:
        try:
            g_set = relation_triples(g, negative)
        except RelxInputError as exc:
            raise exc.at(gold_name, record(g_index[g.id])) from None
        try:
            p_set = relation_triples(p, negative)
        except RelxInputError as exc:
            raise exc.at(pred_name, record(p_index[p.id])) from None
        pairs.append((g_set, p_set))
    out = set_scores("", pairs, type_of=lambda t: t[1])
    return {"scheme": RELATION_SCHEME, "negative": negative, "mode": "exact", "n": len(pairs), **out}


def score_triples(gold_docs: Iterable[Document], pred_docs: Iterable[Document], mode: str = "exact") -> dict[str, Any]:
    """Relational-triple P/R/F1 (head span, relation label, tail span); duplicates count once per document.

    ``exact``: both entity spans match exactly. ``partial``: only the FIRST token of each entity must
    match, as CasRel's ``partial_match`` (weizhepei/CasRel utils.py) keeps the first word of each
    entity string; on NYT*/WebNLG*, where only the last word of an entity is annotated, gold entities
    are single tokens. ``partial_last``: only the LAST token of each entity must match.
    """
    check_mode(mode)
    pairs = [(relation_triples(g, None, mode), relation_triples(p, None, mode)) for g, p in align_documents(gold_docs, pred_docs)]
    out = set_scores("", pairs, type_of=lambda t: t[1])
    return {"scheme": TRIPLE_SCHEME, "mode": mode, "n": len(pairs), **out}
