"""`relx bench`: the committed suites are consistent with their scripts; a TACRED suite runs end to end on a
TACRED-format folder written by `relx data annotate --to tacred`, keeps finished rows, and rebuilds RESULTS.md."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from conftest import make_pair_docs
from relx.cli import main
from relx.cli.bench_suites import BUDGETS, commands, load_suites, results_page
from relx.data.schema import write_jsonl
from relx.errors import RelxConfigError, RelxInputError

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"


def test_committed_suites_name_real_scripts_and_options():
    suites = load_suites(BENCH / "suites.yaml")
    assert {"hybrid-mld", "lstm-bert-svm", "soft-label-kd", "kernel-matrix", "two-phase", "speed"} <= set(suites)
    for s in suites.values():
        assert set(s.budgets) == set(BUDGETS), s.name
        steps = [c for b in BUDGETS for c in commands(s, b, 2, "/data/tacred" if s.tacred else None)] + [shlex.split(r) for r in s.report]
        for argv in steps:
            source = (BENCH / argv[0]).read_text()
            for flag in (a.split("=")[0] for a in argv[1:] if a.startswith("--")):  # --models=-KD: the option is --models
                assert f'"{flag}"' in source, f"{s.name}: {argv[0]} has no option {flag}"
        assert all("{" not in a for argv in steps for a in argv), s.name


def test_bad_suite_files_and_names(tmp_path):
    (tmp_path / "s.yaml").write_text("x:\n  budgets:\n    cpu-huge: [a.py]\n")
    with pytest.raises(RelxInputError, match="budget 'cpu-huge'"):
        load_suites(tmp_path / "s.yaml")
    (tmp_path / "s.yaml").write_text("x:\n  budgets:\n    cpu-small: ['a.py --n {nope}']\n")
    with pytest.raises(RelxConfigError, match="unknown placeholder"):
        commands(load_suites(tmp_path / "s.yaml")["x"], "cpu-small", 2, None)
    assert main(["bench", "no-such-suite", "--dry-run"]) == 2


def test_results_page_nests_sections_and_links_plots(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "a.md").write_text("# A table\n\n```\n# not a heading\n```\n| x |\n")
    (tmp_path / "results" / "a_1.png").write_bytes(b"png")
    (tmp_path / "s.yaml").write_text(
        "p:\n  title: Paper P\n  budgets: {cpu-small: []}\n  sections: [a.md, missing.md]\n  plots: ['a_*.png']\n"
    )
    page = results_page(tmp_path, list(load_suites(tmp_path / "s.yaml").values()))
    assert "## Paper P" in page and "### A table" in page and "\n# not a heading" in page and "![a_1.png](results/a_1.png)" in page


def test_results_page_rebases_a_sections_links_and_shows_each_plot_once(tmp_path):
    """A section is written from inside results/; embedded one folder up its relative targets must still resolve."""
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "a.md").write_text(
        "# A\n\n![a_1.png](a_1.png) rows in [a.json](a.json), [the readme](../README.md), [up](#a), [site](https://x.org/p)\n"
        "```\n![kept](a_1.png)\n```\n"
    )
    for name in ("a_1.png", "a_2.png"):
        (tmp_path / "results" / name).write_bytes(b"png")
    (tmp_path / "s.yaml").write_text("p:\n  title: P\n  budgets: {cpu-small: []}\n  sections: [a.md]\n  plots: ['a_*.png']\n")
    page = results_page(tmp_path, list(load_suites(tmp_path / "s.yaml").values()))
    assert (
        "![a_1.png](results/a_1.png) rows in [a.json](results/a.json), [the readme](README.md), [up](#a), [site](https://x.org/p)" in page
    )
    assert "```\n![kept](a_1.png)\n```" in page  # code is shown as written
    assert page.count("](results/a_1.png)") == 1 and page.count("](results/a_2.png)") == 1


@pytest.mark.integration
def test_tacred_suite_end_to_end(tmp_path, tiny_bert, capsys):
    """A private checkout copy (scripts + configs) so the repository's results are untouched."""
    repo = tmp_path / "repo"
    (repo / "benchmarks" / "results").mkdir(parents=True)
    for name in ("common.py", "tacred.py"):
        shutil.copy(BENCH / name, repo / "benchmarks" / name)
    for folder in ("tacred", "_base"):  # the TACRED configs and the family bases they name
        shutil.copytree(ROOT / "configs" / folder, repo / "configs" / folder)
    write_jsonl(tmp_path / "docs.jsonl", make_pair_docs())
    tacred = tmp_path / "tacred"
    tacred.mkdir()
    assert (
        main(["data", "annotate", str(tmp_path / "docs.jsonl"), str(tacred / "train.json"), "--from", "jsonl", "--to", "tacred", "--quiet"])
        == 0
    )
    for split in ("dev", "test"):
        shutil.copy(tacred / "train.json", tacred / f"{split}.json")
    assert json.loads((tacred / "train.json").read_text())[0]["stanford_pos"]  # really the TACRED layout
    (repo / "benchmarks" / "suites.yaml").write_text(
        "hybrid-mld:\n  title: TACRED smoke\n  budgets:\n    cpu-small: []\n  tacred:\n"
        f"    - tacred.py --tacred-dir {{tacred}} --models marker --epochs 1 --encoder {tiny_bert} --budget-name {{budget}} --threads 1 --resume --quiet\n"
        "  sections: [tacred.md]\n"
    )
    from relx.cli.bench_suites import run_bench

    page = run_bench("hybrid-mld", "cpu-small", threads=1, tacred=str(tacred), root=repo)
    rows = json.loads((repo / "benchmarks" / "results" / "tacred.json").read_text())
    assert [(r["model"], r["budget"], r["dataset"]) for r in rows] == [("marker", "cpu-small", "tacred")]
    assert 0.0 <= rows[0]["micro_f1"] <= 1.0 and rows[0]["train_docs"] == 4
    text = page.read_text()
    assert "## TACRED smoke" in text and "### TACRED" in text and re.search(r"\| marker \| cpu-small \|", text)
    run_bench("hybrid-mld", "cpu-small", threads=1, tacred=str(tacred), root=repo)  # resumable: the finished row is kept as is
    assert json.loads((repo / "benchmarks" / "results" / "tacred.json").read_text()) == rows  # (a re-run would change "seconds")


