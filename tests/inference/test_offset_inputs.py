"""Entities given as character offsets (``{"text", "entities": [{"start", "end", "label"}]}``) in Python and the CLI,
and one clear error for inputs the Pipeline cannot take."""

from __future__ import annotations

import json

import pytest
from test_extract import FakeJoint, marker_dir  # noqa: F401  (a module fixture: the tiny saved marker model)

import relx
from relx.cli import main
from relx.data.schema import read_jsonl
from relx.errors import RelxInputError
from relx.inference.pipeline import Pipeline

TEXT = "Bill Gates founded Microsoft in 1975."
RECORD = {"text": TEXT, "entities": [{"start": 0, "end": 10, "label": "PERSON"}, {"start": 19, "end": 28, "label": "ORGANIZATION"}]}


@pytest.mark.parametrize("value, name", [(None, "NoneType"), (42, "int"), (b"Bill", "bytes"), ([TEXT, 3.5], "float")])
def test_not_an_input_is_one_clear_error(marker_dir, value, name):  # noqa: F811
    with pytest.raises(RelxInputError) as info:
        relx.load(marker_dir, device="cpu")(value)
    msg = str(info.value)
    assert f"got {name}" in msg and "a text string" in msg and '{"text": ..., "entities"' in msg and "\n" not in msg


def test_offset_record_is_classified_with_char_offsets(marker_dir):  # noqa: F811
    pipeline = relx.load(marker_dir, device="cpu")
    doc = pipeline(RECORD)
    assert doc.tokens[:4] == ["Bill", "Gates", "founded", "Microsoft"]
    assert [(e.start, e.end, e.label) for e in doc.entities] == [(0, 2, "PERSON"), (3, 4, "ORGANIZATION")]
    assert [TEXT[e.char_start : e.char_end] for e in doc.entities] == ["Bill Gates", "Microsoft"]
    marked = pipeline("<e1>Bill Gates</e1> founded <e2>Microsoft</e2> in 1975 .")
    assert doc.meta["pair_label"] == marked.meta["pair_label"]
    both = pipeline([RECORD, {**RECORD, "id": "mine"}, TEXT])
    assert [d.id for d in both[:2]] == ["0", "mine"] and "extraction" in both[2].meta
    untyped = pipeline({"text": TEXT, "entities": [{"start": 0, "end": 10}, {"start": 19, "end": 28}]})
    assert [e.label for e in untyped.entities] == ["O", "O"]


@pytest.mark.parametrize(
    "entities, message",
    [
        (
            [{"start": 1, "end": 10}, {"start": 19, "end": 28}],
            "(item 0): entity 0 [1, 10) 'ill Gates': start 1 cuts the token 'Bill' [0, 4)",
        ),
        ([{"start": 0, "end": 10}, {"start": 19, "end": 99}], "entity 1: character span [19, 99) is not inside the text"),
        ([{"start": 0, "end": 10}, {"start": "19", "end": 28}], "entity 1: 'start' and 'end' must be integer character offsets"),
        ([{"start": 0, "end": 10}, {"start": 19, "end": 28, "type": "X"}], "entity 1: expected {'start': CHAR"),
        ([{"start": 0, "end": 10}], "has 1 entity, but a pair model needs exactly two"),
    ],
)
def test_bad_offsets_are_one_line_naming_record_and_entity(marker_dir, entities, message):  # noqa: F811
    with pytest.raises(RelxInputError) as info:
        relx.load(marker_dir, device="cpu")([{"text": TEXT, "entities": entities}])
    assert message in str(info.value) and "\n" not in str(info.value)


def test_joint_model_refuses_given_entities():
    with pytest.raises(RelxInputError, match="a joint model finds the entities itself"):
        Pipeline(FakeJoint())(RECORD)


def test_cli_jsonl_offset_records(marker_dir, tmp_path, capsys):  # noqa: F811
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps(RECORD) + "\n\n" + json.dumps({**RECORD, "id": "second"}) + "\n")
    assert main(["predict", str(marker_dir), "--input", str(src), "--output", str(out)]) == 0
    docs = list(read_jsonl(out))
    assert [d.id for d in docs] == ["line1", "second"]
    assert [(e.char_start, e.char_end) for e in docs[0].entities] == [(0, 10), (19, 28)] and docs[0].meta["pair_label"]
    capsys.readouterr()
    src.write_text(json.dumps(RECORD) + "\n" + json.dumps({"text": TEXT, "entities": [{"start": 0, "end": 3}]}) + "\n")
    assert main(["predict", str(marker_dir), "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == f"relx: error: {src}:2: entity 0 [0, 3) 'Bil': end 3 cuts the token 'Bill' [0, 4); entity offsets must fall on token boundaries"
    )
