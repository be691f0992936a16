"""`relx predict` output: a table without --output (files and --text alike), JSONL on stdout with ``--output -``,
entities and relations for joint models, raw-text offsets relative to the file's line."""

from __future__ import annotations

import json

import pytest

from conftest import make_joint_docs, make_pair_docs, save_tiny_marker
from relx.cli import main
from relx.data.schema import Document, read_jsonl, write_jsonl
from tiny_models import fresh_model, tiny_fit_kwargs

RAW = "  John Smith works for Acme Corp in Boston.\n\n\tMary lives in Paris.\n"


@pytest.fixture(scope="module")
def joint_dir(tmp_path_factory, tiny_bert):
    """A tiny span_base overfitted on the four conftest joint documents (Peop / Org / Loc, Work_For...), saved."""
    docs = make_joint_docs()
    model = fresh_model("span_base", {"bert": str(tiny_bert)}, docs)
    model.fit(docs, None, **tiny_fit_kwargs(type(model)))
    return model.save(tmp_path_factory.mktemp("predict") / "span_base")


@pytest.fixture(scope="module")
def joint_input(joint_dir):
    """The joint documents without their entities and relations, as relx JSONL."""
    path = joint_dir.parent / "in.jsonl"
    write_jsonl(path, [Document(d.id, d.tokens) for d in make_joint_docs()])
    return path


def test_joint_model_prints_entities_and_relations_not_pair_columns(joint_dir, joint_input, tmp_path, capsys):
    assert main(["predict", str(joint_dir), "--input", str(joint_input), "--output", str(tmp_path / "o.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "0: john smith works for acme corp in boston ." in out
    assert "entities: john smith [Peop tokens 0:2], acme corp [Org tokens 4:6], boston [Loc tokens 7:8]" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("  ") and "entities:" not in line]
    assert rows[0] == ["head", "label", "tail", "score"]
    assert sorted(" ".join(row[:-1]) for row in rows[1:3]) == ["acme corp OrgBased_In boston", "john smith Work_For acme corp"]
    assert "None" not in out and "0.000" not in out
    assert "3: nothing happened here ." in out and "relations: (none)" in out


def test_input_without_output_prints_and_dash_writes_jsonl_to_stdout(joint_dir, joint_input, capsys):
    assert main(["predict", str(joint_dir), "--input", str(joint_input)]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("entities:") == 4 and "predicted 4 documents" in captured.out
    assert main(["predict", str(joint_dir), "--input", str(joint_input), "--output", "-"]) == 0
    captured = capsys.readouterr()
    docs = [Document.from_dict(json.loads(line)) for line in captured.out.splitlines()]
    assert [d.id for d in docs] == ["0", "1", "2", "3"] and docs[2].relations[0].label == "Live_In"
    assert "predicted 4 documents" in captured.err


def test_raw_text_offsets_count_the_lines_leading_whitespace(joint_dir, tmp_path, capsys):
    (tmp_path / "raw.txt").write_text(RAW)
    out = tmp_path / "o.jsonl"
    assert main(["predict", str(joint_dir), "--input", str(tmp_path / "raw.txt"), "--output", str(out)]) == 0
    lines = RAW.split("\n")
    docs = list(read_jsonl(out))
    assert [d.id for d in docs] == ["line1", "line3"]
    for doc in docs:
        line = lines[int(doc.id[4:]) - 1]
        assert doc.meta["text"] == line
        assert all(line[e.char_start : e.char_end] == doc.span_text(k) for k, e in enumerate(doc.entities))
    assert docs[0].entities[0].char_start == 2 and docs[1].entities[0].char_start == 1
    # the printed table shows the same offsets
    assert main(["predict", str(joint_dir), "--input", str(tmp_path / "raw.txt")]) == 0
    assert "John Smith [Peop 2:12]" in capsys.readouterr().out


def test_pair_model_prints_label_and_score(tmp_path, tiny_bert, capsys):
    model_dir = save_tiny_marker(tmp_path / "marker", tiny_bert)
    write_jsonl(tmp_path / "pairs.jsonl", make_pair_docs())
    assert main(["predict", str(model_dir), "--input", str(tmp_path / "pairs.jsonl")]) == 0
    out = capsys.readouterr().out
    lines = [line.split("\t") for line in out.splitlines() if "\t" in line]
    assert [cells[0] for cells in lines] == ["0", "1", "2", "3"] and "entities:" not in out
    assert all(0.0 <= float(cells[2]) <= 1.0 for cells in lines)
