"""`relx train` before training starts: data paths relative to the config, run-directory guard, --skip-invalid."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from relx.cli import main
from relx.config import load_config, load_yaml, resolve_data_paths
from relx.errors import RelxConfigError

ROOT = Path(__file__).resolve().parents[2]
DOC = {"id": "1", "tokens": ["Ann", "works", "at", "Acme"], "entities": [{"start": 0, "end": 1}, {"start": 3, "end": 4}], "relations": []}


@pytest.fixture
def fake_training(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace run_experiment: record the raw config it gets instead of training."""
    import relx.training.run

    calls: list[dict[str, Any]] = []

    def run_experiment(
        raw: dict[str, Any], out_dir: str | Path, resume: bool = False, verbose: bool = True, origin: str | None = None
    ) -> SimpleNamespace:
        calls.append({"raw": raw, "out": str(out_dir), "resume": resume, "origin": origin})
        return SimpleNamespace(summary={"train_seconds": 0.0, "best_dev": 0.0})

    monkeypatch.setattr(relx.training.run, "run_experiment", run_experiment)
    return calls


def project(tmp_path: Path) -> Path:
    """tmp/proj/{configs/exp/c.yaml, data/train.jsonl}: the config names data/train.jsonl like the shipped ones."""
    proj = tmp_path / "proj"
    (proj / "configs" / "exp").mkdir(parents=True)
    (proj / "data").mkdir()
    (proj / "data" / "train.jsonl").write_text(json.dumps(DOC) + "\n")
    cfg = {"model": {"type": "marker"}, "data": {"train": "data/train.jsonl", "dev": None}}
    (proj / "configs" / "exp" / "c.yaml").write_text(yaml.safe_dump(cfg))
    return proj / "configs" / "exp" / "c.yaml"


# --- data paths -----------------------------------------------------------------------------------
def test_shipped_config_data_paths_resolve_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = ROOT / "configs" / "semeval" / "marker.yaml"
    monkeypatch.chdir(tmp_path)
    raw = load_config(config)  # the data block comes from configs/semeval/_data.yaml (a base)
    resolve_data_paths(raw, config)
    assert Path(raw["data"]["train"]) == ROOT / "data" / "semeval2010_task8" / "TRAIN_FILE.TXT.gz"
    assert Path(raw["data"]["test"]).is_file()


def test_paths_that_exist_from_the_current_directory_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = project(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(json.dumps(DOC) + "\n")
    monkeypatch.chdir(tmp_path)
    raw = load_yaml(config)
    resolve_data_paths(raw, config)
    assert raw["data"]["train"] == "data/train.jsonl"


def test_train_resolves_paths_against_the_config_and_its_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_training: list[dict[str, Any]]
) -> None:
    config = project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "run")]) == 0
    (call,) = fake_training
    assert Path(call["raw"]["data"]["train"]) == tmp_path / "proj" / "data" / "train.jsonl"
    assert call["raw"]["data"]["dev"] is None


def test_missing_data_path_names_the_key_and_every_place_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project(tmp_path)
    monkeypatch.chdir(tmp_path)
    rc = main(["train", "--config", str(config), "--out", str(tmp_path / "run"), "--set", "data.test=data/test.jsonl"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert err.startswith(f"relx: error: {config}: config.data.test: file 'data/test.jsonl' not found; tried ")
    for base in (tmp_path, tmp_path / "proj" / "configs" / "exp", tmp_path / "proj" / "configs", tmp_path / "proj", Path("/")):
        assert str(base / "data" / "test.jsonl") in err
    with pytest.raises(RelxConfigError, match="config.data.train"):
        resolve_data_paths({"data": {"train": "/no/such/train.jsonl"}}, config)


# --- existing run directories ------------------------------------------------------------------------
@pytest.mark.parametrize("marker", ["result.json", "model"])
def test_train_refuses_an_existing_run_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_training: list[dict[str, Any]], marker: str
) -> None:
    config, out = project(tmp_path), tmp_path / "run"
    out.mkdir()
    if marker == "result.json":
        (out / "result.json").write_text("{}")
    else:
        (out / "model").mkdir()
    assert main(["train", "--config", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{out}: run directory already holds a run ({marker})" in err
    assert "--overwrite" in err and "--resume" in err and not fake_training
    assert main(["train", "--config", str(config), "--out", str(out), "--overwrite"]) == 0
    assert main(["train", "--config", str(config), "--out", str(out), "--resume"]) == 0
    assert [c["resume"] for c in fake_training] == [False, True]


def test_train_into_a_fresh_or_empty_directory_is_allowed(tmp_path: Path, fake_training: list[dict[str, Any]]) -> None:
    config = project(tmp_path)
    (tmp_path / "empty").mkdir()
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "empty")]) == 0
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "new")]) == 0
    assert len(fake_training) == 2


def test_resume_and_overwrite_are_exclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--config", str(project(tmp_path)), "--out", str(tmp_path / "r"), "--resume", "--overwrite"])
    assert "not allowed with argument" in capsys.readouterr().err


# --- invalid records ---------------------------------------------------------------------------------
def test_train_skip_invalid_sets_the_data_policy(tmp_path: Path, fake_training: list[dict[str, Any]]) -> None:
    config = project(tmp_path)
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "a")]) == 0
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "b"), "--skip-invalid"]) == 0
    assert "on_invalid" not in fake_training[0]["raw"]["data"]
    assert fake_training[1]["raw"]["data"]["on_invalid"] == "skip"


def test_train_rejects_an_unknown_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_training: list[dict[str, Any]]) -> None:
    rc = main(["train", "--config", str(project(tmp_path)), "--out", str(tmp_path / "r"), "--set", "data.on_invalid=drop"])
    assert rc == 2 and "config.data.on_invalid must be 'error' or 'skip'" in capsys.readouterr().err
    assert not fake_training


def test_bad_trainer_setting_names_the_config_file_and_key(tmp_path, capsys):
    from relx.cli import main

    config = Path(__file__).resolve().parents[2] / "configs" / "semeval" / "marker.yaml"
    rc = main(["train", "--config", str(config), "--set", "trainer.scheduler=Nope", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert str(config) in err and "trainer.scheduler: unknown scheduler 'Nope'" in err


def test_train_passes_the_rebuild_command_to_the_model_card(tmp_path: Path, fake_training: list[dict[str, Any]]) -> None:
    config = project(tmp_path)
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "a"), "--set", "trainer.epochs=1"]) == 0
    assert fake_training[0]["origin"] == f"relx train --config {config} --set=trainer.epochs=1 --out {tmp_path / 'a'}"
