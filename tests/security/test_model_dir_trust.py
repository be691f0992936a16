"""A model directory is data, never code: custom-code configs, links out of the directory, FIFOs,
devices, oversized or deeply nested JSON and lying safetensors headers are refused with one line
naming the file, before transformers or the safetensors library sees them."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import make_pair_docs, save_tiny_marker
from relx.cli import main
from relx.data.labels import LabelSet
from relx.errors import RelxInputError
from relx.models import persistence
from relx.models.loading import load_model
from tiny_models import tiny_config

SRC = Path(persistence.__file__).resolve().parents[2]  # the relx the tests import, for child interpreters
EVIL_CONFIG = {"model_type": "evil", "auto_map": {"AutoConfig": "modeling_evil.EvilConfig", "AutoModel": "modeling_evil.EvilModel"}}
EVIL_TOKENIZER = {"tokenizer_class": "EvilTokenizer", "auto_map": {"AutoTokenizer": ["modeling_evil.EvilTokenizer", None]}}


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory, tiny_bert) -> dict[str, Path]:
    """A tiny marker model (transformer encoder/) and a fitted svm2stage model (numpy weights), saved once."""
    from relx.models.svm2stage import Svm2StageModel

    root = tmp_path_factory.mktemp("trust")
    docs = make_pair_docs()
    svm = Svm2StageModel(tiny_config(Svm2StageModel), LabelSet.from_documents(docs, negative="no_relation"))
    svm.fit(docs)
    return {"marker": save_tiny_marker(root / "marker", tiny_bert), "svm": svm.save(root / "svm")}


def copy_of(saved: dict[str, Path], name: str, tmp_path: Path, checksums: bool = True) -> Path:
    directory = Path(shutil.copytree(saved[name], tmp_path / name))
    if not checksums:  # like a directory saved before config.json carried sha256
        meta = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        meta.pop("sha256")
        (directory / "config.json").write_text(json.dumps(meta), encoding="utf-8")
    return directory


@pytest.fixture()
def no_code(monkeypatch, tmp_path) -> Path:
    """The marker file the custom code would write; ``input()`` answers 'y' to transformers' "run the custom
    code? [y/N]" and its modules cache is a temporary folder (so a regression pollutes nothing)."""
    import builtins

    import transformers.dynamic_module_utils as dmu

    monkeypatch.setattr(builtins, "input", lambda *a, **k: "y")
    monkeypatch.setattr(dmu, "HF_MODULES_CACHE", str(tmp_path / "hf_modules"))
    marker = tmp_path / "PWNED"
    yield marker
    assert not marker.exists(), "the model directory's Python code ran"


