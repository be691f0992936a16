"""Error analysis: paired bootstrap significance, sentence-length buckets and joint-extraction buckets.

Joint extraction (two-phase span paper, Figures 3-4): NER F1 by entity length and RE F1 by entity
distance, each in fixed intervals; ``joint_bootstrap`` compares the micro-F1 of two systems.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.evaluation.metrics import prf


def _object_array(items: Sequence[Any]) -> np.ndarray:
    arr = np.empty(len(items), dtype=object)
    for i, x in enumerate(items):
        arr[i] = x
    return arr


def paired_bootstrap(
    gold: Sequence[Any],
    pred_a: Sequence[Any],
    pred_b: Sequence[Any],
    metric_fn: Callable[[list, list], float],
    n: int = 1000,
    seed: int = 0,
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
        "metric_a": metric_a,
        "metric_b": metric_b,
        "diff": metric_a - metric_b,
        "mean_diff": float(diffs.mean()),
        "ci_low": float(np.percentile(diffs, 2.5)),
        "ci_high": float(np.percentile(diffs, 97.5)),
        "p_value": float((diffs <= 0).mean()),
        "n": n,
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


# --- joint extraction: F1 by entity length / entity distance, paired bootstrap -------------------------
Bucket = tuple[int, int | None]
LENGTH_BUCKETS: tuple[Bucket, ...] = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10))
DISTANCE_BUCKETS: tuple[Bucket, ...] = ((0, 0), (1, 3), (4, 6), (7, 9), (10, None))
JOINT_TASKS = ("ner", "re_boundaries", "re_strict")


def bucket_label(bucket: Bucket) -> str:
    """'3-4', '0' (one value) or '>=10' (open upper end)."""
    lo, hi = bucket
    return f">={lo}" if hi is None else str(lo) if lo == hi else f"{lo}-{hi}"


def _check_buckets(buckets: Sequence[Bucket]) -> list[Bucket]:
    buckets = [tuple(b) for b in buckets]  # type: ignore[misc]
    for b in buckets:
        if len(b) != 2 or not isinstance(b[0], int) or not (b[1] is None or (isinstance(b[1], int) and b[1] >= b[0])):
            raise RelxInputError(f"bucket {b!r} must be (lo, hi) with integers lo <= hi, or hi None for no upper end")
    return buckets  # type: ignore[return-value]


def _bucket_of(value: int, buckets: Sequence[Bucket]) -> int | None:
    for i, (lo, hi) in enumerate(buckets):
        if value >= lo and (hi is None or value <= hi):
            return i
    return None


def _bucket_rows(pairs: Iterable[tuple[set, set]], measure: Callable[[Any], int], buckets: Sequence[Bucket]) -> list[dict[str, Any]]:
    """Rows ``{bucket, lo, hi, p, r, f1, gold, predicted, correct}``: every tuple counts in the bucket of ``measure(tuple)``
    (tuples outside all buckets count nowhere); a correct tuple is in gold and predicted alike."""
    buckets = _check_buckets(buckets)
    counts = np.zeros((len(buckets), 3), dtype=np.int64)  # gold, predicted, correct
    for gold, pred in pairs:
        for col, tuples in ((0, gold), (1, pred), (2, gold & pred)):
            for t in tuples:
                i = _bucket_of(measure(t), buckets)
                if i is not None:
                    counts[i, col] += 1
    rows = []
    for (lo, hi), (g, n_pred, ok) in zip(buckets, counts.tolist()):
        p, r, f1 = prf(ok, n_pred, g)
        rows.append(
            {"bucket": bucket_label((lo, hi)), "lo": lo, "hi": hi, "p": p, "r": r, "f1": f1, "gold": g, "predicted": n_pred, "correct": ok}
        )
    return rows


def entity_distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Tokens strictly between two spans (exclusive ends); 0 when they touch or overlap."""
    return max(0, max(a[0], b[0]) - min(a[1], b[1]))


