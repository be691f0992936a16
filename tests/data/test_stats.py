"""Hand-computed dataset statistics on four hand-built documents."""

from __future__ import annotations

import json

import pytest

from relx.data.schema import Document, Entity, Relation
from relx.data.stats import compute_stats, format_stats
from relx.data.triples import overlap_class


def _tokens(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


def _docs() -> list[Document]:
    per, org, loc = Entity(0, 2, "PER"), Entity(3, 4, "ORG"), Entity(6, 7, "LOC")
    d1 = Document("d1", _tokens(5), [per, org], [])  # negative
    d2 = Document("d2", _tokens(12), [per, org], [Relation(0, 1, "Work_For")])  # Normal, Single
    d3 = Document("d3", _tokens(25), [per, org, loc], [Relation(0, 1, "Work_For"), Relation(0, 2, "Live_In")])  # SEO, Double
    # EPO (0,1) twice and SEO (0,1)+(0,2); entity 3 has entity 0's span, so (3,1,Work_For) duplicates (0,1,Work_For)
    d4 = Document(
        "d4",
        _tokens(70),
        [per, org, loc, Entity(0, 2, "PER")],
        [Relation(0, 1, "Work_For"), Relation(0, 1, "Employs"), Relation(0, 2, "Live_In"), Relation(3, 1, "Work_For")],
    )
    return [d1, d2, d3, d4]


def test_counts_and_ratios():
    s = compute_stats(_docs())
    assert s["documents"] == 4
    assert s["labels"] == {"Work_For": 4, "Live_In": 2, "Employs": 1, "no_relation": 1}
    assert s["relations"] == 7
    assert s["entities"] == 11
    assert s["entity_types"] == {"PER": 5, "ORG": 4, "LOC": 2}
    assert s["negative_to_positive"]["ratio"] == "0.14:1"
    assert s["negative_to_positive"]["value"] == pytest.approx(1 / 7)
    rel = s["most_imbalanced"]["relations"]
    assert (rel["smallest"]["label"], rel["largest"]["label"], rel["ratio"]) == ("Employs", "Work_For", "1 : 4.0")
    assert s["most_imbalanced"]["entity_types"]["ratio"] == "1 : 2.5"
    json.dumps(s)  # JSON-ready


def test_overlap_and_multiplicity():
    s = compute_stats(_docs())
    assert s["overlap"] == {"Normal": 1, "EPO": 1, "SEO": 2, "none": 1}
    assert s["multiplicity"] == {"Single": 1, "Double": 1, "Multiple": 1, "none": 1}


def test_overlap_class_rules():
    a, b, c = (0, 1), (2, 3), (4, 5)
    assert overlap_class([]) == set()
    assert overlap_class([(a, b, "r"), (c, (6, 7), "r")]) == {"Normal"}
    assert overlap_class([(a, b, "r"), (b, a, "s")]) == {"SEO"}  # CopyRE: EPO is the same ORDERED pair
    assert overlap_class([(a, b, "r"), (a, b, "r")]) == {"EPO"}  # a repeated triple repeats its pair (CopyRE counts raw triples)
    assert overlap_class([(a, b, "r"), (a, b, "s")]) == {"EPO"}
    assert overlap_class([(a, b, "r"), (b, c, "s")]) == {"SEO"}


def test_length_statistics():
    length = compute_stats(_docs())["length"]
    assert (length["min"], length["max"], length["mean"], length["median"]) == (5, 70, 28.0, 18.5)
    assert length["quintiles"] == pytest.approx([9.2, 14.6, 22.4, 43.0])
    assert length["histogram"] == {"1-10": 1, "11-20": 1, "21-30": 1, "31-40": 0, "41-50": 0, "51-60": 0, ">60": 1}


def test_sentence_level_pair_labels_keep_direction():
    ents = [Entity(0, 1, "ENTITY"), Entity(2, 3, "ENTITY")]
    docs = [
        Document("a", _tokens(4), ents, [Relation(1, 0, "Cause-Effect")]),
        Document("b", _tokens(4), ents, [Relation(0, 1, "Cause-Effect")]),
        Document("c", _tokens(4), ents, []),
        Document("d", _tokens(4), ents, [Relation(0, 1, "Cause-Effect")]),
    ]
    s = compute_stats(docs, negative="Other")
    assert s["labels"] == {"Cause-Effect(e1,e2)": 2, "Cause-Effect(e2,e1)": 1, "Other": 1}
    assert s["relation_types"] == {"Cause-Effect": 3, "Other": 1}
    assert s["negative_to_positive"]["ratio"] == "0.33:1"
    assert s["most_imbalanced"]["relations"]["ratio"] == "1 : 2.0"
    assert s["overlap"]["Normal"] == 3 and s["multiplicity"]["Single"] == 3


def test_format_stats_tables():
    text = format_stats(compute_stats(_docs()))
    assert "Work_For" in text and "no_relation" in text
    assert "1 : 4.0" in text and "1 : 2.5" in text
    for name in ("Normal", "EPO", "SEO", "Single", "Double", "Multiple", "1-10", ">60"):
        assert name in text


def test_empty_input():
    s = compute_stats([])
    assert s["documents"] == 0 and s["labels"] == {"no_relation": 0}
    assert s["most_imbalanced"]["relations"] is None
    assert "Documents: 0" in format_stats(s)
