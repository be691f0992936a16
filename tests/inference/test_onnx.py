"""ONNX export: same logits as PyTorch (1e-4), same predictions through Pipeline / CLI, int8 variant, damaged files."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("onnxruntime")

import relx  # noqa: E402
from conftest import make_pair_docs, save_tiny_marker  # noqa: E402
from relx.cli import main  # noqa: E402
from relx.data.labels import LabelSet  # noqa: E402
from relx.data.schema import read_jsonl, write_jsonl  # noqa: E402
from relx.errors import RelxConfigError, RelxInputError  # noqa: E402
from relx.inference.engines.onnx import export_onnx, probe_documents  # noqa: E402
from relx.models.loading import load_model  # noqa: E402
from tiny_models import tiny_config


@pytest.fixture(scope="module")
def exported(tmp_path_factory, tiny_bert):
    tmp = tmp_path_factory.mktemp("onnx")
    docs = make_pair_docs()
    save_tiny_marker(tmp / "model", tiny_bert, docs, marker_style="typed", pooling="start_mention")
    meta = export_onnx(tmp / "model", tmp / "export")
    return tmp, docs, meta


def _logits(model, docs, engine=None):
    batch = model.collate(model.featurize_many(docs))
    with torch.inference_mode():
        out = engine(model, batch) if engine is not None else model(batch)
    return out.logits.float()


def _onnx_logits(directory, docs, engine="onnx"):
    nlp = relx.load(directory, engine=engine)
    assert nlp.engine.name == engine
    return _logits(nlp.model, docs, nlp.engine)


def test_onnx_logits_equal_pytorch_within_1e4(exported):
    tmp, docs, meta = exported
    assert meta["files"]["onnx"]["max_abs_diff"] <= 1e-4 and "onnx_int8" in meta["files"]
    probes = docs + probe_documents(load_model(tmp / "model"))
    ref = _logits(load_model(tmp / "export"), probes)
    got = _onnx_logits(tmp / "export", probes)
    assert got.shape == ref.shape and torch.allclose(got, ref, atol=1e-4)
    q = _onnx_logits(tmp / "export", probes, "onnx_int8")
    assert q.shape == ref.shape and not torch.equal(q, ref)  # a different (quantized) graph really ran


def test_pipeline_and_cli_with_onnx_engine(exported, capsys):
    tmp, docs, _ = exported
    torch_preds = relx.load(tmp / "export")(docs)
    onnx_preds = relx.load(tmp / "export", engine="onnx")(docs)
    assert [d.meta["pair_label"] for d in onnx_preds] == [d.meta["pair_label"] for d in torch_preds]
    assert [round(d.meta["pair_score"], 4) for d in onnx_preds] == [round(d.meta["pair_score"], 4) for d in torch_preds]
    write_jsonl(tmp / "in.jsonl", docs)
    assert (
        main(["predict", str(tmp / "export"), "--input", str(tmp / "in.jsonl"), "--output", str(tmp / "out.jsonl"), "--engine", "onnx"])
        == 0
    )
    assert [d.meta["pair_label"] for d in read_jsonl(tmp / "out.jsonl")] == [d.meta["pair_label"] for d in torch_preds]


def test_cli_export_and_errors(exported, tmp_path, capsys):
    tmp, docs, _ = exported
    assert main(["export", "onnx", str(tmp / "model"), str(tmp_path / "e"), "--no-int8"]) == 0
    assert "max |logit - PyTorch|" in capsys.readouterr().out
    assert set(json.loads((tmp_path / "e" / "onnx.json").read_text())["files"]) == {"onnx"}
    with pytest.raises(RelxInputError, match="no onnx_int8 model"):
        relx.load(tmp_path / "e", engine="onnx_int8")
    with pytest.raises(RelxInputError, match="no ONNX export here"):
        relx.load(tmp / "model", engine="onnx")
    with pytest.raises(RelxConfigError, match="unknown engine"):
        relx.load(tmp / "export", engine="tensorrt")
    with open(tmp_path / "e" / "model.onnx", "r+b") as f:  # bit flip
        f.seek(100)
        b = f.read(1)
        f.seek(100)
        f.write(bytes([b[0] ^ 0xFF]))
    with pytest.raises(RelxInputError, match="checksum mismatch"):
        relx.load(tmp_path / "e", engine="onnx")
    (tmp_path / "e" / "onnx.json").write_text("{not json")
    with pytest.raises(RelxInputError, match="invalid JSON"):
        relx.load(tmp_path / "e", engine="onnx")


def test_export_rejects_models_without_onnx_support(tmp_path, tiny_bert):
    from conftest import make_joint_docs
    from relx.models.span_base import SpanBaseModel

    docs = make_joint_docs()
    model = SpanBaseModel(tiny_config(SpanBaseModel, {"bert": str(tiny_bert)}), LabelSet.from_documents(docs))
    model.prepare(docs)
    model.save(tmp_path / "span")
    with pytest.raises(RelxConfigError, match="transformer pair models"):
        export_onnx(tmp_path / "span", tmp_path / "out")


@pytest.mark.parametrize("name", ["bert_extra", "gpt2_clf"])
def test_other_transformer_pair_models_export(tmp_path, resources, name):
    from relx.registry import MODELS

    cls = MODELS.get(name)
    docs = make_pair_docs()
    torch.manual_seed(0)
    model = cls(tiny_config(cls, resources), LabelSet.from_documents(docs))
    model.prepare(docs)
    model.save(tmp_path / "m")
    meta = export_onnx(tmp_path / "m", tmp_path / "e", int8=False)
    assert meta["files"]["onnx"]["max_abs_diff"] <= 1e-4
    ref = _logits(load_model(tmp_path / "m"), docs)
    assert torch.allclose(_onnx_logits(tmp_path / "e", docs), ref, atol=1e-4)


def test_health_names_the_pipelines_engine(exported):
    """/health reads the Pipeline's engine: an int8 server says onnx_int8 (it said onnx before engines were objects)."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from relx.integrations.http import create_app

    tmp, docs, _ = exported
    nlp = relx.load(tmp / "export", engine="onnx_int8")
    assert nlp.model.device.type == "meta"  # loaded without weights: they live in model.int8.onnx
    with TestClient(create_app(nlp)) as client:
        assert client.get("/health").json()["engine"] == "onnx_int8"
    assert len(nlp(docs)) == len(docs)


def test_export_copies_the_model_card_and_loads(exported, tmp_path, capsys):
    """A model directory with its README.md model card exports (the card travels with it), loads with the onnx
    engine, and exports again over itself with --overwrite."""
    import shutil

    tmp, docs, _ = exported
    shutil.copytree(tmp / "model", tmp_path / "m")
    (tmp_path / "m" / "README.md").write_text("---\nlibrary_name: relx\n---\n# card\n")
    assert main(["export", "onnx", str(tmp_path / "m"), str(tmp_path / "e"), "--no-int8"]) == 0
    assert (tmp_path / "e" / "README.md").read_text().startswith("---\nlibrary_name: relx")
    assert len(relx.load(tmp_path / "e", engine="onnx")(docs)) == len(docs)
    assert main(["export", "onnx", str(tmp_path / "m"), str(tmp_path / "e"), "--no-int8", "--overwrite"]) == 0
    assert load_model(tmp_path / "e").registered_name == "marker"
