"""Malformed input: one located, one-line error from the readers and exit code 2 from the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relx.cli import main
from relx.data import io
from relx.data.labels import LabelSet
from relx.errors import RelxInputError

FIX = Path(__file__).resolve().parents[1] / "fixtures"
SEMEVAL_OK = '1\t"The <e1>company</e1> fabricates plastic <e2>chairs</e2>."\nProduct-Producer(e2,e1)\nComment:\n\n'


def tacred_record(**changes: object) -> dict:
    rec = {"id": "r2", "relation": "per:title", "token": ["Chairman", "John", "Smith", "resigned", "."]}
    rec.update(subj_start=1, subj_end=2, obj_start=0, obj_end=0, subj_type="PERSON", obj_type="TITLE")
    rec.update(changes)
    return {k: v for k, v in rec.items() if v is not None}


def tacred_file(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "bad_tacred.json"
    good = tacred_record(id="r1")
    path.write_text(json.dumps([good, tacred_record(**changes)]))
    return path


def convert_error(capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: Path, *extra: str) -> str:
    """Run `relx data convert bad out.jsonl`; assert exit 2 and exactly one stderr line naming the file."""
    capsys.readouterr()
    out = tmp_path / "out.jsonl"
    rc = main(["data", "convert", str(bad), str(out), *extra])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 2
    assert len(lines) == 1, captured.err
    assert bad.name in lines[0]
    assert not out.exists()
    return lines[0]


# --- line formats: the message names the 1-based line ------------------------------------
def test_jsonl_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(FIX.joinpath("jsonl", "tiny.jsonl").read_text().split("\n")[0] + '\n{"id": "x", "tokens": [\n')
    assert f"{bad.name}:2: invalid JSON" in convert_error(capsys, tmp_path, bad)


def test_jsonl_empty_span(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "tokens": ["a", "b"], "entities": [{"start": 1, "end": 1, "label": "E"}]}) + "\n")
    msg = convert_error(capsys, tmp_path, bad)
    assert f"{bad.name}:1:" in msg and "empty or crossed span" in msg


def test_non_utf8_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(SEMEVAL_OK.encode() + b'2\t"The <e1>caf\xe9</e1> sells <e2>tea</e2>."\nOther\nComment:\n\n')
    assert f"{bad.name}:5: file is not valid UTF-8" in convert_error(capsys, tmp_path, bad, "--from", "semeval")


@pytest.mark.parametrize(
    "record, line, message",
    [
        ('2\t"The <e1>cup</e1> holds tea."\nOther\nComment:\n\n', 5, "missing tag <e2>"),
        ('2\t"The <e1>cup <e2>holds</e1> tea</e2>."\nOther\nComment:\n\n', 5, "nested or overlap"),
        ('2\t"The <e1></e1> holds <e2>tea</e2>."\nOther\nComment:\n\n', 5, "entity e1 is empty"),
        ('2\t"The <e1>cup</e1> holds <e2>tea</e2>."\nComment:\n\n', 5, "missing label line"),
        ("Other\nComment:\n\n", 5, "unexpected line 'Other'"),
        ('2\t"The <e1>cup</e1> holds <e2>tea</e2>."\nOther\nComment:\nstray text\n', 8, "unexpected line 'stray text'"),
    ],
)
def test_semeval_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str], record: str, line: int, message: str) -> None:
    bad = tmp_path / "bad_semeval.txt"
    bad.write_text(SEMEVAL_OK + record)
    msg = convert_error(capsys, tmp_path, bad)
    assert f"{bad.name}:{line}:" in msg and message in msg
    with pytest.raises(RelxInputError) as info:
        io.read(bad, "semeval")
    assert info.value.where == line


def test_marked_missing_tag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad_kbp.txt"
    bad.write_text('0\t" <e1> Thom Yorke </e1> of Radiohead . "\nno_relation\n\n')
    msg = convert_error(capsys, tmp_path, bad, "--from", "marked")
    assert f"{bad.name}:1:" in msg and "missing tag <e2>" in msg


# --- JSON-list formats: the message names the record ---------------------------------------
def test_tacred_invalid_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[\n{"id": "a",\n "token": ]\n')
    assert f"{bad.name}:3: invalid JSON" in convert_error(capsys, tmp_path, bad, "--from", "tacred")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"obj_end": 5}, "obj span [0, 5] is outside the sentence of 5 tokens"),
        ({"subj_start": 2, "subj_end": 1}, "subj span [2, 1] is empty or crossed"),
        ({"token": None}, "missing field 'token'"),
        ({"relation": None}, "missing field 'relation'"),
        ({"subj_start": "1"}, "field 'subj_start' has the wrong type"),
        ({"stanford_head": ["1", "x", "0", "1", "1"]}, "'stanford_head' must hold integers"),
        ({"stanford_pos": ["NN"]}, "field 'pos' has 1 items for 5 tokens"),
    ],
)
def test_tacred_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str], changes: dict, message: str) -> None:
    bad = tacred_file(tmp_path, **changes)
    msg = convert_error(capsys, tmp_path, bad)
    assert "(record 2 (id 'r2'))" in msg and message in msg


def test_tacred_not_a_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "a"}')
    assert "expected a JSON list of TACRED records" in convert_error(capsys, tmp_path, bad, "--from", "tacred")


@pytest.mark.parametrize(
    "record, message",
    [
        ({"tokens": ["a", "b"], "entities": [{"type": "Loc", "start": 1, "end": 3}], "relations": []}, "outside the sentence"),
        (
            {
                "tokens": ["a", "b"],
                "entities": [{"type": "Loc", "start": 0, "end": 1}],
                "relations": [{"type": "Kill", "head": 0, "tail": 4}],
            },
            "relation tail 4",
        ),
        ({"tokens": ["a", "b"], "entities": [{"type": "Loc", "start": 0}], "relations": []}, "missing field 'end' of entity 0"),
        ({"tokens": ["a", "b"], "entities": [{"type": "Planet", "start": 0, "end": 1}], "relations": []}, "unknown entity type 'Planet'"),
    ],
)
def test_spert_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str], record: dict, message: str) -> None:
    (tmp_path / "tiny_types.json").write_text(FIX.joinpath("spert", "tiny_types.json").read_text())
    bad = tmp_path / "tiny_dev.json"
    good = json.loads(FIX.joinpath("spert", "tiny_train.json").read_text())[0]
    bad.write_text(json.dumps([good, dict(record, orig_id=7)]))
    msg = convert_error(capsys, tmp_path, bad)
    assert "(record 2 (id '7'))" in msg and message in msg


@pytest.mark.parametrize(
    "record, message",
    [
        ({"text": "a b c"}, "missing field 'triple_list'"),
        ({"text": "a b c", "triple_list": [["a", "r"]]}, "triple 0 must be a list of 3 strings"),
        ({"text": "", "triple_list": []}, "has no tokens"),
    ],
)
def test_casrel_malformed(tmp_path: Path, capsys: pytest.CaptureFixture[str], record: dict, message: str) -> None:
    bad = tmp_path / "bad_triples.json"
    bad.write_text(json.dumps([{"text": "x y", "triple_list": [["x", "r", "y"]]}, record]))
    msg = convert_error(capsys, tmp_path, bad, "--from", "casrel")
    assert "(record 2)" in msg and message in msg


def test_fewrel_bad_positions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad_fewrel.json"
    bad.write_text(json.dumps({"P1": [{"tokens": ["a", "b"], "h": ["a", "Q1", [[0]]], "t": ["b", "Q2", [[1, 2]]]}]}))
    msg = convert_error(capsys, tmp_path, bad, "--from", "fewrel")
    assert "(relation 'P1', instance 0)" in msg and "outside the sentence" in msg


# --- label sets, files, formats ----------------------------------------------------------
def test_unknown_label_with_fixed_label_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.json"
    LabelSet(["per:employee_of"]).save(labels)
    bad = FIX / "tacred" / "tiny.json"
    msg = convert_error(capsys, tmp_path, bad, "--labels", str(labels))
    assert "record 3 (id '0a1b2c3d4e5f60718293')" in msg and "unknown label 'per:title'" in msg


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "cannot open" in convert_error(capsys, tmp_path, tmp_path / "nope.json", "--from", "tacred")


def test_unknown_and_unguessable_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("just some text\n")
    assert "cannot guess the format" in convert_error(capsys, tmp_path, bad)
    assert "unknown format 'conll'" in convert_error(capsys, tmp_path, bad, "--from", "conll")


def test_writer_rejects_what_the_format_cannot_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = FIX / "spert" / "tiny_train.json"
    rc = main(["data", "convert", str(src), str(tmp_path / "out.json"), "--to", "tacred"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(lines) == 1
    assert "record 1 (id '101')" in lines[0] and "TACRED holds exactly 2" in lines[0]
    assert not (tmp_path / "out.json").exists()


def test_convert_success(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["data", "convert", str(FIX / "semeval" / "train_crlf.txt"), str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 3 documents to {out}"
    assert len(io.read(out)) == 3
    key = tmp_path / "key.txt"
    assert main(["data", "convert", str(out), str(key), "--to", "semeval", "--key-only"]) == 0
    assert key.read_text().splitlines()[0] == "1\tComponent-Whole(e2,e1)"


# --- relx JSONL validates types instead of coercing them ------------------------------------
JSONL_OK = {
    "id": "a",
    "tokens": ["Ann", "works", "at", "Acme"],
    "entities": [{"start": 0, "end": 1, "label": "PERSON"}, {"start": 3, "end": 4, "label": "ORG"}],
    "relations": [{"head": 0, "tail": 1, "label": "per:employer"}],
}


def jsonl_line(path: str, value: object) -> str:
    """JSON of JSONL_OK with the field at ``path`` ("entities.0.end") set to ``value``."""
    rec = json.loads(json.dumps(JSONL_OK))
    *parents, last = path.split(".")
    obj = rec
    for key in parents:
        obj = obj[int(key)] if isinstance(obj, list) else obj[key]
    obj[int(last) if isinstance(obj, list) else last] = value
    return json.dumps(rec)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("entities.0.end", 1.9, "field 'end' of entity 0 must be an integer, got float 1.9"),
        ("entities.0.start", "0", "field 'start' of entity 0 must be an integer, got str '0'"),
        ("entities.0.start", False, "field 'start' of entity 0 must be an integer, got bool False"),
        ("entities.1.label", 7, "field 'label' of entity 1 must be a string"),
        ("entities.1", [3, 4], "entity 1 must be a JSON object, got list"),
        ("relations.0.label", None, "field 'label' of relation 0 must be a string, got null"),
        ("relations.0.head", True, "field 'head' of relation 0 must be an integer, got bool"),
        ("relations.0.score", "0.9", "field 'score' of relation 0 must be a finite number or null"),
        ("id", None, "field 'id' must be a string, got null"),
        ("id", 17, "field 'id' must be a string, got int 17"),
        ("tokens", "Ann works at Acme", "field 'tokens' must be a list of strings, got str"),
        ("pos", "ABCD", "field 'pos' must be a list of strings, got str"),
        ("ner", ["O", "O", None, "ORG"], "field 'ner' must be a list of strings; item 2 is null"),
        ("heads", [2, 0, 2.0, 2], "field 'heads' must be a list of integers; item 2 is float 2.0"),
        ("meta", "x", "field 'meta' must be a JSON object, got str"),
        ("entities", {"start": 0}, "field 'entities' must be a list, got dict"),
    ],
)
def test_jsonl_rejects_wrong_types(tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: object, message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(JSONL_OK) + "\n" + jsonl_line(field, value) + "\n")
    msg = convert_error(capsys, tmp_path, bad)
    assert f"{bad.name}:2: " in msg and message in msg


def test_jsonl_null_ids_do_not_collide(tmp_path: Path) -> None:
    bad = tmp_path / "ids.jsonl"
    bad.write_text(jsonl_line("id", None) + "\n" + jsonl_line("id", None) + "\n")
    with pytest.raises(RelxInputError, match=r"ids.jsonl:1: field 'id' must be a string"):
        io.read(bad)


@pytest.mark.parametrize(
    "line, message",
    [
        (json.dumps(JSONL_OK).replace('"end": 1,', '"end": 1e400,'), "field 'end' of entity 0 must be an integer, got float inf"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON (nested too deeply)"),
        ('{"id": "a", "tokens": ["x"], "entities": [{"start": ' + "9" * 5000 + ', "end": 1}]}', "invalid JSON (Exceeds the limit"),
    ],
    ids=["overflow", "deep-nesting", "huge-integer"],
)
def test_jsonl_hostile_numbers_and_nesting(tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(JSONL_OK) + "\n" + line + "\n")
    msg = convert_error(capsys, tmp_path, bad)
    assert f"{bad.name}:2: " in msg and message in msg


def test_json_list_deep_nesting_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "deep.json"
    bad.write_text("[" * 100_000 + "]" * 100_000)
    assert "deep.json: invalid JSON (nested too deeply)" in convert_error(capsys, tmp_path, bad, "--from", "tacred")


def test_jsonl_valid_types_still_read(tmp_path: Path) -> None:
    good = tmp_path / "ok.jsonl"
    rec = dict(JSONL_OK, pos=["NNP", "VBZ", "IN", "NNP"], heads=[2, 0, 2, 3], meta={"k": 1})
    rec["relations"] = [dict(JSONL_OK["relations"][0], score=1)]
    good.write_text(json.dumps(rec) + "\n")
    (doc,) = io.read(good)
    assert doc.id == "a" and doc.heads == [2, 0, 2, 3] and doc.relations[0].score == 1.0
    assert doc.entities[1].end == 4 and doc.meta == {"k": 1}


# --- SemEval direction suffixes ---------------------------------------------------------------
@pytest.mark.parametrize("label", ["Cause-Effect(e3,e1)", "Cause-Effect(e1,e1)", "Cause-Effect(e2,e1", "Cause-Effect()"])
def test_semeval_malformed_direction(tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str) -> None:
    bad = tmp_path / "bad_semeval.txt"
    bad.write_text(SEMEVAL_OK + f'2\t"The <e1>cup</e1> holds <e2>tea</e2>."\n{label}\nComment:\n\n')
    msg = convert_error(capsys, tmp_path, bad, "--from", "semeval")
    assert f"{bad.name}:6: malformed direction in label {label!r}" in msg


def test_marked_malformed_direction(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad_kbp.txt"
    bad.write_text('0\t" <e1> Thom </e1> of <e2> Radiohead </e2> . "\nper:employee_of(e2,e3)\n\n')
    assert f"{bad.name}:2: malformed direction" in convert_error(capsys, tmp_path, bad, "--from", "marked")


# --- label set files ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, message",
    [
        ('{"negative": "Other", "labels": "Other"}', "field 'labels' must be a list of strings"),
        ('{"negative": "Other", "labels": ["Other", 3]}', "field 'labels' must be a list of strings"),
        ('{"negative": "Other"}', "label set has no field 'labels'"),
        ('{"labels": ["Other"]}', "label set has no field 'negative'"),
        ('{"negative": null, "labels": ["Other"]}', "field 'negative' must be a string"),
        ('["Other"]', "a label set must be a JSON object"),
        ('{"negative": "Other",\n "labels": [}', "labels.json:2: invalid JSON"),
    ],
)
def test_labelset_load_rejects_malformed_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str) -> None:
    path = tmp_path / "labels.json"
    path.write_text(text)
    with pytest.raises(RelxInputError, match="labels.json") as info:
        LabelSet.load(path)
    assert message in str(info.value)
    msg = convert_error(capsys, tmp_path, path, "--labels", str(path))
    assert message in msg and "RelxInputError" not in msg


def test_labelset_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RelxInputError, match="nope.json: cannot open"):
        LabelSet.load(tmp_path / "nope.json")


def test_one_json_parser_for_data_files_and_model_directories(tmp_path: Path) -> None:
    from relx.data.textio import parse_json
    from relx.models.persistence import parse_json_bytes

    with pytest.raises(RelxInputError, match=r"^f\.json:2: invalid JSON, cut short \(Expecting value"):
        parse_json('{"a":\n [1,', "f.json")
    with pytest.raises(RelxInputError, match=r"^<input>: invalid JSON \(Expecting"):
        parse_json("{]")  # one JSONL record: unlocated, record_context adds the line
    with pytest.raises(RelxInputError, match="nested more than 3 levels deep"):
        parse_json("[[[[1]]]]", "deep.json", max_depth=3)
    path = tmp_path / "config.json"
    with pytest.raises(RelxInputError, match="config.json:1: invalid JSON, cut short"):
        parse_json_bytes(b'{"type": "sv', path)
