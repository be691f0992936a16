"""The benchmark scripts train through run_experiment: their per-row plumbing on tiny data and models."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import pytest

from conftest import make_pair_docs
from relx.data.schema import write_jsonl

ROOT = Path(__file__).resolve().parents[1]
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
    raw = {"model": {"type": "kernel", "encoder": str(tiny_bert), "max_length": 32, "rank": 4, "self_pairs": True},
           "data": {"train": triples, "dev": triples, "test": triples, "format": "casrel"},
           "trainer": {"epochs": 1, "batch_size": 4, "progress": False, "num_threads": 1, "scheme": "relations", "metric": "micro_f1"}}
    kt = bench_module("kernel_triples", tmp_path, monkeypatch, raw)
    rows = kt.train_one("webnlg", "kernel", 13, ARGS)
    assert rows[0]["model"] == "kernel" and set(rows[0]["scores"]) == {"exact", "partial_last"}
    assert rows[0]["threshold"] is not None and all(r["kind"] == "overlap" for r in rows[1:])
    assert (tmp_path / rows[0]["run_dir"] / "test_triples.jsonl").is_file()
