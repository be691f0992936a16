"""`make demo`: the CoNLL04 recipe's config, the printing of raw-text extractions and scores, the --semeval switch."""

from __future__ import annotations

from relx.cli import demo
from relx.data.schema import Document, Entity, Relation


def test_joint_config_is_the_zoo_recipe_with_the_demo_threads():
    from relx.training.run import parse_run_config
    from relx.zoo import RECIPES
    from relx.zoo.build import recipe_config

    raw = demo.joint_config(threads=1)
    assert raw["trainer"]["num_threads"] == 1 and raw["model"]["type"] == "span_base"
    recipe = recipe_config(RECIPES["conll04"])
    assert {k: v for k, v in raw["trainer"].items() if k != "num_threads"} == {
        k: v for k, v in recipe["trainer"].items() if k != "num_threads"
    }
    assert parse_run_config(demo.joint_config(threads=2, epochs=1))[0].trainer.epochs == 1


def test_extraction_lines_show_types_offsets_scores_and_spans():
    text = "Tim Cook works for Apple."
    doc = Document(
        "t",
        ["Tim", "Cook", "works", "for", "Apple", "."],
        [Entity(0, 2, "Peop", char_start=0, char_end=8), Entity(4, 5, "Org", char_start=19, char_end=24)],
        [Relation(0, 1, "Work_For", score=0.93)],
        meta={"text": text},
    )
    lines = demo.extraction_lines(doc)
    assert lines[0] == f"  {text}"
    assert lines[1].split() == ["entity", "Tim", "Cook", "Peop", "chars", "0:8"]
    assert lines[2].split() == ["entity", "Apple", "Org", "chars", "19:24"]
    assert lines[3].split() == ["relation", "Tim", "Cook", "--Work_For-->", "Apple", "score", "0.93", "chars", "0:8", "->", "19:24"]
    doc.relations, doc.entities = [], []
    assert [line.split() for line in demo.extraction_lines(doc)[1:]] == [["entity", "(none)"], ["relation", "(none)"]]


def test_scores_line_is_the_joint_scorer_micro_f1():
    line = demo.joint_scores_line({"ner_micro_f1": 0.8, "re_strict_micro_f1": 0.55, "re_boundaries_micro_f1": 0.561}, 288)
    assert "CoNLL04 test (288 sentences)" in line and "NER (span + type) = 80.00" in line
    assert "RE strict = 55.00" in line and "RE boundaries = 56.10" in line


def test_semeval_switch_keeps_the_marker_demo(monkeypatch):
    called = []
    monkeypatch.setattr(demo, "run_joint", lambda args: called.append(("joint", args.out)) or 0)
    monkeypatch.setattr(demo, "run_semeval", lambda args: called.append(("semeval", args.epochs)) or 0)
    assert demo.main([]) == 0 and demo.main(["--semeval"]) == 0
    assert called == [("joint", None), ("semeval", None)]
    assert "make demo-semeval" in demo.__doc__ and "runs/demo/conll04" in demo.__doc__
