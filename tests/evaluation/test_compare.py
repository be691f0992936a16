"""`relx compare`: paired bootstrap of two runs (pair labels, triples), defaults from the runs' result.json."""

from __future__ import annotations

import json

import pytest

from relx.cli import main
from relx.data.schema import Document, Entity, Relation, write_jsonl
from relx.evaluation.compare import compare_by_seed, compare_predictions, document_difference


def _docs(labels):
    return [
        Document(str(i), ["x", "and", "y"], [Entity(0, 1), Entity(2, 3)], [Relation(0, 1, lab)] if lab else [])
        for i, lab in enumerate(labels)
    ]


GOLD = ["a", "b", None, "a", "b", "a", None, "b"] * 5
GOOD = GOLD
BAD = ["a", None, None, "b", "b", "a", "a", None] * 5


def _run(tmp_path, name, labels, scheme="tacred", gold=None):
    d = tmp_path / name
    (d / "model").mkdir(parents=True)
    write_jsonl(d / "test_predictions.jsonl", _docs(labels))
    (d / "result.json").write_text(
        json.dumps({"trainer": {"scheme": scheme, "metric": "micro_f1"}, "data": {"test": str(gold or tmp_path / "gold.jsonl")}})
    )
    (d / "model" / "labels.json").write_text(json.dumps({"labels": ["no_relation", "a", "b"], "negative": "no_relation"}))
    return str(d)


