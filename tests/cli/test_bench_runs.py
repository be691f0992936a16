"""The benchmark scripts train through run_experiment: their per-row plumbing on tiny data and models."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

from conftest import make_pair_docs
from relx.data.schema import write_jsonl

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
ARGS = argparse.Namespace(quiet=True, epochs=0, threads=1, train_docs=0, budget_name="t", batch_size=0)


def bench_module(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: dict):
    """Import benchmarks/<name>.py with its run folder under tmp_path and ``raw`` as every row's config."""
    monkeypatch.syspath_prepend(str(BENCH))
    module = importlib.import_module(name)
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(module, "raw_config", lambda *a, **k: raw)
    return module


def test_kd_row_comes_from_run_experiment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_jsonl(tmp_path / "d.jsonl", make_pair_docs())
    data = {"train": str(tmp_path / "d.jsonl"), "dev": str(tmp_path / "d.jsonl"), "test": str(tmp_path / "d.jsonl"), "format": "jsonl"}
    raw = {"model": {"type": "svm2stage"}, "data": data, "trainer": {"progress": False, "num_threads": 1, "epochs": 1}}
    kd = bench_module("kd", tmp_path, monkeypatch, raw)
    row = kd.train_one("semeval", "cgcn", 13, ARGS)
    assert 0 <= row["micro_f1"] <= 100 and row["run_dir"] == "runs/t/semeval/cgcn_s13" and row["infer_sent_per_s"] > 0
    run = tmp_path / row["run_dir"]
    assert (run / "model").is_dir() and (run / "result.json").is_file() and (run / "test_predictions.jsonl").is_file()


def test_kernel_triples_row_comes_from_run_experiment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_bert: Path) -> None:
    triples = str(ROOT / "tests" / "fixtures" / "casrel" / "tiny_triples.json")
    raw = {
        "model": {"type": "kernel", "encoder": str(tiny_bert), "max_length": 32, "rank": 4, "self_pairs": True},
        "data": {"train": triples, "dev": triples, "test": triples, "format": "casrel"},
        "trainer": {"epochs": 1, "batch_size": 4, "progress": False, "num_threads": 1, "scheme": "relations", "metric": "micro_f1"},
    }
    kt = bench_module("kernel_triples", tmp_path, monkeypatch, raw)
    rows = kt.train_one("webnlg", "kernel", 13, ARGS)
    assert rows[0]["model"] == "kernel" and set(rows[0]["scores"]) == {"exact", "partial_last"}
    assert rows[0]["threshold"] is not None and all(r["kind"] == "overlap" for r in rows[1:])
    assert (tmp_path / rows[0]["run_dir"] / "test_triples.jsonl").is_file()


@pytest.mark.parametrize("scheme", ["semeval", "tacred"])
def test_benchmark_bootstrap_rows_are_the_former_direct_ones(scheme: str) -> None:
    """kd.py / kernel_triples.py compare through relx.evaluation.compare; the rows hold the numbers their own
    paired_bootstrap calls gave (same resamples, same metric)."""
    import copy
    import random

    from relx.data.schema import Relation
    from relx.evaluation.analysis import paired_bootstrap
    from relx.evaluation.compare import bootstrap_row, compare_predictions
    from relx.evaluation.scorer import document_pair_labels, official_semeval, score_labels

    gold = [d for _ in range(5) for d in make_pair_docs()]
    for i, d in enumerate(gold):
        d.id = str(i)
    rng = random.Random(0)

    def noisy() -> list:
        out = copy.deepcopy(gold)
        for d in out:
            d.relations = rng.choice([[], [Relation(0, 1, "founder")], [Relation(1, 0, "founder")], [Relation(0, 1, "employee")]])
        return out

    a, b, negative = noisy(), noisy(), "no_relation"
    _, g, la = document_pair_labels(gold, a, negative, scheme)
    _, _, lb = document_pair_labels(gold, b, negative, scheme)
    if scheme == "semeval":
        want = paired_bootstrap(g, la, lb, lambda gg, pp: official_semeval(gg, pp, negative)["official_macro_f1"], n=200)
    else:
        want = paired_bootstrap(g, la, lb, lambda gg, pp: score_labels(gg, pp, negative)["micro_f1"], n=200)
    got = bootstrap_row(compare_predictions(gold, a, b, scheme, negative, n=200))
    assert got == {"metric": "official_macro_f1" if scheme == "semeval" else "micro_f1", **want}


def test_one_mean_sd_formatter(monkeypatch: pytest.MonkeyPatch) -> None:
    """benchmarks/common.mean_sd serves the fraction rows (x100) and the percent rows (scale 1) alike."""
    monkeypatch.syspath_prepend(str(BENCH))
    from common import mean_sd

    assert mean_sd([0.8123, 0.8311]) == "82.17 ± 1.33" and mean_sd([0.8123]) == "81.23" and mean_sd([]) == "-"
    assert mean_sd([81.23, 83.11], scale=1) == "82.17 ± 1.33" and mean_sd([81.234], scale=1) == "81.23"