def make_evil(directory: Path, marker: Path, config: dict | None = EVIL_CONFIG, tokenizer: dict | None = None) -> Path:
    """Turn an encoder folder malicious: configs whose auto_map points at modeling_evil.py, which writes ``marker``."""
    code = (
        f"open({str(marker)!r}, 'w').write('pwned')\nfrom transformers import PretrainedConfig\n\n\n"
        "class EvilConfig(PretrainedConfig):\n    model_type = 'evil'\n"
    )
    (directory / "modeling_evil.py").write_text(code, encoding="utf-8")
    if config is not None:
        (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    if tokenizer is not None:
        (directory / "tokenizer_config.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    return directory


def refused(call, *args, **kwargs) -> str:
    """The one-line RelxInputError message of ``call(*args, **kwargs)``."""
    with pytest.raises(RelxInputError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message, message
    return message


# --- 1. custom code (auto_map / trust_remote_code) is never run ---------------------------------------
CODE_CASES = {  # id: (config.json, tokenizer_config.json, file named, key named); None keeps the saved file
    "config-auto_map": (EVIL_CONFIG, None, "config.json", "auto_map"),
    "tokenizer-auto_map": (None, EVIL_TOKENIZER, "tokenizer_config.json", "auto_map"),
    "nested-trust_remote_code": (None, {"init": {"trust_remote_code": True}}, "tokenizer_config.json", "trust_remote_code"),
}


@pytest.mark.parametrize(("config", "tokenizer", "filename", "key"), CODE_CASES.values(), ids=CODE_CASES.keys())
def test_relx_load_refuses_custom_code_in_encoder(saved, tmp_path, no_code, config, tokenizer, filename, key):
    import relx

    directory = copy_of(saved, "marker", tmp_path)
    make_evil(directory / "encoder", no_code, config, tokenizer)
    message = refused(relx.load, directory)
    assert message.startswith(f"{directory / 'encoder' / filename}: carries {key!r}"), message
    assert "never runs code" in message


def test_training_encoder_with_custom_code_is_refused(tmp_path, tiny_bert, no_code):
    from relx.models.marker import MarkerModel

    evil = make_evil(Path(shutil.copytree(tiny_bert, tmp_path / "evil")), no_code, tokenizer=EVIL_TOKENIZER)
    config = tiny_config(MarkerModel, {"bert": str(evil)})
    message = refused(MarkerModel, config, LabelSet.from_documents(make_pair_docs()))
    assert message.startswith(f"{evil / 'config.json'}: carries 'auto_map'"), message


def test_gpt2_and_gpu_bundle_encoders_with_custom_code_are_refused(tmp_path, tiny_gpt2, tiny_bert, no_code):
    from relx.cli.export import export_fp16_encoder
    from relx.models.gpt2_clf import GPT2ClfModel

    gpt2 = make_evil(Path(shutil.copytree(tiny_gpt2, tmp_path / "gpt2")), no_code, config=None, tokenizer=EVIL_TOKENIZER)
    message = refused(GPT2ClfModel, tiny_config(GPT2ClfModel, {"gpt2": str(gpt2)}), LabelSet.from_documents(make_pair_docs()))
    assert message.startswith(f"{gpt2 / 'tokenizer_config.json'}: carries 'auto_map'"), message
    bert = make_evil(Path(shutil.copytree(tiny_bert, tmp_path / "bert")), no_code)
    assert refused(export_fp16_encoder, bert, tmp_path / "bundle" / "encoder").startswith(f"{bert / 'config.json'}: carries 'auto_map'")
    assert not (tmp_path / "bundle").exists()


def test_cli_train_with_custom_code_encoder_exits_2(tmp_path, tiny_bert, no_code, capsys):
    evil = make_evil(Path(shutil.copytree(tiny_bert, tmp_path / "evil")), no_code)
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(d.to_dict()) + "\n" for d in make_pair_docs()), encoding="utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "model": {"type": "marker", "encoder": str(evil)},
                "data": {"train": str(train), "dev": None},
                "trainer": {"epochs": 1, "progress": False},
            }
        ),
        encoding="utf-8",
    )
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{evil / 'config.json'}: carries 'auto_map'" in err, err