def ner_f1_by_entity_length(
    gold_docs: Iterable[Document],
    pred_docs: Iterable[Document],
    buckets: Sequence[Bucket] = LENGTH_BUCKETS,
) -> list[dict[str, Any]]:
    """NER P/R/F1 per entity-length interval (tokens; paper Fig. 3): a gold entity counts in the bucket of its
    length, a predicted one in the bucket of its own; correct = same span and type. Documents aligned by id."""
    from relx.evaluation.joint import joint_entities
    from relx.evaluation.metrics import align_documents

    pairs = [(joint_entities(g), joint_entities(p)) for g, p in align_documents(gold_docs, pred_docs)]
    return _bucket_rows(pairs, lambda t: t[1] - t[0], buckets)


def re_f1_by_distance(
    gold_docs: Iterable[Document],
    pred_docs: Iterable[Document],
    buckets: Sequence[Bucket] = DISTANCE_BUCKETS,
    strict: bool = True,
    symmetric: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """RE P/R/F1 per entity-distance interval (tokens strictly between the two arguments; paper Fig. 4).
    ``strict``: entity types must match too (else boundaries); ``symmetric``: as in ``score_joint``."""
    from relx.evaluation.joint import joint_relations
    from relx.evaluation.metrics import align_documents

    symmetric = set(symmetric)
    pairs = [
        (joint_relations(g, strict, symmetric), joint_relations(p, strict, symmetric)) for g, p in align_documents(gold_docs, pred_docs)
    ]
    return _bucket_rows(pairs, lambda t: entity_distance(t[0][:2], t[1][:2]), buckets)


def joint_counts(
    gold_docs: Iterable[Document], pred_docs: Iterable[Document], task: str = "re_strict", symmetric: Iterable[str] = ()
) -> np.ndarray:
    """Per-document ``[correct, predicted, gold]`` tuple counts (rows in gold order) for ``task`` in JOINT_TASKS."""
    from relx.evaluation.joint import joint_entities, joint_relations
    from relx.evaluation.metrics import align_documents

    if task not in JOINT_TASKS:
        raise RelxInputError(f"unknown joint task {task!r} (choose from {', '.join(JOINT_TASKS)})")
    symmetric = set(symmetric)

    def tuples(doc: Document) -> set:
        return joint_entities(doc) if task == "ner" else joint_relations(doc, task == "re_strict", symmetric)

    rows = []
    for g, p in align_documents(gold_docs, pred_docs):
        gs, ps = tuples(g), tuples(p)
        rows.append((len(gs & ps), len(ps), len(gs)))
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def _micro_f1(gold: list, pred: list) -> float:
    """Micro F1 = 2 * correct / (predicted + gold) from per-document gold counts and (correct, predicted) pairs."""
    total = sum(gold) + sum(x[1] for x in pred)
    return 2.0 * sum(x[0] for x in pred) / total if total else 0.0


def joint_bootstrap(
    gold_docs: Sequence[Document],
    pred_a: Sequence[Document],
    pred_b: Sequence[Document],
    task: str = "re_strict",
    n: int = 1000,
    seed: int = 0,
    symmetric: Iterable[str] = (),
) -> dict[str, Any]:
    """Paired bootstrap over documents that system A beats B in ``task`` micro-F1 (``paired_bootstrap`` semantics).

    Tuple counts are computed once per document, so a resample only sums integers (300 documents x 1000
    resamples take well under a second).
    """
    gold_docs, symmetric = list(gold_docs), set(symmetric)
    a = joint_counts(gold_docs, pred_a, task, symmetric)
    b = joint_counts(gold_docs, pred_b, task, symmetric)
    gold = a[:, 2].tolist()
    out: dict[str, Any] = paired_bootstrap(
        gold, [tuple(r) for r in a[:, :2].tolist()], [tuple(r) for r in b[:, :2].tolist()], _micro_f1, n=n, seed=seed
    )
    return {"task": task, "metric": f"{task}_micro_f1", "documents": len(gold), **out}
