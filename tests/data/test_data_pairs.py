"""`relx data pairs`: joint data -> TACRED-style pair data (hand-counted on the SpERT and ACE05 fixtures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relx.cli import main
from relx.data import io
from relx.data.pairs import sentence_pairs, to_pairs
from relx.data.schema import Document, Entity, Relation

FIX = Path(__file__).resolve().parents[1] / "fixtures"
SPERT = FIX / "spert" / "tiny_train.json"
ACE05 = FIX / "ace05" / "sample.json"


def _label(doc: Document) -> str:
    return doc.relations[0].label if doc.relations else "-"


def test_spert_fixture_pairs():
    pairs, summary = to_pairs(io.read(SPERT))
    # 101: 3 entities -> 6 ordered pairs; 102: none; abc-3: 3 entities -> 6
    assert [(p.id, _label(p)) for p in pairs] == [
        ("101:0-1", "Work_For"),
        ("101:0-2", "-"),
        ("101:1-0", "-"),
        ("101:1-2", "OrgBased_In"),
        ("101:2-0", "-"),
        ("101:2-1", "-"),
        ("abc-3:0-1", "Kill"),
        ("abc-3:0-2", "-"),
        ("abc-3:1-0", "-"),
        ("abc-3:1-2", "-"),
        ("abc-3:2-0", "-"),
        ("abc-3:2-1", "-"),
    ]
    assert (summary.sentences, summary.pairs, summary.positives, summary.negatives) == (3, 12, 3, 9)
    assert summary.negative_ratio == 3.0
    p = pairs[3]  # Acme Corp -> Boston
    assert [(e.start, e.end, e.label) for e in p.entities] == [(4, 6, "Org"), (7, 8, "Loc")]
    assert [(r.head, r.tail, r.label) for r in p.relations] == [(0, 1, "OrgBased_In")]
    assert p.meta == {"source_id": "101", "head": 1, "tail": 2} and p.tokens[4:6] == ["Acme", "Corp"]
    assert pairs[2].relations == [] and pairs[2].meta == {"source_id": "101", "head": 1, "tail": 0, "negative": "no_relation"}


def test_policies_are_counted_not_silent():
    ents = [Entity(0, 1, "A"), Entity(2, 3, "B"), Entity(4, 5, "C"), Entity(0, 1, "A")]  # entity 3 repeats entity 0
    rels = [
        Relation(0, 1, "r1"),
        Relation(0, 1, "r2"),
        Relation(0, 1, "r1"),
        Relation(3, 2, "sym"),
        Relation(1, 1, "self"),
        Relation(1, 2, "no_relation"),
        Relation(2, 0, "r3"),
    ]
    doc = Document("s", ["w0", "w1", "w2", "w3", "w4", "w5"], ents, rels, pos=["N"] * 6)
    pairs, summary = to_pairs([doc], symmetric={"sym"})
    by_id = {p.id: p for p in pairs}
    assert list(by_id) == ["s:0-1", "s:0-2", "s:1-0", "s:1-2", "s:2-0", "s:2-1"]
    assert _label(by_id["s:0-1"]) == "r1" and by_id["s:0-1"].meta["other_labels"] == ["r2"]
    assert _label(by_id["s:0-2"]) == "sym"  # the relation on entity 3 moved to entity 0
    assert _label(by_id["s:2-0"]) == "r3" and by_id["s:2-0"].meta["other_labels"] == ["sym"]  # symmetric mirror comes last
    assert _label(by_id["s:1-2"]) == "-"  # a relation labelled with the negative name is no relation
    assert by_id["s:1-2"].pos == ["N"] * 6
    assert summary.to_dict() == {
        "sentences": 1,
        "pairs": 6,
        "positives": 3,
        "negatives": 3,
        "multi_label_pairs": 2,
        "extra_labels": 2,
        "duplicate_relations": 1,
        "duplicate_entities": 1,
        "symmetric_reversed": 1,
        "self_relations": 1,
        "negative_ratio": 1.0,
    }
    lines = summary.lines()
    assert lines[0] == "sentences 1, pairs 6, positives 3, negatives 3, negative ratio (negatives : positives) 1.00:1"
    assert len(lines) == 6 and "more in meta other_labels" in lines[1]
    assert len(sentence_pairs(doc)) == 6 and len(sentence_pairs(Document("one", ["x"], [Entity(0, 1)]))) == 0


def test_cli_pairs_spert_then_stats(tmp_path, capsys):
    out, stats = tmp_path / "pairs.jsonl.gz", tmp_path / "stats.json"
    assert main(["data", "pairs", str(SPERT), str(out)]) == 0
    captured = capsys.readouterr()
    assert "sentences 3, pairs 12, positives 3, negatives 9, negative ratio (negatives : positives) 3.00:1" in captured.out
    assert "tiny_types.json: none" in captured.err  # the types file beside the input was read; nothing symmetric
    docs = io.read(out)
    assert len(docs) == 12 and docs[0].id == "101:0-1"
    assert main(["data", "stats", str(out), "--json", str(stats)]) == 0
    assert "Negative ratio (pairs, negative 'no_relation' : positive) = 3.00:1 (9 : 3)" in capsys.readouterr().out
    s = json.loads(stats.read_text(encoding="utf-8"))
    assert s["pair_dataset"] is True and s["labels"] == {"no_relation": 9, "Kill": 1, "OrgBased_In": 1, "Work_For": 1}
    assert s["negative_to_positive"] == {"ratio": "3.00:1", "value": 3.0, "negatives": 9, "positives": 3}


@pytest.mark.parametrize("extra, positives", [([], 5), (["--symmetric", "PER-SOC"], 6)])
def test_cli_pairs_ace05(tmp_path, capsys, extra, positives):
    out = tmp_path / "ace_pairs.jsonl"
    assert main(["data", "pairs", str(ACE05), str(out), "--format", "dygiepp", *extra]) == 0
    # sentences with 2, 3, 0 and 5 entities: 2 + 6 + 0 + 20 = 28 pairs; relations 1 + 2 + 0 + 2 (+ Sam -> Tom when symmetric)
    assert f"sentences 4, pairs 28, positives {positives}, negatives {28 - positives}" in capsys.readouterr().out
    docs = {d.id: d for d in io.read(out)}
    assert docs["blog-002:0:2-1"].relations == ([Relation(0, 1, "PER-SOC")] if extra else [])


def test_cli_pairs_errors(tmp_path, capsys):
    empty = tmp_path / "empty.json"
    empty.write_text("[]", encoding="utf-8")
    assert main(["data", "pairs", str(empty), str(tmp_path / "o.jsonl"), "--format", "spert"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty.json: no records" in err and not (tmp_path / "o.jsonl").exists()
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"doc_key": "d", "sentences": [["A", "B"]], "ner": [[[0, 0, "X"]]], "relations": [[[0, 0, 1, 1, "R"]]]}\n', encoding="utf-8"
    )
    assert main(["data", "pairs", str(bad), str(tmp_path / "o.jsonl")]) == 2
    assert "bad.json:1: sentence 0: relation 0 tail span [1, 1] is not one of the sentence's entities" in capsys.readouterr().err


@pytest.mark.parametrize("name, sentences, pairs, positives", [("conll04", 231, 3260, 343), ("scierc", 275, 2488, 543)])
def test_shipped_dev_pairs_rebuild_byte_identical(tmp_path, capsys, name, sentences, pairs, positives):
    data = Path(__file__).resolve().parents[2] / "data"
    src, shipped, out = data / name / f"{name}_dev.json.gz", data / f"{name}_pairs" / "dev.jsonl.gz", tmp_path / "dev.jsonl.gz"
    assert len(io.read(src)) == sentences  # the SpERT reader reads the gzipped files
    assert main(["data", "pairs", str(src), str(out)]) == 0  # the command in PROVENANCE.md
    assert f"sentences {sentences}, pairs {pairs:,}, positives {positives}, negatives {pairs - positives:,}" in capsys.readouterr().out
    assert out.read_bytes() == shipped.read_bytes()
