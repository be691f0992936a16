"""Negative under-sampling and two-stage (detection / classification) splits of sentence-level data."""

from __future__ import annotations

import random

from relx.data.labels import LabelSet
from relx.data.schema import Document


def is_negative(doc: Document, labels: LabelSet) -> bool:
    """True when the (e1, e2) pair carries the negative label (no relation)."""
    return labels.pair_label(doc) == labels.negative


def undersample_negatives(docs: list[Document], labels: LabelSet, max_ratio: float, seed: int) -> list[Document]:
    """Keep every positive and at most ``max_ratio`` x #positives negatives (seeded draw, order kept)."""
    if max_ratio < 0:
        raise ValueError(f"max_ratio must be >= 0, got {max_ratio}")
    neg_idx = [i for i, d in enumerate(docs) if is_negative(d, labels)]
    n_pos = len(docs) - len(neg_idx)
    cap = int(max_ratio * n_pos)
    if len(neg_idx) <= cap:
        return list(docs)
    keep = set(random.Random(seed).sample(neg_idx, cap))
    negs = set(neg_idx)
    return [d for i, d in enumerate(docs) if i not in negs or i in keep]


def two_stage_split(docs: list[Document], labels: LabelSet) -> tuple[list[Document], list[Document]]:
    """(all documents, relation-bearing documents): training sets of a detector and of a classifier."""
    return list(docs), [d for d in docs if not is_negative(d, labels)]
