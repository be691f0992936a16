"""GPU bundle: fp16 encoder copy that loads back as float32, annotated data, size check."""

from __future__ import annotations

import gzip
import json

import torch

from relx.cli import main
from relx.data.schema import write_jsonl
from relx.nn.encoder import load_encoder


def test_gpu_bundle(tmp_path, tiny_bert, pair_docs):
    write_jsonl(tmp_path / "d.jsonl", pair_docs)
    out = tmp_path / "bundle"
    assert main(["export", "gpu-bundle", "--out", str(out), "--encoder", str(tiny_bert), "--data", f"{tmp_path / 'd.jsonl'}:jsonl"]) == 0
    from safetensors.torch import load_file

    weights = load_file(str(out / "encoder" / "model.safetensors"))
    assert all(v.dtype == torch.float16 for v in weights.values() if v.is_floating_point())
    enc = load_encoder(out / "encoder")
    assert next(enc.parameters()).dtype == torch.float32
    lines = gzip.open(out / "data" / "d.jsonl.gz", "rt").read().splitlines()
    doc = json.loads(lines[0])
    assert len(lines) == 4 and len(doc["heads"]) == len(doc["tokens"]) and doc["pos"]
    assert json.loads((out / "MANIFEST.json").read_text())["data"][0]["documents"] == 4
