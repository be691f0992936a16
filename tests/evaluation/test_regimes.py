"""Evaluation regimes (hand-computed): all data vs relation-only, classification tables, length buckets."""

from __future__ import annotations

import pytest

from conftest import N, docs_with
from relx.evaluation.regimes import (
    all_data_report,
    bucket_rows,
    classification_table,
    format_bucket_table,
    format_regime_tables,
    length_bucket_report,
    regime_tables,
    relation_only_report,
)

GOLD = ["A", "A", "B", N, N, N]
PRED = ["A", N, "B", "A", N, N]


def _row(report, kind):
    (row,) = [r for r in report["rows"] if r["averaging"].startswith(kind)]
    return row


def test_all_data_hand_computed():
    # per label: A P=1/2 R=1/2 F=1/2 (support 2); B 1/1/1 (1); negative P=R=F=2/3 (3)
    rep = all_data_report(docs_with(GOLD), docs_with(PRED), N)
    assert rep["regime"] == "all data" and rep["n"] == 6
    mac, wei = _row(rep, "macro"), _row(rep, "weighted")
    for k in ("p", "r", "f1"):
        assert mac[k] == pytest.approx((0.5 + 1 + 2 / 3) / 3)
        assert wei[k] == pytest.approx((0.5 * 2 + 1 * 1 + 2 / 3 * 3) / 6)
    assert "incl. negative" in mac["averaging"] and rep["accuracy"] == pytest.approx(4 / 6)


def test_relation_only_hand_computed():
    # gold relations only: docs 0-2, gold A A B, pred A no_relation B -> A P=1 R=1/2 F=2/3; B 1/1/1; negative not averaged
    rep = relation_only_report(docs_with(GOLD), docs_with(PRED), N)
    assert rep["regime"] == "relation only" and rep["n"] == 3
    mac, wei = _row(rep, "macro"), _row(rep, "weighted")
    assert (mac["p"], mac["r"], mac["f1"]) == pytest.approx((1.0, 0.75, (2 / 3 + 1) / 2))
    assert (wei["p"], wei["r"], wei["f1"]) == pytest.approx((1.0, 2 / 3, 7 / 9))
    assert "positive labels" in mac["averaging"]


def test_regime_tables_text():
    tables = regime_tables(docs_with(GOLD), {"sysA": docs_with(PRED), "gold": docs_with(GOLD)}, N)
    text = format_regime_tables(tables)
    assert "Weighted sysA" in text and "Macro gold" in text and "n=6" in text and "n=3" in text
    assert "F1 %" in text and "100.00" in text  # printed in %, the dicts keep fractions
    assert tables["relation only"]["gold"]["rows"][1]["f1"] == 1.0


def test_classification_table_binary_and_relation_only():
    t = classification_table(["relation", "relation", N, N], ["relation", N, N, N], N)
    assert t["classes"]["relation"] == {"p": 1.0, "r": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    assert t["classes"][N]["p"] == pytest.approx(2 / 3) and t["accuracy"] == 0.75
    assert t["macro avg"]["f1"] == pytest.approx((2 / 3 + 0.8) / 2) and t["weighted avg"]["support"] == 4
    r = classification_table(["A", "A", "B"], ["A", N, "B"], N, include_negative=False)
    assert set(r["classes"]) == {"A", "B"} and r["predicted_negative"] == 1
    assert r["macro avg"]["r"] == pytest.approx(0.75)


def test_length_buckets_rows_and_pngs(tmp_path):
    labels = ["A", "B", N, "A", N] * 4
    gold = docs_with(labels, lengths=list(range(5, 25)))
    pred = docs_with(["A"] * 20, lengths=list(range(5, 25)))
    rows = length_bucket_report(gold, pred, N, n_buckets=5, png=tmp_path / "one.png")
    assert [(r["bucket"], r["lo"], r["hi"], r["n"]) for r in rows] == [
        (1, 5, 8, 4),
        (2, 9, 12, 4),
        (3, 13, 16, 4),
        (4, 17, 20, 4),
        (5, 21, 24, 4),
    ]
    # bucket 1: gold A B no A -> pred A A A A: A P=2/4 R=1 F=2/3, B 0 -> macro (positives) 1/3, micro P=2/4 R=2/3
    assert rows[0]["macro_f1"] == pytest.approx(1 / 3) and rows[0]["micro_f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert (tmp_path / "one.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    multi = length_bucket_report(gold, {"all A": pred, "gold": gold}, N, png=tmp_path / "multi.png", metric="macro_f1")
    assert set(multi) == {"all A", "gold"} and all(r["macro_f1"] == 1.0 for r in multi["gold"])
    assert (tmp_path / "multi.png").stat().st_size > 1000
    assert "Q5" in format_bucket_table(rows) and "21-24" in format_bucket_table(rows)
    assert "macro F1 (pos) %" in format_bucket_table(rows) and "33.33" in format_bucket_table(rows)


def test_bucket_rows_semeval_has_official():
    gold = docs_with(["A", "B", N, "A"], lengths=[3, 4, 5, 6])
    rows = bucket_rows(gold, gold, N, scheme="semeval", n_buckets=2)
    assert len(rows) == 2 and all("official_macro_f1" in r for r in rows)
