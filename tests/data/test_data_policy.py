"""Invalid-record policy (``on_invalid: error | skip``) from the readers up to `relx train` / `relx data`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relx.cli import main
from relx.data import io
from relx.errors import RelxConfigError, RelxInputError

# KBP37-style records as found in the public release: record 2 has an empty <e1> tag.
KBP37_LIKE = (
    '0\t" <e1> Thom Yorke </e1> of <e2> Radiohead </e2> has included the + for many of his sounds . "\n'
    "per:employee_of(e1,e2)\n\n"
    '1\t" <e1> </e1> , the chairman of <e2> Acme Corp </e2> , said on Monday . "\n'
    "org:top_members/employees(e2,e1)\n\n"
    '2\t" In 1976 , <e2> Apple </e2> was founded by <e1> Steve Jobs </e1> in Cupertino . "\n'
    "org:founded_by(e2,e1)\n\n"
    '3\t" <e1> Paris </e1> is far from <e2> Tokyo </e2> . "\n'
    "no_relation\n\n"
)
# The same defect in a SemEval-format file (spaCy tokenization).
SEMEVAL_LIKE = (
    '1\t"The <e1>company</e1> fabricates plastic <e2>chairs</e2>."\nProduct-Producer(e2,e1)\nComment:\n\n'
    '2\t"The <e1> </e1> holds <e2>tea</e2>."\nContent-Container(e2,e1)\nComment:\n\n'
    '3\t"The <e1>cup</e1> holds <e2>tea</e2>."\nContent-Container(e2,e1)\nComment:\n\n'
)


@pytest.fixture
def kbp(tmp_path: Path) -> Path:
    path = tmp_path / "kbp37_train.txt"
    path.write_text(KBP37_LIKE, encoding="utf-8")
    return path


def warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("relx: warning:")]


# --- library -----------------------------------------------------------------------------------
def test_default_policy_stops_at_the_broken_record(kbp: Path) -> None:
    with pytest.raises(RelxInputError, match=r"kbp37_train.txt:4: entity e1 is empty") as info:
        io.read(kbp, "marked")
    assert info.value.where == 4


def test_skip_drops_broken_records_and_warns(kbp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs, report = io.read_with_report(kbp, "marked", on_invalid="skip")
    assert [d.id for d in docs] == ["0", "2", "3"]
    assert report.skipped == 1 and report.errors[0].where == 4
    (line,) = warning_lines(capsys.readouterr().err)
    assert "skipped 1 invalid record in" in line and "kbp37_train.txt:4: entity e1 is empty" in line
    assert io.read(kbp, "marked", on_invalid="skip") == docs


def test_skip_semeval_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "semeval_like.txt"
    path.write_text(SEMEVAL_LIKE, encoding="utf-8")
    docs, report = io.read_with_report(path, "semeval", on_invalid="skip")
    assert [d.id for d in docs] == ["1", "3"] and report.skipped == 1
    assert "semeval_like.txt:5: entity e1 is empty" in capsys.readouterr().err


def test_no_warning_when_nothing_is_skipped(capsys: pytest.CaptureFixture[str]) -> None:
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "marked" / "kbp37_tiny.txt"
    docs, report = io.read_with_report(fixture, "marked", on_invalid="skip")
    assert len(docs) == 3 and report.skipped == 0
    assert capsys.readouterr().err == ""


def test_warning_shows_the_first_few_locations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = {"id": "g", "tokens": ["a", "b"], "entities": [], "relations": []}
    lines = [json.dumps(good)] + [json.dumps(dict(good, id=f"b{i}", tokens="ab")) for i in range(5)] + ["{oops"]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")
    docs, report = io.read_with_report(path, on_invalid="skip")
    assert len(docs) == 1 and report.skipped == 6
    (line,) = warning_lines(capsys.readouterr().err)
    assert "skipped 6 invalid records" in line
    assert "many.jsonl:2: field 'tokens'" in line and "many.jsonl:4:" in line and "many.jsonl:5:" not in line
    assert "and 3 more" in line
    assert report.errors[-1].format().startswith(f"{path}:7: invalid JSON")


@pytest.mark.parametrize("fmt", ["tacred", "spert", "casrel", "fewrel"])
def test_skip_in_json_list_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    good_tacred = {
        "id": "r1",
        "relation": "per:title",
        "token": ["John", "CEO"],
        "subj_start": 0,
        "subj_end": 0,
        "obj_start": 1,
        "obj_end": 1,
    }
    records = {
        "tacred": [good_tacred, dict(good_tacred, id="r2", obj_end=9), dict(good_tacred, id="r3")],
        "spert": [
            {"tokens": ["a", "b"], "entities": [{"type": "X", "start": 0, "end": 1}], "relations": [], "orig_id": 1},
            {"tokens": ["a", "b"], "entities": [{"type": "X", "start": 0, "end": 5}], "relations": [], "orig_id": 2},
            {"tokens": ["c"], "entities": [], "relations": [], "orig_id": 3},
        ],
        "casrel": [{"text": "x y", "triple_list": [["x", "r", "y"]]}, {"text": "", "triple_list": []}, {"text": "z", "triple_list": []}],
        "fewrel": {
            "P1": [
                {"tokens": ["a", "b"], "h": ["a", "Q1", [[0]]], "t": ["b", "Q2", [[1]]]},
                {"tokens": ["a", "b"], "h": ["a", "Q1", [[0]]], "t": ["b", "Q2", [[1, 2]]]},
                {"tokens": ["a", "b"], "h": ["b", "Q2", [[1]]], "t": ["a", "Q1", [[0]]]},
            ]
        },
    }[fmt]
    path = tmp_path / f"data_{fmt}.json"
    path.write_text(json.dumps(records))
    with pytest.raises(RelxInputError):
        io.read(path, fmt)
    docs, report = io.read_with_report(path, fmt, on_invalid="skip")
    assert len(docs) == 2 and report.skipped == 1
    assert len(warning_lines(capsys.readouterr().err)) == 1


def test_skip_unknown_labels_of_a_fixed_label_set(kbp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from relx.data.labels import LabelSet

    labels = LabelSet(["per:employee_of(e1,e2)", "per:employee_of(e2,e1)"])
    docs, report = io.read_with_report(kbp, "marked", labels=labels, on_invalid="skip")
    assert [d.id for d in docs] == ["0", "3"] and report.skipped == 2
    assert "unknown label 'org:founded_by(e2,e1)'" in capsys.readouterr().err


def test_file_level_problems_are_never_skipped(tmp_path: Path) -> None:
    with pytest.raises(RelxInputError, match="cannot open"):
        io.read(tmp_path / "missing.jsonl", on_invalid="skip")
    bad = tmp_path / "notalist.json"
    bad.write_text('{"id": 1}')
    with pytest.raises(RelxInputError, match="expected a JSON list"):
        io.read(bad, "tacred", on_invalid="skip")


def test_unknown_policy_is_a_config_error(kbp: Path) -> None:
    with pytest.raises(RelxConfigError, match="on_invalid must be one of error, skip"):
        io.read(kbp, "marked", on_invalid="ignore")


# --- training data --------------------------------------------------------------------------------
def test_load_splits_counts_skipped_records_per_split(kbp: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from relx.training.run import DataConfig, load_splits

    test_file = tmp_path / "kbp37_test.txt"
    test_file.write_text(KBP37_LIKE.split("\n\n", 1)[1], encoding="utf-8")  # records 1-3: one broken
    with pytest.raises(RelxInputError, match="kbp37_train.txt:4"):
        load_splits(DataConfig(train=str(kbp), test=str(test_file), format="marked"))
    data = DataConfig(train=str(kbp), test=str(test_file), format="marked", on_invalid="skip")
    train, dev, test, invalid = load_splits(data)
    assert len(train) == 3 and dev is None and len(test) == 2
    assert invalid == {"train": 1, "dev": 0, "test": 1}
    assert len(warning_lines(capsys.readouterr().err)) == 2


def test_run_experiment_reports_skipped_records(kbp: Path, tmp_path: Path) -> None:
    from relx.training.run import run_experiment

    data = {"train": str(kbp), "test": str(kbp), "format": "marked", "on_invalid": "skip"}
    raw = {"model": {"type": "svm2stage"}, "data": data, "trainer": {"progress": False, "num_threads": 1}}
    result = run_experiment(raw, tmp_path / "run", verbose=False).summary
    assert result["invalid_records_skipped"] == {"train": 1, "dev": 0, "test": 1}
    saved = json.loads((tmp_path / "run" / "result.json").read_text())
    assert saved["invalid_records_skipped"] == {"train": 1, "dev": 0, "test": 1} and saved["train_docs"] == 3


def test_data_config_validates_on_invalid() -> None:
    from relx.config import from_dict
    from relx.training.run import DataConfig

    assert from_dict(DataConfig, {"on_invalid": "skip"}).on_invalid == "skip"
    with pytest.raises(RelxConfigError, match="config.data.on_invalid must be 'error' or 'skip'"):
        from_dict(DataConfig, {"on_invalid": "drop"})


# --- command line ---------------------------------------------------------------------------------
def test_data_convert_skip_invalid(kbp: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["data", "convert", str(kbp), str(out), "--from", "marked"]) == 2
    assert "kbp37_train.txt:4: entity e1 is empty" in capsys.readouterr().err
    assert main(["data", "convert", str(kbp), str(out), "--from", "marked", "--skip-invalid"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"wrote 3 documents to {out} (1 invalid records skipped)"
    assert len(warning_lines(captured.err)) == 1 and "kbp37_train.txt:4:" in captured.err
    assert [d.id for d in io.read(out)] == ["0", "2", "3"]


def test_data_stats_skip_invalid(kbp: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "stats.json"
    assert main(["data", "stats", str(kbp), "--format", "marked", "--json", str(out)]) == 2
    capsys.readouterr()
    assert main(["data", "stats", str(kbp), "--format", "marked", "--json", str(out), "--skip-invalid"]) == 0
    assert "skipped 1 invalid record" in capsys.readouterr().err
    stats = json.loads(out.read_text())
    assert stats["documents"] == 3 and stats["invalid_records_skipped"] == 1
