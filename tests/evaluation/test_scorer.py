"""Hand-computed scorer tests: TACRED micro, macro / weighted variants, SemEval official."""

from __future__ import annotations

import warnings

import pytest
from sklearn.metrics import precision_recall_fscore_support as prfs

from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.evaluation import format_report, score_documents, score_labels

T, F, A, N = "per:title", "org:founded", "per:age", "no_relation"
# row:    1  2  3  4  5  6  7
GOLD = [T, T, F, N, N, F, A]
PRED = [T, F, F, T, N, N, N]
# 1 T->T correct        2 T->F wrong positive: FP for F *and* FN for T     3 F->F correct
# 4 N->T false positive 5 N->N (ignored by micro)   6 F->N FN   7 A->N FN


def test_tacred_micro_counts_wrong_positive_as_fp_and_fn():
    m = score_labels(GOLD, PRED, N)
    # correct = rows 1,3 = 2; positive guesses = rows 1-4 = 4; gold positives = rows 1,2,3,6,7 = 5
    assert (m["micro_correct"], m["micro_predicted"], m["micro_gold"]) == (2, 4, 5)
    assert m["micro_p"] == pytest.approx(2 / 4)
    assert m["micro_r"] == pytest.approx(2 / 5)
    assert m["micro_f1"] == pytest.approx(2 * 0.5 * 0.4 / 0.9)  # 0.4444
    assert m["accuracy"] == pytest.approx(3 / 7)  # rows 1, 3, 5
    assert m["n"] == 7
    # the same error predicted as negative is only a FN: precision rises to 2/3
    alt = score_labels(GOLD, [T, N, F, T, N, N, N], N)
    assert alt["micro_p"] == pytest.approx(2 / 3) and alt["micro_r"] == pytest.approx(2 / 5)


