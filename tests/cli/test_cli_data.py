"""`relx data stats` through relx.cli.main."""

from __future__ import annotations

import json

from relx.cli import main
from relx.data.schema import Document, Entity, Relation, write_jsonl


def _write_tiny(path):
    ents = [Entity(0, 1, "PERSON"), Entity(2, 3, "ORGANIZATION")]
    docs = [
        Document("1", ["Ann", "works", "Acme", "."], ents, [Relation(0, 1, "per:employee_of")]),
        Document("2", ["Bob", "saw", "Acme", "."], ents, []),
        Document("3", ["Cy", "left", "Acme", "today", "."], ents, []),
    ]
    write_jsonl(path, docs)


def test_data_stats_prints_and_writes_json(tmp_path, capsys):
    src, out = tmp_path / "tiny.jsonl", tmp_path / "stats" / "tiny.json"
    _write_tiny(src)
    assert main(["data", "stats", str(src), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "per:employee_of" in printed and "no_relation" in printed
    stats = json.loads(out.read_text(encoding="utf-8"))
    assert stats["documents"] == 3
    assert stats["labels"] == {"no_relation": 2, "per:employee_of": 1}
    assert stats["negative_to_positive"]["ratio"] == "2.00:1"


def test_data_stats_negative_option(tmp_path, capsys):
    src, out = tmp_path / "tiny.jsonl", tmp_path / "s.json"
    _write_tiny(src)
    assert main(["data", "stats", str(src), "--negative", "Other", "--json", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["labels"]["Other"] == 2


def test_data_stats_malformed_file(tmp_path, capsys):
    src = tmp_path / "bad.jsonl"
    good = json.dumps({"id": "1", "tokens": ["a", "b"], "entities": [], "relations": []})
    src.write_text(good + "\n" + '{"id": "2", "tokens": ["a", \n', encoding="utf-8")
    assert main(["data", "stats", str(src)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert f"{src}:2" in err
