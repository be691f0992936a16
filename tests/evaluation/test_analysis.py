"""Bootstrap significance, length buckets and the plots."""

from __future__ import annotations

import random

import pytest

from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.evaluation.analysis import length_buckets, paired_bootstrap
from relx.evaluation.plots import bucket_plot_png, confusion_matrix_png
from relx.evaluation.regimes import bucket_rows
from relx.evaluation.scorer import score_labels

N = "no_relation"


def micro_f1(gold: list[str], pred: list[str]) -> float:
    return score_labels(gold, pred, N)["micro_f1"]


def _labels(size: int = 200, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(["per:title", "org:founded", N, N]) for _ in range(size)]


def test_bootstrap_identical_systems_not_significant():
    gold = _labels()
    pred = [g if i % 3 else N for i, g in enumerate(gold)]
    out = paired_bootstrap(gold, pred, list(pred), micro_f1, n=200, seed=0)
    assert out["p_value"] == 1.0  # A is never better than itself
    assert out["diff"] == 0.0 and out["mean_diff"] == 0.0 and out["ci_low"] == 0.0 == out["ci_high"]


def test_bootstrap_clearly_better_system_is_significant():
    gold = _labels()
    better = list(gold)
    worse = [g if i % 2 else N for i, g in enumerate(gold)]  # misses about half of the positives
    out = paired_bootstrap(gold, better, worse, micro_f1, n=300, seed=0)
    assert out["metric_a"] == 1.0 and out["diff"] > 0.2
    assert out["p_value"] < 0.05 and out["ci_low"] > 0
    reverse = paired_bootstrap(gold, worse, better, micro_f1, n=300, seed=0)
    assert reverse["p_value"] > 0.95
    assert paired_bootstrap(gold, better, worse, micro_f1, n=300, seed=0) == out  # seeded


def test_bootstrap_rejects_misaligned_inputs():
    with pytest.raises(RelxInputError):
        paired_bootstrap([N, N], [N], [N, N], micro_f1)


def test_length_buckets_equal_count():
    lengths = [5, 1, 9, 3, 7, 2, 8, 4, 6, 10]
    buckets = length_buckets(lengths, n_buckets=5)
    # sorted lengths 1..10 cut into 5 groups of 2: (1,2) at indices 1,5; (3,4) at 3,7; (5,6) at 0,8; ...
    assert [(lo, hi) for lo, hi, _ in buckets] == [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)]
    assert buckets[0][2] == [1, 5] and buckets[2][2] == [0, 8]
    sizes = [len(ix) for *_, ix in length_buckets(list(range(1, 12)), n_buckets=5)]
    assert sizes == [3, 2, 2, 2, 2]  # 11 items: sizes differ by at most one
    assert len(length_buckets([3, 4], n_buckets=5)) == 2  # empty groups dropped
    docs = [Document(str(i), ["w"] * n) for i, n in enumerate(lengths)]
    assert length_buckets(docs, 5) == buckets


def _docs(n: int) -> tuple[list[Document], list[Document]]:
    gold, pred = [], []
    for i in range(n):
        ents = [Entity(0, 1, "PER"), Entity(1, 2, "ORG")]
        tokens = ["w"] * (2 + i)
        gold.append(Document(str(i), tokens, ents, [Relation(0, 1, "per:title")] if i % 2 else []))
        pred.append(Document(str(i), tokens, ents, [Relation(0, 1, "per:title")] if i % 4 == 1 else []))
    return gold, pred


def test_bucket_scores_and_plots(tmp_path):
    gold, pred = _docs(20)
    rows = bucket_rows(gold, pred, N, "tacred", n_buckets=4)
    assert [r["n"] for r in rows] == [5, 5, 5, 5]
    assert rows[0]["lo"] == 2 and rows[-1]["hi"] == 21
    assert all(0.0 <= r["micro_f1"] <= 1.0 for r in rows)
    png = bucket_plot_png(rows, tmp_path / "plots" / "buckets.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cm = confusion_matrix_png(["a", "b", "a"], ["a", "a", "b"], tmp_path / "cm.png")
    assert cm.read_bytes()[:4] == b"\x89PNG"
    assert not [p for p in tmp_path.rglob("*.tmp")]  # atomic writes leave no temp files
