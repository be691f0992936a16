"""Negative under-sampling of sentence-level data."""

from __future__ import annotations

import random

from relx.data.labels import LabelSet, is_negative
from relx.data.schema import Document


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