@pytest.mark.parametrize(
    ("script", "dataset", "row", "model"),
    [
        ("joint_spans", "scierc", "two_phase", "two_phase"),
        ("kd", "semeval", "cgcn", "cgcn"),
        ("kernel_triples", "webnlg", "kernel", "kernel"),
    ],
)
def test_benchmark_selects_on_dev_like_relx_train(tmp_path, monkeypatch, script, dataset, row, model):
    """The benchmark scripts run through run_experiment: their dev selection gets the same trainer settings as
    `relx train` on the same config (joint_spans.py selected without the symmetric relation types before)."""
    import argparse
    import importlib

    from relx.registry import MODELS

    class Stop(Exception):
        pass

    seen = []

    def fit(self, train, dev=None, ctx=None, **overrides):
        seen.append((ctx.trainer, len(train), len(dev or [])))
        raise Stop

    monkeypatch.setattr(MODELS.get(model), "fit", fit)
    monkeypatch.syspath_prepend(str(BENCH))
    bench = importlib.import_module(script)
    monkeypatch.setattr(bench, "RUNS", tmp_path / "bench")
    args = argparse.Namespace(quiet=True, epochs=0, threads=2, train_docs=0, budget_name="t", batch_size=0, train_eval_docs=0)
    with pytest.raises(Stop):
        bench.train_one(dataset, row, 13, args)
    with pytest.raises(Stop):
        main(
            [
                "train",
                "--config",
                str(ROOT / "configs" / dataset / f"{row}.yaml"),
                "--out",
                str(tmp_path / "train"),
                "--set",
                "trainer.progress=false",
                "--set",
                "trainer.num_threads=2",
            ]
        )
    (bench_trainer, *bench_sizes), (train_trainer, *train_sizes) = seen
    if dataset == "scierc":
        assert set(bench_trainer.symmetric) == {"Compare", "Conjunction"}  # SciERC's symmetric types
    assert bench_trainer == train_trainer and bench_sizes == train_sizes


