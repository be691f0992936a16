"""Joint NER + RE evaluation: scheme "joint", symmetric relation types, TrainerConfig selection, `relx evaluate
--scheme joint`, F1 by entity length / distance, the PNG and the paired bootstrap. All expected values hand-computed."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from relx.cli import main
from relx.data.readers.spert_types import find_types, symmetric_beside, symmetric_relations
from relx.data.schema import Document, Entity, Relation, write_jsonl
from relx.errors import RelxConfigError, RelxInputError
from relx.evaluation.analysis import entity_distance, joint_bootstrap, joint_counts, ner_f1_by_entity_length, re_f1_by_distance
from relx.evaluation.plots import bucket_f1_png
from relx.evaluation.scorer import format_report, scheme_metrics, score_documents, score_joint
from relx.training.config import TrainerConfig

TOK = [f"w{i}" for i in range(20)]
M1, M2, T = Entity(0, 1, "Method"), Entity(2, 3, "Method"), Entity(5, 7, "Task")

# s1: Compare annotated 0 -> 1, predicted 1 -> 0 (reversed); Used-for 0 -> 2 predicted 2 -> 0 (reversed, asymmetric).
# s2: Conjunction annotated with the later entity first (1 -> 0), predicted 0 -> 1.
GOLD = [
    Document("s1", TOK, [M1, M2, T], [Relation(0, 1, "Compare"), Relation(0, 2, "Used-for")]),
    Document("s2", TOK, [Entity(0, 2, "Method"), Entity(4, 5, "Method")], [Relation(1, 0, "Conjunction")]),
]
PRED = [
    Document("s1", TOK, [M1, M2, T], [Relation(1, 0, "Compare"), Relation(2, 0, "Used-for")]),
    Document("s2", TOK, [Entity(0, 2, "Method"), Entity(4, 5, "Method")], [Relation(0, 1, "Conjunction")]),
]
SYM = ("Compare", "Conjunction")


def test_reversed_symmetric_relation_is_correct_asymmetric_is_not():
    plain = score_joint(GOLD, PRED)
    assert plain["re_strict_correct"] == 0 and plain["re_boundaries_micro_f1"] == 0.0
    m = score_joint(GOLD, PRED, symmetric=SYM)
    # Compare (s1) and Conjunction (s2) match after sorting the arguments; Used-for reversed stays wrong: 2 of 3 each way
    for setting in ("re_strict", "re_boundaries"):
        assert (m[f"{setting}_correct"], m[f"{setting}_predicted"], m[f"{setting}_gold"]) == (2, 3, 3)
        assert m[f"{setting}_micro_f1"] == pytest.approx(2 / 3)
    # macro over Compare (1), Conjunction (1), Used-for (0)
    assert m["re_strict_macro_f1"] == pytest.approx(2 / 3)
    assert m["re_strict_per_type"]["Used-for"]["f1"] == 0.0 and m["re_strict_per_type"]["Compare"]["f1"] == 1.0
    assert m["ner_micro_f1"] == 1.0 and m["symmetric"] == ["Compare", "Conjunction"]
    # only Compare symmetric: Conjunction reversed is wrong again
    assert score_joint(GOLD, PRED, symmetric=["Compare"])["re_strict_correct"] == 1
    assert score_joint(GOLD, PRED, symmetric="Compare")["re_strict_correct"] == 1  # one name, not its letters


def test_score_documents_joint_scheme_and_report():
    m = score_documents(GOLD, PRED, "no_relation", scheme="joint", symmetric=SYM)
    assert m == score_joint(GOLD, PRED, symmetric=SYM) and m["scheme"] == "joint"
    text = format_report(m, title="joint")
    header = next(line for line in text.splitlines() if line.startswith("Task"))
    assert header.split() == [
        "Task",
        "micro",
        "P",
        "%",
        "micro",
        "R",
        "%",
        "micro",
        "F1",
        "%",
        "macro",
        "F1",
        "%",
        "Correct",
        "Predicted",
        "Gold",
    ]
    strict = next(line for line in text.splitlines() if line.startswith("RE strict"))
    assert strict.split()[-7:] == ["66.67", "66.67", "66.67", "66.67", "2", "3", "3"]
    assert "symmetric relation types: Compare, Conjunction" in text


def test_joint_errors_name_the_side():
    bad = [Document("s1", TOK, [M1], [Relation(0, 4, "Compare")]), PRED[1]]
    with pytest.raises(RelxInputError, match=r"^pred \(record 1\): .*does not index"):
        score_joint(GOLD, bad)
    with pytest.raises(RelxInputError, match="unknown scheme 'ace'"):
        score_documents(GOLD, PRED, scheme="ace")


def test_scheme_metrics_are_scorer_keys_and_trainer_config_accepts_joint():
    m = score_joint(GOLD, PRED)
    assert set(scheme_metrics("joint")) <= set(m) and "re_strict_micro_f1" in scheme_metrics("joint")
    TrainerConfig(scheme="joint", metric="re_strict_micro_f1").validate()
    for metric in ("ner_micro_f1", "re_boundaries_micro_f1", "re_strict_macro_f1"):
        TrainerConfig(scheme="joint", metric=metric).validate_selection()
    TrainerConfig(scheme="semeval", metric="official_macro_f1").validate_selection()
    with pytest.raises(RelxConfigError) as info:
        TrainerConfig(scheme="ace", metric="micro_f1").validate_selection()
    assert str(info.value).startswith("trainer.scheme: unknown scheme 'ace' (choose from tacred, semeval, relations, joint)")
    with pytest.raises(RelxConfigError) as info:
        TrainerConfig(scheme="joint", metric="micro_f1").validate_selection()
    assert str(info.value).startswith("trainer.metric: scheme 'joint' has no metric 'micro_f1' (choose from ner_micro_p,")
    assert "\n" not in str(info.value)


# --- the SpERT types file ------------------------------------------------------------------------------
TYPES = {
    "entities": {"Method": {}, "Task": {}},
    "relations": {"Used-for": {"symmetric": False}, "Compare": {"symmetric": True}, "Conjunction": {"short": "Conj", "symmetric": True}},
}


def test_symmetric_types_from_a_gzipped_types_file(tmp_path):
    (tmp_path / "toy_types.json.gz").write_bytes(gzip.compress(json.dumps(TYPES).encode()))
    assert find_types(tmp_path / "toy_test.json") == tmp_path / "toy_types.json.gz"
    assert symmetric_relations(tmp_path / "toy_types.json.gz") == {"Compare", "Conjunction"}
    assert symmetric_beside(tmp_path / "toy_test.json") == ({"Compare", "Conjunction"}, tmp_path / "toy_types.json.gz")
    assert symmetric_beside(tmp_path / "sub" / "x.json") == (set(), None)
    bad = tmp_path / "bad_types.json"
    bad.write_text(json.dumps({"entities": {}, "relations": {"Compare": {"symmetric": "yes"}}}), encoding="utf-8")
    with pytest.raises(RelxInputError, match=r"bad_types.json: relation type 'Compare': field 'symmetric' must be true or false"):
        symmetric_relations(bad)


def _spert(docs):
    return [
        {
            "tokens": d.tokens,
            "entities": [{"type": e.label, "start": e.start, "end": e.end} for e in d.entities],
            "relations": [{"type": r.label, "head": r.head, "tail": r.tail} for r in d.relations],
            "orig_id": d.id,
        }
        for d in docs
    ]


def test_cli_evaluate_joint_reads_spert_gold_and_its_types(tmp_path, capsys):
    gold = tmp_path / "toy_test.json"
    gold.write_text(json.dumps(_spert(GOLD)), encoding="utf-8")
    (tmp_path / "toy_types.json").write_text(json.dumps(TYPES), encoding="utf-8")
    pred, out = tmp_path / "pred.jsonl", tmp_path / "m.json"
    write_jsonl(pred, PRED)
    assert main(["evaluate", "--gold", str(gold), "--pred", str(pred), "--scheme", "joint", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert "symmetric relation types from" in captured.err and "Compare, Conjunction" in captured.err
    assert "RE strict (spans + entity types + relation type)" in captured.out
    assert json.loads(out.read_text(encoding="utf-8"))["re_strict_micro_f1"] == pytest.approx(2 / 3)
    assert main(["evaluate", "--gold", str(gold), "--pred", str(pred), "--scheme", "joint", "--symmetric", "", "--json", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["re_strict_correct"] == 0
    assert (
        main(["evaluate", "--gold", str(gold), "--pred", str(pred), "--scheme", "joint", "--symmetric", "Compare", "--json", str(out)]) == 0
    )
    assert json.loads(out.read_text(encoding="utf-8"))["re_strict_correct"] == 1
    capsys.readouterr()
    assert main(["evaluate", "--gold", str(pred), "--pred", str(pred), "--symmetric", "Compare"]) == 2
    assert "--symmetric needs --scheme joint" in capsys.readouterr().err


# --- F1 by entity length and by entity distance -----------------------------------------------------------
def test_ner_f1_by_entity_length():
    gold = [Document("d", TOK, [Entity(0, 1, "P"), Entity(2, 5, "O"), Entity(6, 8, "L"), Entity(9, 18, "X"), Entity(0, 12, "Y")])]
    pred = [Document("d", TOK, [Entity(0, 1, "P"), Entity(2, 5, "L"), Entity(6, 9, "L"), Entity(9, 18, "X")])]
    rows = ner_f1_by_entity_length(gold, pred)
    assert [r["bucket"] for r in rows] == ["1-2", "3-4", "5-6", "7-8", "9-10"]
    # 1-2: gold (0,1) (6,8), predicted (0,1), correct 1 -> P 1, R 1/2, F1 2/3
    assert (rows[0]["gold"], rows[0]["predicted"], rows[0]["correct"]) == (2, 1, 1)
    assert rows[0]["p"] == 1.0 and rows[0]["r"] == 0.5 and rows[0]["f1"] == pytest.approx(2 / 3)
    # 3-4: gold (2,5,O); predicted (2,5,L) wrong type and (6,9) of length 3 -> nothing correct
    assert (rows[1]["gold"], rows[1]["predicted"], rows[1]["correct"], rows[1]["f1"]) == (1, 2, 0, 0.0)
    assert all(r["gold"] == r["predicted"] == 0 and r["f1"] == 0.0 for r in rows[2:4])
    assert (rows[4]["gold"], rows[4]["predicted"], rows[4]["correct"], rows[4]["f1"]) == (1, 1, 1, 1.0)  # length 12 counts nowhere
    wide = ner_f1_by_entity_length(gold, pred, buckets=((1, None),))
    assert (wide[0]["bucket"], wide[0]["gold"], wide[0]["predicted"], wide[0]["correct"]) == (">=1", 5, 4, 2)
    with pytest.raises(RelxInputError, match="bucket"):
        ner_f1_by_entity_length(gold, pred, buckets=((3, 1),))


def test_entity_distance():
    assert entity_distance((0, 2), (2, 3)) == 0  # adjacent
    assert entity_distance((0, 3), (2, 5)) == 0  # overlapping
    assert entity_distance((5, 6), (0, 2)) == 3 == entity_distance((0, 2), (5, 6))  # tokens 2, 3, 4 between


A, B, C = Entity(0, 2, "PER"), Entity(2, 3, "PER"), Entity(5, 6, "ORG")
DIST_GOLD = [
    Document(
        "d", TOK, [A, B, C, Entity(12, 14, "LOC")], [Relation(0, 1, "r"), Relation(0, 2, "r"), Relation(0, 3, "r"), Relation(1, 3, "r")]
    )
]
# distances: A-B 0, A-C 3, A-D 10, B-D 9, C-D 6. D predicted with the wrong type.
DIST_PRED = [
    Document(
        "d", TOK, [A, B, C, Entity(12, 14, "ORG")], [Relation(0, 1, "r"), Relation(0, 2, "s"), Relation(2, 3, "r"), Relation(1, 3, "r")]
    )
]


def test_re_f1_by_distance_strict_and_boundaries():
    strict = re_f1_by_distance(DIST_GOLD, DIST_PRED)
    assert [r["bucket"] for r in strict] == ["0", "1-3", "4-6", "7-9", ">=10"]
    counts = [(r["gold"], r["predicted"], r["correct"]) for r in strict]
    assert counts == [(1, 1, 1), (1, 1, 0), (0, 1, 0), (1, 1, 0), (1, 0, 0)]  # B-D wrong: D's type differs
    assert [r["f1"] for r in strict] == [1.0, 0.0, 0.0, 0.0, 0.0]
    loose = re_f1_by_distance(DIST_GOLD, DIST_PRED, strict=False)
    assert (loose[3]["correct"], loose[3]["f1"]) == (1, 1.0)
    assert [r["correct"] for r in loose] == [1, 0, 0, 1, 0]


def test_bucket_f1_png(tmp_path):
    series = {"span_base": ner_f1_by_entity_length(DIST_GOLD, DIST_PRED), "two_phase": ner_f1_by_entity_length(DIST_GOLD, DIST_GOLD)}
    path = bucket_f1_png(series, tmp_path / "fig3.png", title="NER F1 by entity length", xlabel="entity length (tokens)")
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(RelxInputError, match="intervals"):
        bucket_f1_png({"a": series["span_base"], "b": re_f1_by_distance(DIST_GOLD, DIST_PRED)}, tmp_path / "x.png")
    with pytest.raises(RelxInputError, match="no bucket rows"):
        bucket_f1_png({}, tmp_path / "x.png")


# --- paired bootstrap over documents -------------------------------------------------------------------------
def test_joint_counts_and_bootstrap_values():
    counts = joint_counts(GOLD, PRED, "re_strict", SYM)
    assert counts.tolist() == [[1, 2, 2], [1, 1, 1]]  # [correct, predicted, gold] per document
    assert joint_counts(GOLD, PRED, "ner").tolist() == [[3, 3, 3], [2, 2, 2]]
    out = joint_bootstrap(GOLD, GOLD, PRED, task="re_strict", n=200, seed=1, symmetric=SYM)
    assert out["metric_a"] == 1.0 and out["metric_b"] == pytest.approx(2 / 3) and out["metric"] == "re_strict_micro_f1"
    same = joint_bootstrap(GOLD, PRED, PRED, n=50)
    assert same["p_value"] == 1.0 and same["diff"] == 0.0
    with pytest.raises(RelxInputError, match="unknown joint task"):
        joint_counts(GOLD, PRED, "re")


def _renamed(docs, idx):
    return [Document(f"{k}", d.tokens, d.entities, d.relations) for k, d in enumerate(docs[i] for i in idx)]


def test_joint_bootstrap_equals_resampling_documents_and_scoring():
    rng = np.random.default_rng(7)
    gold, a, b = [], [], []
    for i in range(12):  # documents with 0-3 relations; A and B drop or relabel some at random
        ents = [Entity(2 * k, 2 * k + 1, "E") for k in range(4)]
        rels = [Relation(k, k + 1, "r") for k in range(int(rng.integers(0, 4)))]
        gold.append(Document(f"d{i}", TOK, ents, rels))
        a.append(Document(f"d{i}", TOK, ents, [r for r in rels if rng.random() < 0.8]))
        b.append(Document(f"d{i}", TOK, ents, [Relation(r.head, r.tail, "r" if rng.random() < 0.5 else "x") for r in rels]))
    fast = joint_bootstrap(gold, a, b, task="re_strict", n=40, seed=3)

    def f1(g_idx, docs):
        return score_joint(_renamed(gold, g_idx), _renamed(docs, g_idx))["re_strict_micro_f1"]

    # the same resamples (paired_bootstrap draws rng.integers(0, size, size) per resample), scored with score_joint
    rs = np.random.default_rng(3)
    diffs = []
    for _ in range(40):
        idx = rs.integers(0, 12, size=12).tolist()
        diffs.append(f1(idx, a) - f1(idx, b))
    assert fast["metric_a"] == pytest.approx(score_joint(gold, a)["re_strict_micro_f1"])
    assert fast["mean_diff"] == pytest.approx(float(np.mean(diffs)))
    assert fast["p_value"] == pytest.approx(float(np.mean(np.array(diffs) <= 0)))
    assert fast["ci_low"] == pytest.approx(float(np.percentile(diffs, 2.5)))
