"""DyGIE++ / PURE JSON-lines reader (the ACE05 layout): golden output of the hand-written fixture and one-line errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from relx.data import io
from relx.errors import RelxInputError
from relx.registry import READERS

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "ace05" / "sample.json"


def ents(doc):
    return [(e.start, e.end, e.label) for e in doc.entities]


def rels(doc):
    return [(r.head, r.tail, r.label) for r in doc.relations]


def test_golden_sentences_with_local_exclusive_offsets() -> None:
    docs = io.read(SAMPLE)
    assert [d.id for d in docs] == ["news-001:0", "news-001:1", "news-001:2", "blog-002:0"]
    s0, s1, s2, b0 = docs
    # sentence 0: "Maria Lopez" [0, 1] inclusive -> [0, 2); "Lisbon" [4, 4] -> [4, 5)
    assert s0.tokens == ["Maria", "Lopez", "flew", "to", "Lisbon", "on", "Monday", "."]
    assert ents(s0) == [(0, 2, "PER"), (4, 5, "GPE")] and rels(s0) == [(0, 1, "PHYS")]
    assert s0.meta == {"doc_key": "news-001", "sentence": 0, "token_offset": 0}
    # sentence 1 starts at document token 8: "She" [8, 8] -> [0, 1); "Blue River Bank" [12, 14] -> [4, 7); "there" [15, 15] -> [7, 8)
    assert ents(s1) == [(0, 1, "PER"), (4, 7, "ORG"), (7, 8, "GPE")]
    assert rels(s1) == [(0, 1, "ORG-AFF"), (1, 2, "PART-WHOLE")]
    assert s1.span_text(1) == "Blue River Bank" and s1.meta["token_offset"] == 8
    assert s2.tokens[0] == "Nothing" and ents(s2) == [] and rels(s2) == [] and s2.meta["token_offset"] == 17
    # second document restarts the offsets; its "clusters" are ignored
    assert ents(b0) == [(1, 3, "PER"), (4, 5, "PER"), (6, 7, "PER"), (9, 10, "PER"), (10, 11, "VEH")]
    assert rels(b0) == [(1, 2, "PER-SOC"), (3, 4, "ART")]
    assert [b0.span_text(r.head) + " -> " + b0.span_text(r.tail) for r in b0.relations] == ["Tom -> Sam", "their -> boat"]


def test_format_names_guessing_and_gzip(tmp_path: Path) -> None:
    assert READERS.get("ace05") is READERS.get("dygiepp")
    assert io.guess_format(SAMPLE) == "dygiepp"
    one_line = tmp_path / "one.json"
    one_line.write_text(SAMPLE.read_text(encoding="utf-8").split("\n")[1] + "\n", encoding="utf-8")
    assert io.guess_format(one_line) == "dygiepp"  # a single document is one JSON object
    gz = tmp_path / "test.json.gz"
    gz.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    assert [d.to_dict() for d in io.read(gz, format="ace05")] == [d.to_dict() for d in io.read(SAMPLE)]


def _doc(**change) -> dict:
    doc = {
        "doc_key": "d",
        "sentences": [["A", "met", "B", "."], ["C", "left", "."]],
        "ner": [[[0, 0, "PER"], [2, 2, "PER"]], [[4, 4, "PER"]]],
        "relations": [[[0, 0, 2, 2, "PER-SOC"]], []],
    }
    doc.update(change)
    return doc


def _error(tmp_path: Path, *records: dict | str) -> str:
    path = tmp_path / "bad.json"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    with pytest.raises(RelxInputError) as info:
        io.read(path, format="dygiepp")
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


@pytest.mark.parametrize(
    "change, line, problem",
    [
        ({"ner": [[]]}, 2, "field 'ner' has 1 lists for 2 sentences"),
        ({"relations": [[], [], []]}, 2, "field 'relations' has 3 lists for 2 sentences"),
        # sentence-local offsets where document offsets are due: "C" is document token 4, not 0
        (
            {"ner": [[[0, 0, "PER"], [2, 2, "PER"]], [[0, 0, "PER"]]]},
            2,
            "sentence 1: entity 0 span [0, 0] is not inside the sentence's tokens [4, 6]",
        ),
        ({"ner": [[[0, 0, "PER"], [2, 4, "PER"]], []]}, 2, "sentence 0: entity 1 span [2, 4] is not inside the sentence's tokens [0, 3]"),
        (
            {"relations": [[[0, 0, 1, 2, "PER-SOC"]], []]},
            2,
            "sentence 0: relation 0 tail span [1, 2] is not one of the sentence's entities",
        ),
        ({"ner": [[[0, "PER"]], []]}, 2, "sentence 0: ner item 0 must be [int, int, type]"),
        ({"relations": [[[0, 0, 2, 2]], []]}, 2, "sentence 0: relation 0 must be [int, int, int, int, type]"),
        ({"sentences": "A met B"}, 2, "field 'sentences' has the wrong type (str)"),
        ({"sentences": [["A", 1]]}, 2, "field 'ner' has 2 lists for 1 sentences"),
    ],
)
def test_one_line_errors_name_file_line_and_sentence(tmp_path: Path, change: dict, line: int, problem: str) -> None:
    message = _error(tmp_path, _doc(), _doc(**change))
    assert f"bad.json:{line}: {problem}" in message


def test_more_errors(tmp_path: Path) -> None:
    assert "bad.json:1: missing field 'doc_key'" in _error(tmp_path, {"sentences": [["A"]]})
    assert "bad.json:1: sentence 0: tokens must be strings" in _error(tmp_path, _doc(sentences=[["A", 1, "B", "."], ["C", "left", "."]]))
    assert "bad.json:1: invalid JSON" in _error(tmp_path, "{not json")


def test_skip_drops_the_whole_document(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    bad = _doc(doc_key="bad", relations=[[[0, 0, 3, 3, "X"]], []])
    path.write_text("\n".join(json.dumps(r) for r in (_doc(), bad, _doc(doc_key="e"))) + "\n", encoding="utf-8")
    docs, report = io.read_with_report(path, format="dygiepp", on_invalid="skip")
    assert [d.id for d in docs] == ["d:0", "d:1", "e:0", "e:1"]
    assert report.skipped == 1 and "mixed.json:2: sentence 0: relation 0 tail span [3, 3]" in report.errors[0].format()
