"""`relx compare`: paired bootstrap of two runs (pair labels, triples), defaults from the runs' result.json."""

from __future__ import annotations

import json

import pytest

from relx.cli import main
from relx.data.schema import Document, Entity, Relation, write_jsonl
from relx.evaluation.compare import compare_predictions, document_difference


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