def test_joint_curve_rows_and_report(tmp_path, monkeypatch):
    """A run's history.json becomes the row's per-epoch curve (percent), and the report's curve table marks the first
    epoch reaching the best dev score and writes the PNG."""
    monkeypatch.syspath_prepend(str(BENCH))
    import joint_report
    import joint_spans

    hist = [
        {"step": 10 * e, "epoch": e, "train_loss": 1.0 / e, "re_strict_micro_f1": f, "ner_micro_f1": 0.5}
        | {"train_fit_re_strict_micro_f1": 0.9, "train_fit_ner_micro_f1": 1.0}
        for e, f in ((1, 0.2), (2, 0.6), (3, 0.6), (4, 0.4), (5, 0.5))
    ]
    (tmp_path / "history.json").write_text(json.dumps(hist))
    curve = joint_spans.curve(tmp_path)
    assert curve[1] == {"epoch": 2, "step": 20, "dev_re": 60.0, "dev_ner": 50.0, "train_re": 90.0, "train_ner": 100.0, "train_loss": 0.5}
    monkeypatch.setattr(joint_report, "RESULTS", tmp_path)
    row = {"model": "two_phase", "seed": 13, "curve": curve, "train_eval_docs": 200}
    text, pngs = joint_report.curves([row, {"model": "span_base", "seed": 13}], "conll04", "_t")
    lines = [ln for ln in text.splitlines() if ln.startswith("| two_phase")]
    assert [ln.split(" | ")[2] for ln in lines] == ["1", "2", "5"]  # epoch 1, every 5th, and the first best (2, not 3)
    assert lines[1].endswith("best dev |") and (tmp_path / pngs[0]).stat().st_size > 0
    row["best_step"] = 30  # the step dev selection kept wins over the rounded scores (a tie at 60.0 here)
    lines = [ln for ln in joint_report.curves([row], "conll04", "_t")[0].splitlines() if ln.startswith("| two_phase")]
    assert [ln.split(" | ")[2] for ln in lines] == ["1", "3", "5"] and lines[1].endswith("best dev |")
    assert joint_report.curves([{"model": "span_base", "seed": 13, "curve": [{"epoch": 1, "dev_re": 1.0}]}], "conll04", "") == ("", [])


def test_joint_budgets_table_sets_the_same_seeds_side_by_side(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import joint_report

    def row(budget: str, seed: int, dev: float, test: float) -> dict:
        scores = {"re_strict_micro_f1": test, "re_strict_micro_p": test, "re_strict_micro_r": test}
        base = {"dataset": "conll04", "model": "two_phase", "budget": budget, "seed": seed, "epochs": 40 if budget == "b40" else 20}
        return base | {"steps": 9220, "train_seconds": 100.0, "dev": {"re_strict_micro_f1": dev}, "test": scores, "commit": "abc"}

    rows = [row("b40", 13, 60.0, 50.0), row("b40", 14, 62.0, 52.0), row("b20", 13, 64.0, 54.0), row("b20", 14, 66.0, 56.0)]
    rows.append(row("b10", 13, 1.0, 1.0))  # seed 14 missing at this budget: no line
    lines = [ln for ln in joint_report.budgets_table(rows, "conll04", "b40").splitlines() if ln.startswith("| ")][1:]
    assert [ln.split(" | ")[1] for ln in lines] == ["**b40**", "b20"]
    assert "| 61.00 ± 1.41 | 51.00 ± 1.41 |" in lines[0] and "| 65.00 ± 1.41 | 55.00 ± 1.41 |" in lines[1]
    assert joint_report.budgets_table(rows[:2], "conll04", "b40") == ""  # no other budget: no table
