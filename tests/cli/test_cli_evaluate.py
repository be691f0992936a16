"""`relx evaluate` through relx.cli.main."""

from __future__ import annotations

import json

import pytest

from relx.cli import main
from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity, write_jsonl

CE12, CE21, CW12, CW21, OTH = "Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)", "Component-Whole(e1,e2)", "Component-Whole(e2,e1)", "Other"
SE_GOLD = [CE12, CE21, CE12, CW12, CW21, OTH, OTH, OTH]
SE_PRED = [CE12, CE12, OTH, CW12, CE21, CW12, OTH, CE21]


def _write(path, labels, negative, ids=None):
    ls = LabelSet([], negative)
    docs = []
    for i, lab in enumerate(labels):
        rel = ls.to_relation(lab)
        docs.append(Document(ids[i] if ids else f"s{i}", ["x", "and", "y"], [Entity(0, 1), Entity(2, 3)], [rel] if rel else []))
    write_jsonl(path, docs)
    return str(path)


def test_evaluate_semeval_json_and_confusion(tmp_path, capsys):
    gold, pred = _write(tmp_path / "gold.jsonl", SE_GOLD, OTH), _write(tmp_path / "pred.jsonl", SE_PRED, OTH)
    out, png = tmp_path / "out" / "m.json", tmp_path / "cm.png"
    assert main(["evaluate", "--gold", gold, "--pred", pred, "--scheme", "semeval", "--json", str(out), "--confusion", str(png)]) == 0
    printed = capsys.readouterr().out
    assert "official SemEval (9+1)-way directional macro-F1" in printed and "39.29" in printed
    m = json.loads(out.read_text(encoding="utf-8"))
    for key in ("micro_p", "micro_r", "micro_f1", "accuracy", "macro_f1", "official_macro_f1", "per_label", "official_per_type"):
        assert key in m
    # same hand computation as tests/test_scorer.py: (CE 2/7 + CW 1/2) / 2
    assert m["official_macro_f1"] == pytest.approx(11 / 28)
    # directional micro: correct rows 1, 4; positive guesses 6; gold positives 5
    assert m["micro_p"] == pytest.approx(2 / 6) and m["micro_r"] == pytest.approx(2 / 5)
    assert m["accuracy"] == pytest.approx(3 / 8)  # rows 1, 4, 7
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_evaluate_tacred_default_negative(tmp_path, capsys):
    gold = _write(tmp_path / "g.jsonl", ["per:title", "no_relation", "org:founded"], "no_relation")
    pred = _write(tmp_path / "p.jsonl", ["per:title", "org:founded", "no_relation"], "no_relation")
    out = tmp_path / "m.json"
    assert main(["evaluate", "--gold", gold, "--pred", pred, "--json", str(out)]) == 0
    m = json.loads(out.read_text(encoding="utf-8"))
    # correct 1, positive guesses 2, gold positives 2
    assert m["micro_p"] == pytest.approx(0.5) and m["micro_r"] == pytest.approx(0.5) and "official_macro_f1" not in m
    assert m["negative"] == "no_relation"


def test_evaluate_mismatched_ids_exit_2(tmp_path, capsys):
    gold = _write(tmp_path / "gold.jsonl", [CE12, OTH], OTH)
    pred = _write(tmp_path / "pred.jsonl", [CE12, OTH], OTH, ids=["s0", "zz"])
    assert main(["evaluate", "--gold", gold, "--pred", pred, "--scheme", "semeval"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pred.jsonl" in err and "'s1'" in err


def test_evaluate_duplicate_gold_id_and_bad_json_exit_2(tmp_path, capsys):
    gold = _write(tmp_path / "gold.jsonl", [CE12, OTH], OTH, ids=["a", "a"])
    pred = _write(tmp_path / "pred.jsonl", [CE12], OTH, ids=["a"])
    assert main(["evaluate", "--gold", gold, "--pred", pred]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gold.jsonl" in err and "duplicate" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "tokens": ["x"]}\n{oops\n', encoding="utf-8")
    assert main(["evaluate", "--gold", pred, "--pred", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.jsonl:2" in err


def _write_docs(path, docs):
    write_jsonl(path, docs)
    return str(path)


def test_evaluate_entity_spans_must_agree(tmp_path, capsys):
    from relx.data.schema import Relation

    gold = _write_docs(
        tmp_path / "gold.jsonl", [Document("s0", ["x", "and", "y"], [Entity(0, 1), Entity(2, 3)], [Relation(0, 1, "per:title")])]
    )
    pred = _write_docs(
        tmp_path / "pred.jsonl", [Document("s0", ["x", "and", "y"], [Entity(0, 1), Entity(1, 2)], [Relation(0, 1, "per:title")])]
    )
    assert main(["evaluate", "--gold", gold, "--pred", pred]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pred.jsonl (record 1)" in err and "document 's0'" in err and "differ from the gold spans" in err


def test_evaluate_multi_relation_documents(tmp_path, capsys):
    from relx.data.schema import Relation

    toks = "john works for acme in paris".split()
    ents = [Entity(0, 1, "PER"), Entity(3, 4, "ORG"), Entity(5, 6, "LOC")]
    gold = _write_docs(
        tmp_path / "gold.jsonl",
        [
            Document("d1", toks, ents, [Relation(0, 1, "Work_For"), Relation(1, 2, "OrgBased_In"), Relation(0, 2, "Live_In")]),
        ],
    )
    pred = _write_docs(tmp_path / "pred.jsonl", [Document("d1", toks, ents, [Relation(0, 1, "Work_For"), Relation(2, 0, "Kill")])])
    # sentence-level scheme: a clear error instead of scoring the first two entities only
    assert main(["evaluate", "--gold", gold, "--pred", pred, "--scheme", "tacred"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gold.jsonl (record 1)" in err and "needs exactly two" in err and "--scheme relations" in err
    # relation level: the two missing gold relations are false negatives, the extra one a false positive
    out = tmp_path / "m.json"
    assert main(["evaluate", "--gold", gold, "--pred", pred, "--scheme", "relations", "--json", str(out)]) == 0
    m = json.loads(out.read_text(encoding="utf-8"))
    assert (m["correct"], m["predicted"], m["gold"]) == (1, 2, 3)
    assert m["micro_p"] == pytest.approx(0.5) and m["micro_r"] == pytest.approx(1 / 3) and m["micro_f1"] < 1.0
    assert "relations (macro over relation types)" in capsys.readouterr().out
    assert main(["evaluate", "--gold", gold, "--pred", pred, "--scheme", "relations", "--confusion", str(tmp_path / "c.png")]) == 2
    assert "--confusion needs a sentence-level scheme" in capsys.readouterr().err