def test_cli_predict_serve_ray_actor_and_onnx_export_refuse_custom_code(saved, tmp_path, no_code, capsys):
    """Every entry point that loads a model directory goes through the same check."""
    from relx.integrations.http import serve
    from relx.integrations.ray_batch import Predictor

    directory = copy_of(saved, "marker", tmp_path)
    make_evil(directory / "encoder", no_code)
    named = f"{directory / 'encoder' / 'config.json'}: carries 'auto_map'"
    text = tmp_path / "in.txt"
    text.write_text("<e1>bill gates</e1> founded <e2>microsoft</e2> .\n", encoding="utf-8")
    assert main(["predict", str(directory), "--input", str(text), "--output", str(tmp_path / "out.jsonl")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err, err
    assert refused(serve, str(directory), port=0).startswith(named)  # port 0: any free port, whatever else runs here
    assert refused(Predictor, str(directory), 4, "torch", None, str(tmp_path / "staging"), False).startswith(named)
    pytest.importorskip("onnxruntime")
    from relx.inference.engines.onnx import export_onnx

    assert refused(export_onnx, directory, tmp_path / "onnx").startswith(named)


def test_spacy_component_refuses_custom_code(saved, tmp_path, no_code):
    spacy = pytest.importorskip("spacy")
    import relx.integrations.spacy_component  # noqa: F401

    directory = copy_of(saved, "marker", tmp_path)
    make_evil(directory / "encoder", no_code)
    assert refused(spacy.blank("en").add_pipe, "relx", config={"model": str(directory)}).startswith(
        f"{directory / 'encoder' / 'config.json'}: carries 'auto_map'"
    )


def test_transformers_is_told_not_to_trust_remote_code(tmp_path, tiny_bert, no_code, monkeypatch):
    """Second line of defence: with relx's own check switched off, the 'y' on stdin still runs nothing,
    because every transformers call passes trust_remote_code=False (transformers refuses)."""
    import relx.nn.encoder as enc

    monkeypatch.setattr(enc, "check_encoder_dir", lambda path: Path(path))
    evil = make_evil(Path(shutil.copytree(tiny_bert, tmp_path / "evil")), no_code, tokenizer=EVIL_TOKENIZER)
    with pytest.raises(ValueError, match="trust_remote_code"):
        enc.load_encoder(evil, pretrained=False)
    with pytest.raises(ValueError, match="trust_remote_code"):
        enc.load_encoder(evil, pretrained=True)
    with pytest.raises(ValueError, match="trust_remote_code"):
        enc.load_tokenizer(evil)


def test_plain_encoders_and_models_still_load(saved, tiny_bert, tiny_gpt2):
    from relx.nn.encoder import check_encoder_dir

    assert check_encoder_dir(tiny_bert) == tiny_bert and check_encoder_dir(tiny_gpt2) == tiny_gpt2
    assert load_model(saved["marker"]).registered_name == "marker"


# --- 2. JSON files and every file of the tree: regular files inside the directory, bounded ----------------
def isolated(code: str, timeout: float = 90) -> dict:
    """Run ``code`` (which prints one JSON line) in a fresh interpreter with 2 GiB of address space and a
    timeout, so a regression (reading /dev/zero, blocking on a FIFO) fails the test instead of the run."""
    prelude = "import resource, json\nresource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
    env = {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1"}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "seconds": time.monotonic() - started}


LOAD_IN_CHILD = """
from relx.errors import RelxInputError
from relx.models.persistence import read_model_meta, read_labels
try:
    read_model_meta({directory!r}); read_labels({directory!r})
    print(json.dumps({{"error": None}}))
except RelxInputError as exc:
    print(json.dumps({{"error": str(exc)}}))
"""


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_config_json_linked_to_a_device_is_refused_at_once(saved, tmp_path, device):
    directory = copy_of(saved, "svm", tmp_path)
    (directory / "config.json").unlink()
    (directory / "config.json").symlink_to(device)
    got = isolated(LOAD_IN_CHILD.format(directory=str(directory)))
    assert got["error"] and "\n" not in got["error"], got
    assert got["error"].startswith(f"{directory / 'config.json'}: symbolic link to {device}, outside the model directory"), got
    assert refused(load_model, directory) == got["error"]


def test_fifo_labels_json_is_refused_without_hanging(saved, tmp_path):
    directory = copy_of(saved, "svm", tmp_path)
    (directory / "labels.json").unlink()
    os.mkfifo(directory / "labels.json")
    got = isolated(LOAD_IN_CHILD.format(directory=str(directory)), timeout=30)
    assert (
        got["error"] == f"{directory / 'labels.json'}: a FIFO, not a regular file (refused: a model directory holds only files and folders)"
    )
    assert refused(load_model, directory) == got["error"]


def test_fifo_in_encoder_folder_is_refused(saved, tmp_path):
    directory = copy_of(saved, "marker", tmp_path)
    os.mkfifo(directory / "encoder" / "special_tokens_map.json")
    assert refused(load_model, directory).startswith(f"{directory / 'encoder' / 'special_tokens_map.json'}: a FIFO, not a regular file")


def test_read_json_file_refuses_devices_and_directories(tmp_path):
    assert "a character device, not a regular file" in refused(persistence.read_json_file, Path("/dev/zero"), Path("/dev"))
    assert "is a directory" in refused(persistence.read_json_file, tmp_path, tmp_path.parent)


def test_oversized_json_is_refused_naming_the_cap(saved, tmp_path, monkeypatch):
    directory = copy_of(saved, "svm", tmp_path)
    monkeypatch.setattr(persistence, "JSON_SIZE_CAP", 2 << 20)
    (directory / "labels.json").write_text(json.dumps({"labels": ["x" * (3 << 20)], "negative": "no_relation"}), encoding="utf-8")
    message = refused(load_model, directory)
    assert message.startswith(f"{directory / 'labels.json'}: ") and "over the 2 MiB limit for a JSON file" in message


@pytest.mark.parametrize(
    ("filename", "text"),
    [
        ("config.json", "[" * 100_000),
        ("labels.json", "[" * 100_000 + "]" * 100_000),
        ("config.json", '{"type": "svm2stage", "config": {}, "state": ' + "[" * 300 + "]" * 300 + "}"),  # parses, but too deep
        ("encoder/tokenizer_config.json", "{" + '"a": {' * 50_000 + "}" * 50_001),
    ],
)
def test_deeply_nested_json_is_one_line(saved, tmp_path, filename, text):
    directory = copy_of(saved, "marker" if filename.startswith("encoder") else "svm", tmp_path)
    (directory / filename).write_text(text, encoding="utf-8")
    message = refused(load_model, directory)
    assert message.startswith(f"{directory / filename}: ") and "nested more than" in message, message


@pytest.mark.parametrize("target", ["labels.json", "encoder/vocab.txt", "encoder/tokenizer.json", "model.safetensors"])
def test_symlink_out_of_the_model_directory_is_refused(saved, tmp_path, target):
    directory = copy_of(saved, "marker", tmp_path)
    outside = tmp_path / "elsewhere" / Path(target).name
    outside.parent.mkdir()
    if (directory / target).exists():
        shutil.move(directory / target, outside)
    else:
        outside.write_text("secret\n", encoding="utf-8")  # e.g. ~/.ssh/id_rsa read as a vocabulary
    (directory / target).symlink_to(outside)
    message = refused(load_model, directory)
    assert message.startswith(f"{directory / target}: symbolic link to {outside}, outside the model directory"), message


def test_symlinked_encoder_folder_out_of_the_directory_is_refused(saved, tmp_path):
    directory = copy_of(saved, "marker", tmp_path)
    shutil.move(directory / "encoder", tmp_path / "encoder")
    (directory / "encoder").symlink_to(tmp_path / "encoder")
    assert refused(load_model, directory).startswith(f"{directory / 'encoder'}: symbolic link to {tmp_path / 'encoder'}, outside")


def test_symlinks_inside_the_directory_are_allowed(saved, tmp_path):
    directory = copy_of(saved, "marker", tmp_path)
    (directory / "data").mkdir()
    shutil.move(directory / "labels.json", directory / "data" / "labels.json")
    (directory / "labels.json").symlink_to(Path("data") / "labels.json")
    shutil.move(directory / "model.safetensors", directory / "data" / "model.safetensors")
    (directory / "model.safetensors").symlink_to(directory / "data" / "model.safetensors")
    linked = tmp_path / "link-to-model"
    linked.symlink_to(directory)  # the directory itself may be reached through a link
    assert load_model(linked).registered_name == "marker"


def test_onnx_meta_is_read_by_the_same_reader(tmp_path):
    from relx.inference.engines.onnx import read_meta

    (tmp_path / "elsewhere.json").write_text('{"inputs": [], "files": {}}', encoding="utf-8")
    export = tmp_path / "export"
    export.mkdir()
    (export / "onnx.json").symlink_to(tmp_path / "elsewhere.json")
    assert "outside the model directory" in refused(read_meta, export)
    (export / "onnx.json").unlink()
    (export / "onnx.json").write_text("[" * 100_000, encoding="utf-8")
    assert "nested more than" in refused(read_meta, export)
    (export / "onnx.json").write_text(json.dumps({"inputs": [], "files": {"onnx": {"file": "../../model.onnx"}}}), encoding="utf-8")
    assert "must name a file in the export folder" in refused(read_meta, export)


# --- 3. safetensors headers are checked by relx before anything is allocated ---------------------------------
def safetensors_bytes(header: dict, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def test_header_claiming_2_gib_in_a_tiny_file_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes({"w": {"dtype": "F32", "shape": [2**29], "data_offsets": [0, 2**31]}}, b"\0" * 16))
    message = refused(persistence.check_safetensors, path)
    assert message == (
        f"{path}: truncated or damaged safetensors file (tensor 'w' claims bytes 0..2147483648 but the file holds 16 bytes of tensor data)"
    )


@pytest.mark.parametrize(
    ("header", "data", "words"),
    [
        ({"w": {"dtype": "F32", "shape": [2**29], "data_offsets": [0, 16]}}, b"\0" * 16, "needs 2147483648 bytes but data_offsets span 16"),
        (
            {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "v": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
            b"\0" * 16,
            "overlapping or gapped",
        ),
        (
            {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
            b"\0" * 4096,
            "claim 8 bytes of tensor data but the file holds 4096",
        ),
        ({"w": {"dtype": "Q2", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "unknown dtype 'Q2'"),
        ({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8, "bad shape"),
    ],
)
def test_inconsistent_headers_are_refused(tmp_path, header, data, words):
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors_bytes(header, data))
    message = refused(persistence.check_safetensors, path)
    assert message.startswith(f"{path}: truncated or damaged safetensors file (") and words in message, message


def test_header_length_over_the_cap_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", persistence.SAFETENSORS_HEADER_CAP + 1) + b"{}")
    assert f"over the {persistence.SAFETENSORS_HEADER_CAP} byte limit" in refused(persistence.check_safetensors, path)


@pytest.mark.parametrize("name", ["marker", "svm"])
def test_model_dir_without_checksums_with_a_lying_header_is_one_line(saved, tmp_path, name):
    directory = copy_of(saved, name, tmp_path, checksums=False)
    (directory / "model.safetensors").write_bytes(
        safetensors_bytes({"w": {"dtype": "F32", "shape": [2**29], "data_offsets": [0, 2**31]}}, b"\0" * 16)
    )
    assert refused(load_model, directory).startswith(
        f"{directory / 'model.safetensors'}: truncated or damaged safetensors file (tensor 'w'"
    )


SPARSE_IN_CHILD = """
from relx.errors import RelxInputError
from relx.models.loading import load_model
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    load_model({directory!r}); error = None
except RelxInputError as exc:
    error = str(exc)
print(json.dumps({{"error": error, "grew_mib": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024}}))
"""


def test_sparse_weights_file_of_the_right_format_is_refused_before_it_is_read(saved, tmp_path):
    """A well-formed safetensors file whose detector.coef is 512 MiB (a sparse file: nothing on disk) where the
    saved state implies a tiny one: svm2stage (whose loader reads the whole file) refuses it before reading."""
    directory = copy_of(saved, "svm", tmp_path, checksums=False)
    path = directory / "model.safetensors"
    raw = path.read_bytes()
    saved_header = json.loads(raw[8 : 8 + struct.unpack("<Q", raw[:8])[0]])
    shapes = {k: v["shape"] for k, v in saved_header.items() if k != "__metadata__"}
    shapes["detector.coef"] = [max(shapes["detector.coef"][0], 1), 2**27]
    header, offset = {}, 0
    for name, shape in sorted(shapes.items()):
        size = 4 * (shape[0] * shape[1] if len(shape) == 2 else shape[0])
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    with open(path, "wb") as fh:
        fh.write(safetensors_bytes(header))
        fh.truncate(fh.tell() + offset)
    got = isolated(SPARSE_IN_CHILD.format(directory=str(directory)))
    assert got["error"] and got["error"].startswith(
        f"{path}: weights do not fit the model: tensor 'detector.coef' has shape {shapes['detector.coef']}, the model expects"
    ), got
    assert got["grew_mib"] < 100, got
