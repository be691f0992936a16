"""Hand-computed triple (exact / partial) and joint NER+RE (SpERT strict / boundaries) scores."""

from __future__ import annotations

import pytest

from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.evaluation import format_report, score_joint, score_triples

TOK1 = "Barack Obama was born in Honolulu , Hawaii .".split()
TOK2 = "Bill Gates founded Microsoft Corp .".split()

GOLD = [
    Document(
        "d1",
        TOK1,
        [Entity(0, 2, "PER"), Entity(5, 6, "LOC"), Entity(7, 8, "LOC")],
        [Relation(0, 1, "born_in"), Relation(1, 2, "located_in")],
    ),
    Document("d2", TOK2, [Entity(0, 2, "PER"), Entity(3, 5, "ORG")], [Relation(0, 1, "founded")]),
]
PRED = [
    # "Obama" (last token of the gold head only); Hawaii typed ORG; one spurious reversed triple
    Document(
        "d1",
        TOK1,
        [Entity(1, 2, "PER"), Entity(5, 6, "LOC"), Entity(7, 8, "ORG")],
        [Relation(0, 1, "born_in"), Relation(1, 2, "located_in"), Relation(2, 1, "located_in")],
    ),
    # "Bill" (first token of the gold head only)
    Document("d2", TOK2, [Entity(0, 1, "PER"), Entity(3, 5, "ORG")], [Relation(0, 1, "founded")]),
]


def test_exact_vs_partial_triples():
    # gold triples 3, predicted 4
    exact = score_triples(GOLD, PRED, mode="exact")
    # exact: only d1 (Honolulu, located_in, Hawaii) -> P 1/4, R 1/3, F1 2/7
    assert (exact["correct"], exact["predicted"], exact["gold"]) == (1, 4, 3)
    assert (
        exact["micro_p"] == pytest.approx(0.25) and exact["micro_r"] == pytest.approx(1 / 3) and exact["micro_f1"] == pytest.approx(2 / 7)
    )
    # partial (first token, CasRel partial_match): + d2 (Bill.., founded, Microsoft..) -> 2 correct: P 1/2, R 2/3, F1 4/7
    first = score_triples(GOLD, PRED, mode="partial")
    assert first["correct"] == 2 and first["micro_f1"] == pytest.approx(4 / 7)
    # partial_last (last token): + d1 (..Obama, born_in, Honolulu), but not d2 -> also 2 correct
    last = score_triples(GOLD, PRED, mode="partial_last")
    assert last["correct"] == 2 and last["micro_p"] == pytest.approx(0.5) and last["micro_r"] == pytest.approx(2 / 3)
    # per relation type (exact): located_in P 1/2 R 1 F1 2/3; born_in 0; founded 0 -> macro F1 2/9
    assert exact["macro_f1"] == pytest.approx(2 / 9)
    assert "triples, exact match (micro)" in format_report(exact)


def test_identical_triples_are_perfect_and_bad_mode_raises():
    assert score_triples(GOLD, GOLD, mode="exact")["micro_f1"] == 1.0
    with pytest.raises(RelxInputError, match="unknown triple match mode"):
        score_triples(GOLD, PRED, mode="fuzzy")


def test_joint_ner_and_relations_strict_vs_boundaries():
    m = score_joint(GOLD, PRED)
    # NER: gold 5, predicted 5, correct (Honolulu LOC), (Microsoft Corp ORG) = 2 -> micro 0.4
    assert (m["ner_correct"], m["ner_predicted"], m["ner_gold"]) == (2, 5, 5)
    assert m["ner_micro_f1"] == pytest.approx(0.4)
    # per type: PER 0/2/2 -> 0; LOC 1/1/2 -> P 1 R .5 F1 2/3; ORG 1/2/1 -> P .5 R 1 F1 2/3
    assert m["ner_macro_p"] == pytest.approx(0.5) and m["ner_macro_r"] == pytest.approx(0.5)
    assert m["ner_macro_f1"] == pytest.approx(4 / 9)
    # boundaries: (Honolulu -> Hawaii, located_in) correct despite Hawaii typed ORG: P 1/4, R 1/3
    assert m["re_boundaries_correct"] == 1
    assert m["re_boundaries_micro_p"] == pytest.approx(0.25) and m["re_boundaries_micro_f1"] == pytest.approx(2 / 7)
    # macro over born_in (0), located_in (P .5, R 1, F1 2/3), founded (0)
    assert m["re_boundaries_macro_p"] == pytest.approx(1 / 6) and m["re_boundaries_macro_r"] == pytest.approx(1 / 3)
    assert m["re_boundaries_macro_f1"] == pytest.approx(2 / 9)
    # strict: the tail's entity type must match too -> nothing correct
    assert m["re_strict_correct"] == 0 and m["re_strict_micro_f1"] == 0.0 and m["re_strict_macro_f1"] == 0.0
    text = format_report(m, title="joint")
    assert "RE strict (spans + entity types + relation type)" in text and "RE boundaries (spans + relation type)" in text
    assert "NER (span + entity type)" in text and "macro F1 %" in text


def test_joint_bad_relation_index():
    bad = [Document("d1", TOK1, [Entity(0, 1, "PER")], [Relation(0, 3, "born_in")]), GOLD[1]]
    with pytest.raises(RelxInputError, match="does not index"):
        score_joint(GOLD, bad)
