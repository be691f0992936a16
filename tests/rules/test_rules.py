"""Regex cue patterns: file validation, matching (golden multi-hot), mining, `relx rules mine|check`."""

from __future__ import annotations

import pytest
import yaml

from relx.cli import main
from relx.data.schema import Document, Entity, Relation, write_jsonl
from relx.errors import RelxInputError
from relx.rules import RuleSet, mine_patterns, mine_ruleset, ngram_regex

RULES = r"""
name: test
source: hand-written
relations:
  Cause-Effect(e2,e1):
    - '\bcaused by\b'
  Cause-Effect(e1,e2):
    - '\bcauses\b'
    - {regex: 'SUBJ (?:\S+ )*?led to (?:\S+ )*?OBJ', scope: sentence}
  Member-Collection(e2,e1):
    - {regex: '^of$', subj_text: '^(?:flock|herd)$'}
  per:city_of_birth:
    - {regex: '\bborn in\b', order: subj_first, obj_type: [CITY]}
"""


def doc(
    text: str,
    e1: tuple[int, int],
    e2: tuple[int, int],
    label: str | None = None,
    reverse: bool = False,
    types: tuple[str, str] = ("O", "O"),
    i: int = 0,
) -> Document:
    rels = [] if label is None else [Relation(1, 0, label) if reverse else Relation(0, 1, label)]
    return Document(f"d{i}", text.split(), [Entity(*e1, types[0]), Entity(*e2, types[1])], rels)


@pytest.fixture()
def rules() -> RuleSet:
    return RuleSet.from_yaml(RULES, "test.yaml")


def test_bad_regex_is_one_line_error_naming_file_and_pattern(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("relations:\n  per:title:\n    - 'ok'\n    - '(unclosed'\n", encoding="utf-8")
    with pytest.raises(RelxInputError) as err:
        RuleSet.load(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg and "per:title" in msg and "pattern 2" in msg and "(unclosed" in msg


@pytest.mark.parametrize(
    "body, problem",
    [
        ("relations:\n  x:\n    - {regex: 'a', scope: everywhere}\n", "scope"),
        ("relations:\n  x:\n    - {regex: 'a', colour: red}\n", "unknown key"),
        ("relations:\n  x: 'not a list'\n", "list of patterns"),
        ("patterns: {}\n", "'relations'"),
        ("relations: [\n", "not valid YAML"),
    ],
)
def test_file_validation(body, problem):
    with pytest.raises(RelxInputError, match=problem):
        RuleSet.from_yaml(body, "f.yaml")


def test_shipped_sets_load():
    semeval, tacred = RuleSet.load("semeval"), RuleSet.load("tacred")
    assert semeval.source == tacred.source == "hand-written"
    assert {"Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)", "Product-Producer(e2,e1)"} <= set(semeval.relations)
    assert len(tacred.relations) == 41 and {"per:title", "org:founded_by", "per:city_of_birth"} <= set(tacred.relations)


def test_golden_multi_hot(rules):
    docs = [
        doc("the fire was caused by a spark .", (1, 2), (5, 6)),
        doc("smoking causes cancer and war led to famine .", (0, 1), (7, 8)),  # between-scope 'causes' + sentence-scope 'led to'
        doc("a flock of birds", (1, 2), (3, 4)),
        doc("a box of birds", (1, 2), (3, 4)),  # subj_text constraint fails
        doc("john was born in paris", (0, 1), (4, 5), types=("PERSON", "CITY")),
        doc("paris , where john was born in 1950", (0, 1), (3, 4), types=("CITY", "PERSON")),  # wrong order and type
    ]
    relations = ["Cause-Effect(e2,e1)", "Cause-Effect(e1,e2)", "Member-Collection(e2,e1)", "per:city_of_birth"]
    assert rules.relations == relations
    assert [rules.vector(d, "pattern") for d in docs] == [
        [1, 0, 0, 0, 0],
        [0, 1, 1, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
    ]
    assert [rules.vector(d, "relation") for d in docs] == [
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 1],
        [0, 0, 0, 0],
    ]
    assert rules.fired_relations(docs[1]) == ["Cause-Effect(e1,e2)"]
    with pytest.raises(RelxInputError, match="rules level"):
        rules.vector(docs[0], "token")


def mining_docs() -> list[Document]:
    """'caused by' is between the mentions in 3 Cause-Effect(e2,e1) docs and 1 negative: precision 0.75, support 3."""
    rows = [
        ("the fire caused by the spark", "Cause-Effect", True),
        ("the flood caused by the rain", "Cause-Effect", True),
        ("an injury caused by a fall", "Cause-Effect", True),
        ("the man caused by the tree", None, False),
        ("the juice in a bottle", "Content-Container", False),
        ("the man near the tree", None, False),
    ]
    return [doc(t, (1, 2), (len(t.split()) - 1, len(t.split())), lab, rev, i=i) for i, (t, lab, rev) in enumerate(rows)]


def test_mining_finds_ngram_with_precision():
    mined = mine_patterns(mining_docs(), negative="Other", min_precision=0.7, min_support=3, max_n=2)
    by_ngram = {p.ngram: p for p in mined}
    assert ("caused", "by") not in by_ngram  # its sub-n-gram 'caused' is as precise, so the bigram is redundant
    p = by_ngram[("caused",)]
    assert (p.relation, p.precision, p.support, p.count, p.order) == ("Cause-Effect(e2,e1)", 0.75, 3, 4, "any")
    assert all(q.relation == "Cause-Effect(e2,e1)" for q in mined)  # 'the' / 'a' are too imprecise, Content-Container too rare
    rules, text = mine_ruleset(mining_docs(), "Other", min_precision=0.7, min_support=3, max_n=2)
    assert "NOT hand-written" in text and yaml.safe_load(text)["source"] == "mined"
    assert rules.vector(mining_docs()[0], "relation") == [1.0]
    assert ngram_regex(("'s", "new")) == r"(?<!\S)'s new\b"


def test_mining_is_order_aware_when_both_orders_occur():
    docs = [doc("acme was founded by john", (0, 1), (4, 5), "org:founded_by", i=i) for i in range(3)]
    docs += [doc("john founded acme", (2, 3), (0, 1), "org:founded_by", i=3 + i) for i in range(3)]
    mined = mine_patterns(docs, min_precision=0.9, min_support=3, max_n=1)
    assert {(p.ngram, p.order) for p in mined} == {
        (("founded",), "subj_first"),
        (("founded",), "obj_first"),
        (("was",), "subj_first"),
        (("by",), "subj_first"),
    }


def test_cli_mine_and_check(tmp_path, capsys):
    data = tmp_path / "train.jsonl"
    write_jsonl(data, mining_docs())
    out = tmp_path / "mined.yaml"
    assert (
        main(
            [
                "rules",
                "mine",
                str(data),
                "--out",
                str(out),
                "--negative",
                "Other",
                "--min-precision",
                "0.7",
                "--min-support",
                "3",
                "--max-n",
                "2",
            ]
        )
        == 0
    )
    assert RuleSet.load(out).relations == ["Cause-Effect(e2,e1)"]
    capsys.readouterr()
    assert main(["rules", "check", str(out), str(data), "--negative", "Other", "--patterns", "--json", str(tmp_path / "r.json")]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith("Cause-Effect(e2,e1)"))
    assert row.split()[1:] == ["2", "3", "4", "3", "0.750", "1.000"]  # "caused", "by"; patterns gold fired correct precision recall
    assert "Content-Container(e1,e2)" in table  # gold relation without patterns is listed too
    assert main(["rules", "check", str(tmp_path / "missing.yaml"), str(data)]) == 2
