"""Golden and round-trip tests for the dataset readers/writers (fixtures in tests/fixtures/<format>/)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from relx.data import io
from relx.data.labels import LabelSet
from relx.data.readers import casrel
from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.registry import READERS, WRITERS

FIX = Path(__file__).resolve().parents[1] / "fixtures"
SEMEVAL = FIX / "semeval" / "train_crlf.txt"
TACRED = FIX / "tacred" / "tiny.json"


def ents(doc: Document) -> list[tuple[int, int, str]]:
    return [(e.start, e.end, e.label) for e in doc.entities]


def rels(doc: Document) -> list[tuple[int, int, str]]:
    return [(r.head, r.tail, r.label) for r in doc.relations]


def test_formats_are_registered() -> None:
    assert set(io.FORMATS) <= set(READERS.names())
    assert io.FORMATS == READERS.names() and "ace05" in io.FORMATS  # derived from the registry, not a hand list
    assert {"jsonl", "tacred", "semeval", "marked", "spert", "casrel"} <= set(WRITERS.names())


@pytest.mark.parametrize(
    "path, fmt",
    [
        (SEMEVAL, "semeval"),
        (FIX / "semeval" / "test_unlabeled.txt", "semeval"),
        (FIX / "marked" / "kbp37_tiny.txt", "marked"),
        (TACRED, "tacred"),
        (FIX / "tacred" / "aggcn_like.json", "tacred"),
        (FIX / "spert" / "tiny_train.json", "spert"),
        (FIX / "casrel" / "tiny_triples.json", "casrel"),
        (FIX / "fewrel" / "val_tiny.json", "fewrel"),
        (FIX / "jsonl" / "tiny.jsonl", "jsonl"),
    ],
)
def test_guess_format(path: Path, fmt: str) -> None:
    assert io.guess_format(path) == fmt


@pytest.mark.parametrize(
    "path, fmt",
    [
        (SEMEVAL, "semeval"),
        (FIX / "marked" / "kbp37_tiny.txt", "marked"),
        (TACRED, "tacred"),
        (FIX / "spert" / "tiny_train.json", "spert"),
        (FIX / "casrel" / "tiny_triples.json", "casrel"),
        (FIX / "fewrel" / "val_tiny.json", "fewrel"),
        (FIX / "jsonl" / "tiny.jsonl", "jsonl"),
    ],
)
def test_every_reader_puts_direction_in_head_and_tail(path: Path, fmt: str) -> None:
    """One direction convention: a relation runs from ``head`` to ``tail``; no reader leaves an ``(e1,e2)`` /
    ``(e2,e1)`` suffix in a relation label (FewRel: entities [h, t] and Relation(0, 1), h the head)."""
    from relx.data.labels import split_directed

    docs = io.read(path, fmt)
    assert all(split_directed(r.label)[1] is None for d in docs for r in d.relations)
    if fmt == "fewrel":
        assert all(rels(d) == [(0, 1, d.id.split("-")[0])] for d in docs)


def test_semeval_crlf_golden() -> None:
    assert b"\r\n" in SEMEVAL.read_bytes()  # the fixture must keep its CRLF line endings
    d1, d2, d3 = io.read(SEMEVAL)
    assert d1.id == "1" and d1.tokens[11:17] == ["arrayed", "configuration", "of", "antenna", "elements", "."]
    assert ents(d1) == [(12, 13, "ENTITY"), (15, 16, "ENTITY")]
    assert rels(d1) == [(1, 0, "Component-Whole")]  # Component-Whole(e2,e1)
    assert d1.meta["comment"] == "Not a collection: there is structure here, organisation."
    assert rels(d2) == [] and d2.meta["negative"] == "Other"
    assert d3.tokens[:2] == ["I", "'ve"] and rels(d3) == [(0, 1, "Content-Container")]
    assert ents(d3) == [(4, 5, "ENTITY"), (7, 8, "ENTITY")]


def test_semeval_unlabeled() -> None:
    docs = io.read(FIX / "semeval" / "test_unlabeled.txt")
    assert [d.id for d in docs] == ["8001", "8002"]
    assert all(d.meta["unlabeled"] and not d.relations for d in docs)
    assert ents(docs[1]) == [(1, 2, "ENTITY"), (4, 5, "ENTITY")]


def test_marked_golden() -> None:
    d0, d1, d2 = io.read(FIX / "marked" / "kbp37_tiny.txt")
    assert d0.tokens[:4] == ["Thom", "Yorke", "of", "Radiohead"]
    assert ents(d0) == [(0, 2, "ENTITY"), (3, 4, "ENTITY")] and rels(d0) == [(0, 1, "per:employee_of")]
    assert ents(d1) == [(7, 9, "ENTITY"), (3, 4, "ENTITY")] and rels(d1) == [(1, 0, "org:founded_by")]
    assert rels(d2) == [] and d2.meta == {"negative": "no_relation", "comment": "a negative example"}


def test_tacred_golden() -> None:
    d1, d2, d3 = io.read(TACRED)
    assert d1.id == "e7798fb926b9403cfcd2"
    assert d1.tokens == ["Bill", "Gates", "(", "born", "1955", ")", "led", "Microsoft", "."]
    assert ents(d1) == [(0, 2, "PERSON"), (7, 8, "ORGANIZATION")] and rels(d1) == [(0, 1, "per:employee_of")]
    assert d1.heads == [2, 7, 4, 2, 4, 4, 0, 7, 7] and d1.pos[2] == "-LRB-" and d1.ner[4] == "DATE"
    assert d2.tokens[1:4] == ["[", "Acme", "]"] and rels(d2) == [] and d2.meta["negative"] == "no_relation"
    assert ents(d3) == [(1, 3, "PERSON"), (0, 1, "TITLE")] and rels(d3) == [(0, 1, "per:title")]


def test_tacred_optional_fields_missing() -> None:
    d0, d1 = io.read(FIX / "tacred" / "aggcn_like.json")
    assert ents(d0) == [(3, 4, "ENTITY"), (6, 7, "ENTITY")] and rels(d0) == [(0, 1, "Message-Topic")]
    assert d0.heads == [4, 3, 4, 0, 4, 5, 6, 7, 7, 4] and d0.ner is None and d0.deprels[3] == "root"
    assert rels(d1) == [] and d1.meta["negative"] == "Other"


def test_spert_golden() -> None:
    d0, d1, d2 = io.read(FIX / "spert" / "tiny_train.json")
    assert d0.id == "101" and d0.meta["orig_id"] == 101
    assert ents(d0) == [(0, 2, "Peop"), (4, 6, "Org"), (7, 8, "Loc")]
    assert rels(d0) == [(0, 1, "Work_For"), (1, 2, "OrgBased_In")]
    assert d1.entities == [] and d1.relations == []
    assert d2.id == "abc-3" and rels(d2) == [(0, 1, "Kill")]


def test_casrel_golden_and_report(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIX / "casrel" / "tiny_triples.json"
    docs, report = casrel.read_with_report(path)
    assert report == {"documents": 3, "triples": 7, "unlocated": 1, "folded": 1, "duplicates": 1}
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"casrel: 1 of 7 triples could not be located in {path}"]
    d0, d1, d2 = docs
    assert ents(d0) == [(5, 9, "ENTITY"), (0, 2, "ENTITY"), (11, 12, "ENTITY")]
    assert rels(d0) == [(0, 1, "manager"), (0, 2, "numberOfMembers")]  # duplicate triple stored once
    # "Paris" occurs twice: each triple takes the occurrence nearest its other argument
    assert ents(d1) == [(6, 7, "ENTITY"), (9, 10, "ENTITY"), (0, 1, "ENTITY"), (3, 4, "ENTITY")]
    assert rels(d1) == [(0, 1, "location"), (2, 3, "country")]
    assert d1.meta["unlocated_triples"] == [["Louvre", "architect", "I. M. Pei"]]
    assert ents(d2) == [(5, 6, "ENTITY"), (3, 4, "ENTITY")]  # 'Cancún' found as 'Cancun'


def test_fewrel_golden() -> None:
    docs = io.read(FIX / "fewrel" / "val_tiny.json")
    assert [d.id for d in docs] == ["P177-0", "P26-0", "P26-1"]
    assert ents(docs[0]) == [(7, 10, "ENTITY"), (2, 4, "ENTITY")] and rels(docs[0]) == [(0, 1, "P177")]
    assert docs[0].meta["relation_name"] == "crosses"
    assert ents(docs[1]) == [(0, 1, "ENTITY"), (2, 3, "ENTITY")]  # first mention only


def test_jsonl_golden() -> None:
    d1, d2, d3 = io.read(FIX / "jsonl" / "tiny.jsonl")
    assert rels(d1) == [(1, 0, "org:founded_by")] and d1.heads == [2, 3, 0, 3, 3]
    assert d2.relations == [] and d3.relations[0].score == 0.75


@pytest.mark.parametrize(
    "fixture, fmt",
    [
        (TACRED, "tacred"),
        (FIX / "tacred" / "aggcn_like.json", "tacred"),
        (FIX / "spert" / "tiny_train.json", "spert"),
        (FIX / "jsonl" / "tiny.jsonl", "jsonl"),
        (SEMEVAL, "semeval"),
        (FIX / "semeval" / "test_unlabeled.txt", "semeval"),
        (FIX / "marked" / "kbp37_tiny.txt", "marked"),
    ],
)
def test_round_trip(tmp_path: Path, fixture: Path, fmt: str) -> None:
    docs = io.read(fixture, fmt)
    for name in (f"out.{fmt}", f"out.{fmt}.gz"):
        assert io.write(tmp_path / name, docs, fmt) == len(docs)
        assert io.read(tmp_path / name, fmt) == docs


def test_tacred_round_trip_is_lossless_on_disk(tmp_path: Path) -> None:
    io.write(tmp_path / "out.json", io.read(TACRED), "tacred")
    assert json.loads((tmp_path / "out.json").read_text()) == json.loads(TACRED.read_text())


def test_semeval_round_trip_keeps_sentences(tmp_path: Path) -> None:
    io.write(tmp_path / "out.txt", io.read(SEMEVAL), "semeval")
    assert (tmp_path / "out.txt").read_text() == SEMEVAL.read_bytes().decode().replace("\r\n", "\n")


def test_semeval_key_only(tmp_path: Path) -> None:
    io.write(tmp_path / "key.txt", io.read(SEMEVAL), "semeval", key_only=True)
    assert (tmp_path / "key.txt").read_text() == "1\tComponent-Whole(e2,e1)\n2\tOther\n3\tContent-Container(e1,e2)\n"


def test_cross_format_semeval_to_tacred(tmp_path: Path) -> None:
    docs = io.read(SEMEVAL)
    io.write(tmp_path / "t.json", docs, "tacred")
    records = json.loads((tmp_path / "t.json").read_text())
    assert [r["relation"] for r in records] == ["Component-Whole(e2,e1)", "Other", "Content-Container"]
    back = io.read(tmp_path / "t.json")
    assert [(d.tokens, d.entities, d.relations) for d in back] == [(d.tokens, d.entities, d.relations) for d in docs]


def test_casrel_writer(tmp_path: Path) -> None:
    docs = io.read(FIX / "casrel" / "tiny_triples.json")
    io.write(tmp_path / "c.json", docs, "casrel")
    out = json.loads((tmp_path / "c.json").read_text())
    assert out[1]["triple_list"] == [["Louvre", "location", "Paris"], ["Paris", "country", "France"], ["Louvre", "architect", "I. M. Pei"]]
    assert out[0]["text"].startswith("Peter Stöger is manager")


def test_gzipped_input(tmp_path: Path) -> None:
    gz = tmp_path / "train.txt.gz"
    gz.write_bytes(gzip.compress(SEMEVAL.read_bytes()))
    assert io.read(gz) == io.read(SEMEVAL)


def test_spert_types_file_is_found_and_used(tmp_path: Path) -> None:
    shutil.copy(FIX / "spert" / "tiny_types.json", tmp_path / "tiny_types.json")
    rec = json.loads((FIX / "spert" / "tiny_train.json").read_text())
    rec[0]["relations"][0]["type"] = "Born_In"
    (tmp_path / "tiny_dev.json").write_text(json.dumps(rec))
    with pytest.raises(RelxInputError, match=r"tiny_dev\.json \(record 1 \(id '101'\)\): unknown relation type 'Born_In'"):
        io.read(tmp_path / "tiny_dev.json")
    assert len(io.read(tmp_path / "tiny_dev.json", "spert", types_path=None)) == 3


def test_labels_check() -> None:
    labels = LabelSet(["Component-Whole(e2,e1)", "Component-Whole(e1,e2)", "Content-Container(e1,e2)"], negative="Other")
    assert len(io.read(SEMEVAL, labels=labels)) == 3
    small = LabelSet(["Component-Whole(e2,e1)"], negative="Other")
    with pytest.raises(RelxInputError, match=r"record 3 \(id '3'\)\): unknown label 'Content-Container\(e1,e2\)'"):
        io.read(SEMEVAL, labels=small)
    tacred_labels = LabelSet(["per:employee_of", "per:title"])
    assert len(io.read(TACRED, labels=tacred_labels)) == 3
