"""Saved model directories: atomic save, checksums, file modes, and one-line errors for every corruption."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from conftest import make_pair_docs
from relx.cli import main, package_version
from relx.data.labels import LabelSet
from relx.errors import RelxConfigError, RelxInputError
from relx.models.loading import load_model
from relx.models.marker import MarkerModel
from relx.models.persistence import file_sha256, verify_checksums, weight_checksums
from relx.models.svm2stage import Svm2StageModel
from relx.utils import resolve_device
from tiny_models import tiny_config


def fitted_svm() -> Svm2StageModel:
    docs = make_pair_docs()
    model = Svm2StageModel(tiny_config(Svm2StageModel), LabelSet.from_documents(docs, negative="no_relation"))
    model.fit(docs)
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny_bert) -> dict[str, Path]:
    """A marker model on the tiny BERT and a fitted svm2stage model, each saved once."""
    root = tmp_path_factory.mktemp("saved")
    labels = LabelSet.from_documents(make_pair_docs(), negative="no_relation")
    marker = MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}), labels)
    return {"marker": marker.save(root / "marker"), "svm": fitted_svm().save(root / "svm", metrics={"dev": 1.0})}


def copy_of(saved: dict[str, Path], name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved[name], tmp_path / name))


def load_error(directory: Path) -> str:
    """The message of the RelxInputError that loading ``directory`` raises (one line naming the directory)."""
    with pytest.raises(RelxInputError) as info:
        load_model(directory)
    message = str(info.value)
    assert "\n" not in message and str(directory) in message, message
    return message


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def drop_checksums(directory: Path) -> None:
    """Make ``directory`` look like one saved before config.json carried sha256."""
    edit_json(directory / "config.json", lambda c: c.pop("sha256"))


# --- writing -----------------------------------------------------------------------------------
def test_config_lists_sha256_of_every_weight_file(saved):
    for name in ("marker", "svm"):
        meta = json.loads((saved[name] / "config.json").read_text(encoding="utf-8"))
        assert set(meta) >= {"type", "format_version", "config", "state", "sha256"}
        assert meta["sha256"] == {"model.safetensors": file_sha256(saved[name] / "model.safetensors")}
    assert (saved["marker"] / "encoder" / "config.json").is_file()
    assert json.loads((saved["svm"] / "metrics.json").read_text(encoding="utf-8")) == {"dev": 1.0}


def test_checksums_cover_nested_weight_files(tmp_path):
    (tmp_path / "encoder").mkdir()
    for rel in ("model.safetensors", "encoder/model.safetensors", "svm/coef.npz", "svm/bias.npy", "notes.txt", ".x.safetensors.tmp"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(rel.encode())
    sums = weight_checksums(tmp_path)
    assert sorted(sums) == ["encoder/model.safetensors", "model.safetensors", "svm/bias.npy", "svm/coef.npz"]
    verify_checksums(tmp_path, {"sha256": sums})
    (tmp_path / "svm" / "coef.npz").write_bytes(b"changed")
    with pytest.raises(RelxInputError, match=r"coef\.npz: checksum mismatch"):
        verify_checksums(tmp_path, {"sha256": sums})
    with pytest.raises(RelxInputError, match="bad 'sha256' entry"):
        verify_checksums(tmp_path, {"sha256": {"../outside.safetensors": "00"}})


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_saved_files_have_the_usual_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        directory = fitted_svm().save(tmp_path / "svm")
    finally:
        os.umask(old)
    for path in directory.rglob("*"):
        assert (path.stat().st_mode & 0o777) == (0o777 if path.is_dir() else 0o666) & ~umask, path


def test_marker_weight_file_mode(saved):
    assert (saved["marker"] / "model.safetensors").stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_write_files_fills_an_existing_directory(tmp_path):
    model = fitted_svm()
    target = tmp_path / "ckpt"
    target.mkdir()
    assert model.write_files(target) == target
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "labels.json", "model.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # written in place, no temp sibling
    docs = make_pair_docs()
    assert [d.meta["pair_label"] for d in load_model(target).predict(docs)] == [d.meta["pair_label"] for d in model.predict(docs)]


def test_save_replaces_the_directory_as_a_whole(tmp_path):
    target = tmp_path / "svm"
    fitted_svm().save(target, metrics={"a": 1})
    (target / "stale.txt").write_text("old run", encoding="utf-8")
    fitted_svm().save(target)
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "labels.json", "model.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["svm"]


def test_save_refuses_to_replace_a_file(tmp_path):
    target = tmp_path / "results.json"
    target.write_text("{}", encoding="utf-8")
    with pytest.raises(RelxInputError, match="not a directory"):
        fitted_svm().save(target)
    assert target.read_text(encoding="utf-8") == "{}"


def test_failed_save_leaves_the_previous_directory(tmp_path, monkeypatch):
    target = tmp_path / "svm"
    fitted_svm().save(target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    model = fitted_svm()

    def broken(directory: Path) -> None:
        (directory / "model.safetensors").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(model, "save_weights", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["svm"]
    load_model(target)


def test_directory_without_checksums_still_loads(saved, tmp_path):
    directory = copy_of(saved, "svm", tmp_path)
    drop_checksums(directory)
    docs = make_pair_docs()
    want = [(d.meta["pair_label"], d.meta["pair_score"]) for d in load_model(saved["svm"]).predict(docs)]
    assert [(d.meta["pair_label"], d.meta["pair_score"]) for d in load_model(directory).predict(docs)] == want


# --- corruption -> one RelxInputError naming the file --------------------------------------------
def flip_bytes(directory: Path) -> None:
    path = directory / "model.safetensors"
    data = bytearray(path.read_bytes())
    for i in (-40, -20, -4):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def damage_header(directory: Path) -> None:
    path = directory / "model.safetensors"
    data = path.read_bytes()
    path.write_bytes(b"\xff" * 8 + data[8:])


def wrong_shape(directory: Path) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(directory / "model.safetensors"))
    name = next(k for k, v in tensors.items() if v.ndim == 2)
    tensors[name] = torch.zeros(3, 3)
    save_file(tensors, str(directory / "model.safetensors"))


CASES = [  # id, model, corrupt(directory), checksums kept?, file named, words in the message
    ("dir-missing", "svm", shutil.rmtree, True, "", "model directory not found"),
    ("config-missing", "svm", lambda d: (d / "config.json").unlink(), True, "config.json", "missing"),
    ("config-truncated", "svm", lambda d: truncate(d / "config.json"), True, "config.json", "cut short"),
    ("config-no-type", "svm", lambda d: edit_json(d / "config.json", lambda c: c.pop("type")), True, "config.json", "'type'"),
    ("config-no-config", "svm", lambda d: edit_json(d / "config.json", lambda c: c.pop("config")), True, "config.json", "'config'"),
    ("config-bad-key", "svm", lambda d: edit_json(d / "config.json", lambda c: c["config"].update(nope=1)), True, "config.json", "nope"),
    (
        "unknown-type",
        "svm",
        lambda d: edit_json(d / "config.json", lambda c: c.update(type="nope")),
        True,
        "config.json",
        "unknown model type 'nope'",
    ),
    ("state-key-missing", "svm", lambda d: edit_json(d / "config.json", lambda c: c["state"].pop("tfidf")), True, "config.json", "'tfidf'"),
    ("labels-missing", "svm", lambda d: (d / "labels.json").unlink(), True, "labels.json", "missing"),
    ("labels-truncated", "svm", lambda d: truncate(d / "labels.json"), True, "labels.json", "cut short"),
    ("labels-wrong-shape", "svm", lambda d: (d / "labels.json").write_text('{"labels": 3}'), True, "labels.json", "expected"),
    ("weights-missing", "svm", lambda d: (d / "model.safetensors").unlink(), True, "model.safetensors", "missing"),
    ("weights-missing-old-dir", "svm", lambda d: (d / "model.safetensors").unlink(), False, "model.safetensors", "missing"),
    ("weights-truncated", "svm", lambda d: truncate(d / "model.safetensors"), True, "model.safetensors", "checksum mismatch"),
    ("weights-truncated-old-dir", "svm", lambda d: truncate(d / "model.safetensors"), False, "model.safetensors", "truncated or damaged"),
    ("marker-weights-missing", "marker", lambda d: (d / "model.safetensors").unlink(), False, "model.safetensors", "missing"),
    ("marker-weights-truncated", "marker", lambda d: truncate(d / "model.safetensors"), False, "model.safetensors", "truncated or damaged"),
    ("marker-header-damaged", "marker", damage_header, False, "model.safetensors", "truncated or damaged"),
    ("marker-flipped-bytes", "marker", flip_bytes, True, "model.safetensors", "checksum mismatch, the file is corrupt or was modified"),
    ("marker-wrong-shape", "marker", wrong_shape, False, "model.safetensors", "size mismatch for"),
    ("encoder-missing", "marker", lambda d: shutil.rmtree(d / "encoder"), True, "encoder", "missing"),
    ("encoder-config-truncated", "marker", lambda d: truncate(d / "encoder" / "config.json"), True, "encoder/config.json", "cut short"),
    ("tokenizer-truncated", "marker", lambda d: truncate(d / "encoder" / "tokenizer.json"), True, "encoder/tokenizer.json", "cut short"),
]


@pytest.mark.parametrize(("model", "corrupt", "checksums", "filename", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_corruption_is_one_line_naming_the_file(saved, tmp_path, model, corrupt, checksums, filename, words):
    directory = copy_of(saved, model, tmp_path)
    if not checksums:
        drop_checksums(directory)
    corrupt(directory)
    message = load_error(directory)
    assert message.startswith(str(directory / filename) + ":" if filename else str(directory)), message
    assert words in message


def test_state_key_error_names_config_and_key(saved, tmp_path):
    directory = copy_of(saved, "svm", tmp_path)
    edit_json(directory / "config.json", lambda c: c["state"].pop("detector_classes"))
    assert load_error(directory).startswith(f"{directory / 'config.json'}: saved state has no 'detector_classes' entry")


# --- command line ------------------------------------------------------------------------------
def predict_args(model: Path, tmp_path: Path, output: Path | None = None, *extra: str) -> list[str]:
    text = tmp_path / "in.txt"
    text.write_text("<e1>bill gates</e1> founded <e2>microsoft</e2> .\n", encoding="utf-8")
    return ["predict", str(model), "--input", str(text), "--output", str(output or tmp_path / "out.jsonl"), *extra]


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("relx: error: "), err
    return err.strip()


def test_cli_corrupt_model_exits_2_with_one_line(saved, tmp_path, capsys):
    directory = copy_of(saved, "svm", tmp_path)
    flip_bytes(directory)
    assert main(predict_args(directory, tmp_path)) == 2
    assert f"{directory / 'model.safetensors'}: checksum mismatch" in error_line(capsys)


def test_cli_predict_ok_and_output_is_a_directory(saved, tmp_path, capsys):
    assert main(predict_args(saved["svm"], tmp_path)) == 0
    capsys.readouterr()
    out_dir = tmp_path / "outdir"
    out_dir.mkdir()
    assert main(predict_args(saved["svm"], tmp_path, out_dir)) == 2
    line = error_line(capsys)
    assert str(out_dir) in line and "directory" in line.lower()


def test_cli_os_error_names_the_output_path(tmp_path, monkeypatch, capsys):
    import relx.cli.models

    target = tmp_path / "out.jsonl"
    target.mkdir()

    def write_over_directory(args) -> int:  # what an atomic write does when the output is a directory
        tmp = tmp_path / ".out.jsonl.tmp"
        tmp.write_text("{}\n", encoding="utf-8")
        os.replace(tmp, target)
        return 0

    monkeypatch.setattr(relx.cli.models, "run", write_over_directory)
    assert main(["models"]) == 2
    line = error_line(capsys)
    assert line.startswith(f"relx: error: {target}: ") and "directory" in line.lower()


def test_cli_permission_error_is_one_line(monkeypatch, capsys):
    import relx.cli.models

    def denied(args) -> int:
        raise PermissionError(13, "Permission denied", "/root/out.jsonl")

    monkeypatch.setattr(relx.cli.models, "run", denied)
    assert main(["models"]) == 2
    assert error_line(capsys) == "relx: error: /root/out.jsonl: Permission denied"


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"relx {package_version()}"
    import relx

    assert package_version() == relx.__version__


def test_cli_invalid_device_name(saved, tmp_path, capsys):
    assert main(predict_args(saved["svm"], tmp_path, None, "--device", "gpu")) == 2
    assert "unknown device 'gpu'" in error_line(capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cli_cuda_without_gpu(saved, tmp_path, capsys):
    assert main(predict_args(saved["svm"], tmp_path, None, "--device", "cuda")) == 2
    assert "device 'cuda'" in error_line(capsys)


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    for bad in ("gpu", "cuda:x", "cuda0", "", "CPU:0"):
        with pytest.raises(RelxConfigError, match="unknown device"):
            resolve_device(bad)
    with pytest.raises(RelxConfigError, match="cuda:99"):
        resolve_device("cuda:99")