def test_compare_runs_from_their_result_json(tmp_path, capsys):
    write_jsonl(tmp_path / "gold.jsonl", _docs(GOLD))
    good, bad = _run(tmp_path, "good", GOOD), _run(tmp_path, "bad", BAD)
    out = tmp_path / "cmp.json"
    assert main(["compare", good, bad, "--resamples", "200", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "metric micro_f1 (scheme tacred)" in printed and "A - B" in printed
    res = json.loads(out.read_text())
    assert res["metric_a"] == 1.0 and res["metric_b"] < 1.0 and res["p_value"] < 0.05 and res["ci_low"] > 0
    assert main(["compare", good, good, "--resamples", "50"]) == 0
    assert "p-value (A not better than B): 1.0000" in capsys.readouterr().out
    other = _run(tmp_path, "other", GOOD, scheme="semeval")
    assert main(["compare", good, other]) == 2
    assert "differ in scheme" in capsys.readouterr().err


def test_runs_on_copies_of_one_test_set_compare_by_content(tmp_path, capsys):
    copy, changed = tmp_path / "copy" / "test.jsonl", tmp_path / "changed" / "test.jsonl"
    write_jsonl(tmp_path / "gold.jsonl", _docs(GOLD))
    write_jsonl(copy, _docs(GOLD))
    write_jsonl(changed, _docs(GOLD[:2] + ["a"] + GOLD[3:]))
    good, bad = _run(tmp_path, "good", GOOD), _run(tmp_path, "bad", BAD, gold=copy)
    assert main(["compare", good, bad, "--resamples", "50"]) == 0
    assert "A - B" in capsys.readouterr().out
    other = _run(tmp_path, "other", BAD, gold=changed)
    assert main(["compare", good, other, "--resamples", "50"]) == 2
    err = capsys.readouterr().err.strip()
    assert "different test sets" in err and "document 3 (id '2') differs in its relations" in err and len(err.splitlines()) == 1
    assert main(["compare", good, other, "--resamples", "50", "--gold", str(tmp_path / "gold.jsonl")]) == 0


def test_document_difference_names_the_first_differing_document():
    gold = _docs(GOLD)
    assert document_difference(gold, _docs(GOLD)) is None
    assert document_difference(gold, gold[:-1]) == "40 vs 39 documents"
    moved = _docs(GOLD)
    moved[4].entities[1] = Entity(1, 3)
    assert document_difference(gold, moved) == "document 5 (id '4') differs in its entities"


def test_relation_triples_comparison_counts_per_document():
    gold = _docs(GOLD)
    res = compare_predictions(gold, _docs(GOOD), _docs(BAD), "relations", "no_relation", n=100)
    assert res["metric_a"] == pytest.approx(1.0) and res["metric_b"] < 1.0
    with pytest.raises(Exception, match="micro_f1"):
        compare_predictions(gold, gold, gold, "relations", "no_relation", metric="macro_f1", n=10)


def test_compare_several_seeds_pools_their_mean(tmp_path, capsys):
    write_jsonl(tmp_path / "gold.jsonl", _docs(GOLD))
    a1, a2 = _run(tmp_path, "a1", GOOD), _run(tmp_path, "a2", BAD)
    b1, b2 = _run(tmp_path, "b1", BAD), _run(tmp_path, "b2", BAD)
    out = tmp_path / "cmp.json"
    assert main(["compare", f"{a1},{a2}", f"{b1},{b2}", "--resamples", "200", "--json", str(out)]) == 0
    assert "the mean of 2 seeds" in capsys.readouterr().out
    res = json.loads(out.read_text())
    single = compare_predictions(_docs(GOLD), _docs(BAD), _docs(BAD), "tacred", "no_relation", n=10)
    assert res["seeds"] == 2 and res["metric_a"] == pytest.approx((1.0 + single["metric_a"]) / 2)  # the seeds' mean
    assert res["metric_b"] == pytest.approx(single["metric_b"]) and res["p_value"] < 0.05
    assert main(["compare", f"{a1},{a2}", b1]) == 2
    assert "one run per seed on each side" in capsys.readouterr().err


def _joint(rels):
    """Sentences 'p w q' with entities p (PER) and q (ORG); ``rels``: per sentence, its relation label or None."""
    return [
        Document(str(i), ["p", "w", "q"], [Entity(0, 1, "PER"), Entity(2, 3, "ORG")], [Relation(0, 1, r)] if r else [])
        for i, r in enumerate(rels)
    ]


def test_joint_scheme_pools_seeds_and_counts_symmetric_types_both_ways():
    gold = _joint(["Work"] * 10)
    a1, a2 = _joint(["Work"] * 10), _joint(["Work"] * 5 + [None] * 5)  # strict RE F1 1.0 and 2*5/(5+10) = 2/3
    b = _joint(["Live"] * 10)  # every tuple wrong: F1 0
    rows = compare_by_seed(gold, {13: a1, 14: a2}, {13: b, 14: b}, "joint", "no_relation", n=200)
    assert [r["seed"] for r in rows] == [13, 14, "pooled"]
    assert rows[1]["metric_a"] == pytest.approx(2 / 3)
    pooled = rows[2]
    assert pooled["seeds"] == [13, 14] and pooled["metric_a"] == pytest.approx((1 + 2 / 3) / 2) and pooled["metric_b"] == 0
    assert pooled["p_value"] < 0.05 and pooled["ci_low"] > 0
    # a reversed prediction of a symmetric type is correct only when the type is declared symmetric
    rev = [Document(d.id, d.tokens, d.entities, [Relation(1, 0, "Work")]) for d in gold]
    plain = compare_by_seed(gold, {1: rev, 2: rev}, {1: b, 2: b}, "joint", "no_relation", n=50)
    sym = compare_by_seed(gold, {1: rev, 2: rev}, {1: b, 2: b}, "joint", "no_relation", n=50, symmetric={"Work"})
    assert plain[-1]["metric_a"] == 0 and sym[-1]["metric_a"] == pytest.approx(1.0)


def test_semeval_marker_benchmark_merges_rows_and_bootstraps_configs(tmp_path, monkeypatch):
    """benchmarks/semeval_marker.py --merge / --compare: rows made elsewhere join the results file; configs A vs B
    per seed and pooled over the seeds that have test predictions: in their run directories or, once those are
    gone, in the gzipped copies the merge kept under the results directory."""
    import shutil
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import common
    import semeval_marker as sm

    monkeypatch.setattr(common, "ROOT", tmp_path)
    monkeypatch.setattr(common, "RESULTS", tmp_path / "results")

    gold = [
        Document(str(i), ["x", "and", "y"], [Entity(0, 1), Entity(2, 3)], [Relation(0, 1, lab or "Other")]) for i, lab in enumerate(GOLD)
    ]
    write_jsonl(tmp_path / "test.jsonl", gold)
    (tmp_path / "configs" / "semeval").mkdir(parents=True)
    (tmp_path / "configs" / "semeval" / "marker.yaml").write_text(
        f"data: {{test: {tmp_path / 'test.jsonl'}, format: jsonl, negative: Other}}\n"
    )
    monkeypatch.setattr(sm, "ROOT", tmp_path)
    rows = []
    for config, seq in (("plain", BAD), ("+MLD+MSE", GOOD)):
        for seed in (13, 14):
            run = tmp_path / f"{config}_{seed}"
            run.mkdir()
            write_jsonl(
                run / "test_predictions.jsonl",
                [Document(d.id, d.tokens, d.entities, [Relation(0, 1, lab or "Other")]) for d, lab in zip(gold, seq)],
            )
            rows.append({"budget": "b", "config": config, "seed": seed, "run_dir": str(run), "official_macro_f1": 0.5})
    (tmp_path / "+MLD+MSE_14" / "result.json").write_text(json.dumps({"steps": 1800, "best_step": 900}))
    (tmp_path / "elsewhere.json").write_text(json.dumps(rows[1:]))
    merged = sm.merge(tmp_path / "results.json", [str(tmp_path / "elsewhere.json")], tmp_path / "runs")
    assert len(merged) == 3 and {(r["config"], r["seed"]) for r in merged} == {("plain", 14), ("+MLD+MSE", 13), ("+MLD+MSE", 14)}
    boot = sm.compare(rows, "+MLD+MSE", "plain", "b", n=50)
    assert [b["seed"] for b in boot] == [13, 14, "pooled"] and boot[-1]["seeds"] == [13, 14]
    assert boot[0]["metric_a"] == 1.0 and boot[-1]["metric_a"] == 1.0 and boot[-1]["diff"] > 0 and boot[-1]["p_value"] < 0.05
    assert sm.compare(rows[:3], "+MLD+MSE", "plain", "b", n=20)[-1]["seed"] == 13  # seed 14 has no plain row: no pooling
    made = {(r["config"], r["seed"]): (r.get("steps"), r.get("best_step")) for r in merged}
    assert made[("+MLD+MSE", 14)] == (1800, 900) and made[("plain", 14)] == (None, None)  # early stop: the steps run
    assert sm.steps({"steps": 1800, "epochs": 10, "train_docs": 64}, 32) == "1800"
    assert sm.steps({"epochs": 10, "train_docs": 64}, 32) == "20*"
    kept = {(r["config"], r["seed"]): r["predictions"] for r in merged}
    assert kept[("+MLD+MSE", 14)] == "results/predictions/semeval_marker/b_mld_mse_s14.jsonl.gz"
    assert all((tmp_path / k).is_file() for k in kept.values())
    for r in rows[1:]:
        shutil.rmtree(r["run_dir"])
    again = sm.compare(merged, "+MLD+MSE", "plain", "b", n=50)
    assert [b["seed"] for b in again] == [14] and again[0]["metric_a"] == boot[1]["metric_a"]


def test_semeval_marker_report_lists_each_seeds_difference(monkeypatch):
    """The seed-level view of A vs B: every seed with both rows, then mean ± sd of the differences."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import semeval_marker as sm

    rows = [
        {"budget": "b", "config": c, "seed": s, "official_macro_f1": f}
        for c, s, f in (("A", 13, 0.85), ("B", 13, 0.84), ("A", 14, 0.85), ("B", 14, 0.82), ("A", 15, 0.9))
    ]
    text = sm.seed_differences(rows, {("b", "A", "B")})
    assert "seed 13 +1.00, seed 14 +3.00; mean +2.00 ± 1.41" in text
    assert sm.seed_differences(rows[:2], {("b", "A", "B")}) == ""  # one seed: no spread to show
