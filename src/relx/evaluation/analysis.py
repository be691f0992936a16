"""Error analysis: paired bootstrap significance and sentence-length buckets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from relx.data.schema import Document
from relx.errors import RelxInputError


def _object_array(items: Sequence[Any]) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        arr[i] = x
    return arr


def paired_bootstrap(
    gold: Sequence[Any], pred_a: Sequence[Any], pred_b: Sequence[Any], metric_fn: Callable[[list, list], float],
    n: int = 1000, seed: int = 0,
) -> dict[str, float]:
    """Paired bootstrap test (Koehn, 2004) that system A beats system B under ``metric_fn(gold, pred)``.

    Draws ``n`` resamples of the test items with replacement (the same items for both systems).
    ``p_value`` is the share of resamples where A is *not* better (diff <= 0): small values mean
    that A > B is unlikely to be chance; identical systems give 1.0. ``ci_low``/``ci_high`` are
    the 2.5 / 97.5 percentiles of the resampled difference A - B.
    """
    size = len(gold)
    if not (size == len(pred_a) == len(pred_b)):
        raise RelxInputError(f"bootstrap needs aligned inputs: {size} gold, {len(pred_a)} A and {len(pred_b)} B items")
    if size == 0 or n < 1:
        raise RelxInputError("bootstrap needs at least one item and one resample")
    g, a, b = _object_array(gold), _object_array(pred_a), _object_array(pred_b)
    rng = np.random.default_rng(seed)
    diffs = np.empty(n)
    for i in range(n):
        idx = rng.integers(0, size, size=size)
        gi = g[idx].tolist()
        diffs[i] = metric_fn(gi, a[idx].tolist()) - metric_fn(gi, b[idx].tolist())
    metric_a, metric_b = float(metric_fn(list(gold), list(pred_a))), float(metric_fn(list(gold), list(pred_b)))
    return {
        "metric_a": metric_a, "metric_b": metric_b, "diff": metric_a - metric_b,
        "mean_diff": float(diffs.mean()), "ci_low": float(np.percentile(diffs, 2.5)), "ci_high": float(np.percentile(diffs, 97.5)),
        "p_value": float((diffs <= 0).mean()), "n": n,
    }


def length_buckets(docs: Sequence[Document | int], n_buckets: int = 5) -> list[tuple[int, int, list[int]]]:
    """Equal-count groups by number of tokens: ``[(lo, hi, indices), ...]`` from short to long.

    Items are sorted by length (stable) and cut into ``n_buckets`` groups whose sizes differ by at
    most one, so a length that straddles a cut appears in two neighbouring ranges. ``lo``/``hi``
    are the shortest and longest length inside a group (inclusive). Empty groups are dropped.
    """
    if n_buckets < 1:
        raise RelxInputError(f"n_buckets must be >= 1, got {n_buckets}")
    lengths = np.array([d if isinstance(d, (int, np.integer)) else len(d.tokens) for d in docs], dtype=np.int64)
    order = np.argsort(lengths, kind="stable")
    out = []
    for chunk in np.array_split(order, n_buckets):
        if chunk.size:
            out.append((int(lengths[chunk].min()), int(lengths[chunk].max()), sorted(int(i) for i in chunk)))
    return out