def test_per_label_macro_positives_vs_all_and_weighted():
    m = score_labels(GOLD, PRED, N)
    pl = m["per_label"]
    # T: tp 1 / predicted 2 (rows 1,4) / gold 2 (rows 1,2);  F: 1 / 2 (rows 2,3) / 2 (rows 3,6)
    # A: 0 / 0 / 1;  N: tp 1 (row 5) / predicted 3 (rows 5,6,7) / gold 2 (rows 4,5)
    assert pl[T] == {"p": 0.5, "r": 0.5, "f1": 0.5, "support": 2, "predicted": 2}
    assert pl[A] == {"p": 0.0, "r": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    assert pl[N]["p"] == pytest.approx(1 / 3) and pl[N]["r"] == pytest.approx(0.5) and pl[N]["f1"] == pytest.approx(0.4)
    # macro over positives T, F, A: F1 (0.5 + 0.5 + 0) / 3
    assert m["macro_p"] == pytest.approx(1 / 3) and m["macro_r"] == pytest.approx(1 / 3) and m["macro_f1"] == pytest.approx(1 / 3)
    # macro over N, T, F, A: P (1/3 + .5 + .5 + 0) / 4 = 1/3, R (.5 + .5 + .5 + 0) / 4, F1 (.4 + .5 + .5 + 0) / 4
    assert m["macro_p_all"] == pytest.approx(1 / 3)
    assert m["macro_r_all"] == pytest.approx(0.375)
    assert m["macro_f1_all"] == pytest.approx(0.35)
    # weighted by gold support over positives (2, 2, 1): F1 (2*.5 + 2*.5 + 0) / 5
    assert m["weighted_f1"] == pytest.approx(0.4) and m["weighted_p"] == pytest.approx(0.4) and m["weighted_r"] == pytest.approx(0.4)
    # weighted over all (N 2, T 2, F 2, A 1): F1 (2*.4 + 1 + 1) / 7, P (2/3 + 1 + 1) / 7, R 3 / 7
    assert m["weighted_f1_all"] == pytest.approx(0.4)
    assert m["weighted_p_all"] == pytest.approx(8 / 21)
    assert m["weighted_r_all"] == pytest.approx(3 / 7)


def test_agrees_with_sklearn_where_conventions_match():
    m = score_labels(GOLD, PRED, N)
    pos = [T, F, A]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert m["micro_f1"] == pytest.approx(prfs(GOLD, PRED, labels=pos, average="micro")[2])
        for avg in ("macro", "weighted"):
            p, r, f, _ = prfs(GOLD, PRED, labels=pos, average=avg, zero_division=0)
            assert (m[f"{avg}_p"], m[f"{avg}_r"], m[f"{avg}_f1"]) == pytest.approx((p, r, f))
            p, r, f, _ = prfs(GOLD, PRED, average=avg, zero_division=0)
            assert (m[f"{avg}_p_all"], m[f"{avg}_r_all"], m[f"{avg}_f1_all"]) == pytest.approx((p, r, f))


def test_macro_all_leaves_out_a_negative_class_absent_from_gold_and_predictions():
    # no negative anywhere: A tp 1 / predicted 1 / gold 2 -> P 1, R .5, F1 2/3; B tp 1 / predicted 2 / gold 1 -> P .5, R 1, F1 2/3
    m = score_labels(["A", "A", "B"], ["A", "B", "B"], N)
    # "macro over all labels" = macro over the labels that occur (sklearn): A and B only, not N at F1 0
    assert m["macro_p_all"] == pytest.approx(0.75)
    assert m["macro_r_all"] == pytest.approx(0.75)
    assert m["macro_f1_all"] == pytest.approx(2 / 3)
    assert (m["macro_p_all"], m["macro_r_all"], m["macro_f1_all"]) == pytest.approx(
        prfs(["A", "A", "B"], ["A", "B", "B"], average="macro")[:3]
    )
    # the negative occurring only in predictions still counts (P 0 there)
    m = score_labels(["A", "B"], ["A", N], N)
    assert m["macro_f1_all"] == pytest.approx((0 + 1 + 0) / 3)


def test_all_negative_predictions_without_division_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = score_labels(GOLD, [N] * len(GOLD), N)
        assert m["micro_f1"] == 0.0 and m["micro_r"] == 0.0
        assert m["micro_p"] == 1.0  # official TACRED script: no positive guess -> precision 1.0
        assert m["macro_f1"] == 0.0 and m["weighted_f1"] == 0.0
        assert m["accuracy"] == pytest.approx(2 / 7)  # rows 4, 5
        empty = score_labels([N, N], [N, N], N)
        assert empty["micro_f1"] == 0.0 and empty["macro_f1"] == 0.0 and empty["accuracy"] == 1.0
        assert score_labels([], [], N)["micro_f1"] == 0.0


CE12, CE21, CW12, CW21, OTH = "Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)", "Component-Whole(e1,e2)", "Component-Whole(e2,e1)", "Other"
# row:        1     2     3     4     5     6     7  8
SE_GOLD = [CE12, CE21, CE12, CW12, CW21, OTH, OTH, OTH]
SE_PRED = [CE12, CE12, OTH, CW12, CE21, CW12, OTH, CE21]
# 1 correct CE   2 CE with the wrong direction   3 CE missed   4 correct CW   5 CW predicted as CE
# 6 Other predicted as CW   7 Other correct   8 Other predicted as CE


def test_semeval_official_wrong_direction_in_precision_denominator_only():
    m = score_labels(SE_GOLD, SE_PRED, OTH, scheme="semeval")
    ce, cw = m["official_per_type"]["Cause-Effect"], m["official_per_type"]["Component-Whole"]
    # CE: TP 1 (row 1); predicted type CE in any direction: rows 1, 2, 5, 8 = 4; gold CE rows 1-3 = 3
    assert (ce["tp"], ce["predicted"], ce["support"], ce["wrong_direction"]) == (1, 4, 3, 1)
    assert ce["p"] == pytest.approx(1 / 4) and ce["r"] == pytest.approx(1 / 3) and ce["f1"] == pytest.approx(2 / 7)
    # CW: TP 1 (row 4); predicted rows 4, 6 = 2; gold rows 4, 5 = 2
    assert cw["p"] == pytest.approx(0.5) and cw["r"] == pytest.approx(0.5) and cw["f1"] == pytest.approx(0.5)
    assert set(m["official_per_type"]) == {"Cause-Effect", "Component-Whole"}  # Other excluded
    assert m["official_macro_p"] == pytest.approx((1 / 4 + 1 / 2) / 2)  # 0.375
    assert m["official_macro_r"] == pytest.approx((1 / 3 + 1 / 2) / 2)  # 0.41667
    assert m["official_macro_f1"] == pytest.approx((2 / 7 + 1 / 2) / 2)  # 11/28 = 0.39286
    # micro over types: TP 2, predicted 6, gold 5
    assert m["official_micro_p"] == pytest.approx(1 / 3) and m["official_micro_r"] == pytest.approx(2 / 5)
    # without the wrong-direction prediction in the denominator CE precision would be 1/3: it is not
    assert ce["p"] != pytest.approx(1 / 3)


def test_semeval_official_only_gold_types_are_averaged():
    # a predicted type absent from gold acts like Other: CE F1 = 0.5 (P 1/1, R 1/3 -> 0.5), macro over CE only
    m = score_labels([CE12, CE12, CE12, OTH], [CE12, "Message-Topic(e1,e2)", OTH, OTH], OTH, scheme="semeval")
    assert list(m["official_per_type"]) == ["Cause-Effect"]
    assert m["official_macro_f1"] == pytest.approx(0.5)


def _pair_doc(doc_id: str, rel: Relation | None) -> Document:
    return Document(doc_id, ["a", "b", "c"], [Entity(0, 1, "X"), Entity(2, 3, "Y")], [rel] if rel else [])


def test_score_documents_direction_from_head_tail():
    gold = [_pair_doc("1", Relation(1, 0, "Cause-Effect")), _pair_doc("2", Relation(0, 1, "Cause-Effect")), _pair_doc("3", None)]
    pred = [_pair_doc("3", None), _pair_doc("2", Relation(0, 1, "Cause-Effect")), _pair_doc("1", Relation(0, 1, "Cause-Effect"))]
    m = score_documents(gold, pred, "Other", scheme="semeval")
    # gold labels CE(e2,e1), CE(e1,e2), Other; predicted CE(e1,e2) twice (one with the wrong direction), Other
    assert set(m["per_label"]) == {"Other", "Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)"}
    ce = m["official_per_type"]["Cause-Effect"]
    assert (ce["tp"], ce["predicted"], ce["support"]) == (1, 2, 2)
    assert m["official_macro_f1"] == pytest.approx(0.5)
    # the same documents scored with a directed LabelSet give the same numbers
    labels = LabelSet.from_documents(gold, negative="Other")
    assert score_documents(gold, pred, labels, scheme="semeval")["official_macro_f1"] == pytest.approx(0.5)


def test_score_documents_tacred_plain_labels():
    gold = [_pair_doc("1", Relation(0, 1, T)), _pair_doc("2", None)]
    pred = [_pair_doc("1", Relation(0, 1, T)), _pair_doc("2", Relation(0, 1, F))]
    m = score_documents(gold, pred, N)
    assert set(m["per_label"]) == {N, T, F}
    assert m["micro_p"] == pytest.approx(0.5) and m["micro_r"] == 1.0


@pytest.mark.parametrize(
    ("gold_ids", "pred_ids", "needle"),
    [
        (["1", "2"], ["1"], "no prediction for document id '2'"),
        (["1"], ["1", "9"], "'9' is not in the gold"),
        (["1", "1"], ["1"], "duplicate"),
    ],
)
def test_score_documents_id_errors(gold_ids, pred_ids, needle):
    with pytest.raises(RelxInputError, match=needle):
        score_documents([_pair_doc(i, None) for i in gold_ids], [_pair_doc(i, None) for i in pred_ids], N)


def test_length_mismatch_and_bad_scheme():
    with pytest.raises(RelxInputError):
        score_labels([N], [N, N], N)
    with pytest.raises(RelxInputError, match="unknown scheme"):
        score_labels([N], [N], N, scheme="ace")


def test_format_report_names_each_averaging():
    text = format_report(score_labels(SE_GOLD, SE_PRED, OTH, scheme="semeval"), title="demo")
    for phrase in (
        "micro (positives",
        "macro (positives only)",
        "macro (all labels incl. negative)",
        "weighted by gold support",
        "official SemEval (9+1)-way directional macro-F1",
        "Other (negative)",
        "Cause-Effect(e2,e1)",
        "39.29",
    ):
        assert phrase in text


def _doc(doc_id: str, spans: list[tuple[int, int]], rels: list[Relation]) -> Document:
    return Document(doc_id, ["a", "b", "c", "d", "e", "f"], [Entity(s, e, "X") for s, e in spans], rels)


def test_score_relations_counts_every_relation_by_span():
    spans = [(0, 1), (2, 3), (4, 5)]
    gold = [
        _doc("1", spans, [Relation(0, 1, "Work_For"), Relation(2, 1, "Located_In"), Relation(0, 2, "Live_In")]),
        _doc("2", [(0, 1), (2, 3)], [Relation(1, 0, "Cause-Effect")]),
    ]
    # doc 1: one of three gold relations found (same spans, entities listed in another order), one extra relation;
    # doc 2: the directed pair label Cause-Effect(e2,e1) is the gold relation from entity 1 to entity 0
    pred = [
        _doc("1", [(4, 5), (0, 1), (2, 3)], [Relation(1, 2, "Work_For"), Relation(0, 1, "Kill")]),
        _doc("2", [(0, 1), (2, 3)], [Relation(0, 1, "Cause-Effect(e2,e1)")]),
    ]
    m = score_documents(gold, pred, "Other", scheme="relations")
    assert (m["correct"], m["predicted"], m["gold"]) == (2, 3, 4)
    assert m["micro_p"] == pytest.approx(2 / 3) and m["micro_r"] == pytest.approx(2 / 4)
    assert m["per_type"]["Live_In"]["support"] == 1 and m["per_type"]["Kill"]["predicted"] == 1
    assert "relations: head span + label + tail span (micro)" in format_report(m)
    # the wrong direction is not a match
    wrong = [pred[0], _doc("2", [(0, 1), (2, 3)], [Relation(0, 1, "Cause-Effect")])]
    assert score_documents(gold, wrong, "Other", scheme="relations")["correct"] == 1


def test_sentence_level_scoring_rejects_what_it_cannot_score():
    two = [(0, 1), (2, 3)]
    gold = [_doc("1", two, [Relation(0, 1, T)])]
    # same id, other entity spans: not silently scored as correct
    with pytest.raises(RelxInputError, match=r"pred \(record 1\): document '1': entity spans \[\(0, 1\), \(3, 4\)\] differ"):
        score_documents(gold, [_doc("1", [(0, 1), (3, 4)], [Relation(0, 1, T)])], N)
    # more than two entities: not scored on the first two only
    three = [_doc("1", [*two, (4, 5)], [Relation(0, 1, T), Relation(0, 2, F)])]
    with pytest.raises(RelxInputError, match="3 entities, but the sentence-level scheme 'tacred' needs exactly two.*scheme 'relations'"):
        score_documents(three, three, N)
    # a second relation the prediction lacks is not ignored
    multi = [_doc("1", two, [Relation(0, 1, T), Relation(1, 0, F)])]
    with pytest.raises(RelxInputError, match=r"gold \(record 1\): document '1' has 2 relations"):
        score_documents(multi, gold, N)
    assert score_documents(multi, gold, N, scheme="relations")["micro_r"] == pytest.approx(0.5)
    with pytest.raises(RelxInputError, match="unknown scheme 'ace'"):
        score_documents(gold, gold, N, scheme="ace")


def test_mean_sd_is_the_one_formatter():
    from relx.evaluation.report import mean_sd

    assert mean_sd([0.8, 0.9], scale=100) == "85.00 ± 7.07"
    assert mean_sd([83.24]) == "83.24"
    assert mean_sd([1.0, 2.0, 3.0], digits=1) == "2.0 ± 1.0"


def test_format_report_dispatches_on_the_scheme_field():
    m = score_labels([T, N], [T, N], N)
    assert "micro (positives" in format_report(m)
    with pytest.raises(RelxInputError, match="scheme"):
        format_report({k: v for k, v in m.items() if k != "scheme"})
