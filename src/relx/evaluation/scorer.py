"""One scorer: sentence-level pair labels (TACRED / SemEval official), triples and joint NER+RE.

All values are fractions in [0, 1]. Documents are scored either sentence-level (schemes ``tacred``,
``semeval``: one pair label per document, which must have exactly two entities with the same spans on
both sides and at most one relation; :mod:`relx.evaluation.pair_labels`), relation-level (scheme
``relations``: every relation of every document is a (head span, label, tail span) triple; missing ones
are false negatives, extra ones false positives; :mod:`relx.evaluation.triples`) or as joint entity +
relation extraction (scheme ``joint``: ``score_joint``, the SpERT settings; :mod:`relx.evaluation.joint`).
The maths shared by all lives in :mod:`relx.evaluation.metrics`, the text reports in
:mod:`relx.evaluation.report`; this module dispatches on the scheme and re-exports their public names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.evaluation.joint import joint_entities, joint_relations, score_joint
from relx.evaluation.metrics import (
    DOCUMENT_SCHEMES,
    JOINT_SCHEME,
    RELATION_SCHEME,
    SCHEME_METRICS,
    SCHEMES,
    TRIPLE_SCHEME,
    align_documents,
    scheme_metrics,
)
from relx.evaluation.pair_labels import document_pair_labels, official_semeval, score_labels
from relx.evaluation.report import JOINT_ROWS, format_report, text_table
from relx.evaluation.triples import TRIPLE_MODES, relation_triples, score_relations, score_triples

__all__ = [
    "score_labels",
    "official_semeval",
    "document_pair_labels",
    "score_documents",
    "score_relations",
    "score_triples",
    "score_joint",
    "format_report",
    "scheme_metrics",
    "align_documents",
    "relation_triples",
    "joint_entities",
    "joint_relations",
    "text_table",
    "SCHEMES",
    "RELATION_SCHEME",
    "JOINT_SCHEME",
    "TRIPLE_SCHEME",
    "DOCUMENT_SCHEMES",
    "SCHEME_METRICS",
    "TRIPLE_MODES",
    "JOINT_ROWS",
]


def score_documents(
    gold: Iterable[Document],
    pred: Iterable[Document],
    labels_or_negative: LabelSet | str = "no_relation",
    scheme: str = "tacred",
    gold_name: str = "gold",
    pred_name: str = "pred",
    symmetric: Iterable[str] = (),
) -> dict[str, Any]:
    """Score predicted Documents against gold Documents (aligned by id).

    ``tacred`` / ``semeval``: sentence-level pair labels via LabelSet semantics (documents with
    exactly two entities, same spans, at most one relation). ``relations``: every relation by spans.
    ``joint``: ``score_joint`` (NER, RE boundaries, RE strict; ``symmetric`` relation types ignore
    argument order; the negative label is not used).
    """
    negative = labels_or_negative.negative if isinstance(labels_or_negative, LabelSet) else str(labels_or_negative)
    if scheme == JOINT_SCHEME:
        return score_joint(gold, pred, symmetric, gold_name, pred_name)
    if scheme == RELATION_SCHEME:
        return score_relations(gold, pred, negative, gold_name, pred_name)
    if scheme not in SCHEMES:
        raise RelxInputError(f"unknown scheme {scheme!r} (choose from {', '.join(DOCUMENT_SCHEMES)})")
    _, g, p = document_pair_labels(gold, pred, labels_or_negative, scheme, gold_name, pred_name)
    return score_labels(g, p, negative, scheme)
