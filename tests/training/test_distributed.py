"""Data-parallel training: 2 gloo processes under torchrun end with the same weights as one process at the same
global batch (dropout off), and only rank 0 writes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "helpers" / "ddp_train.py"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str]) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT / "src")}
    res = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch without distributed support")
def test_two_gloo_processes_match_one_process(tmp_path, tiny_bert):
    from safetensors.torch import load_file

    _run([str(SCRIPT), str(tiny_bert), str(tmp_path / "one")])
    _run(
        [
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            str(_port()),
            str(SCRIPT),
            str(tiny_bert),
            str(tmp_path / "two"),
        ]
    )
    one, two = load_file(str(tmp_path / "one" / "weights.safetensors")), load_file(str(tmp_path / "two" / "weights.safetensors"))
    assert one.keys() == two.keys()
    moved = max((one[k].float() - two[k].float()).abs().max().item() for k in one)
    assert moved < 1e-4, moved
    # and training really changed the weights (the comparison is not between two untouched copies)
    from relx.nn.encoder import load_encoder

    init = load_encoder(tiny_bert).state_dict()
    key = next(k for k in one if k.startswith("front_end.encoder.") and k.endswith("query.weight"))
    assert (one[key] - init[key.removeprefix("front_end.encoder.")]).abs().max() > 1e-4
