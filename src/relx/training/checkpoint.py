"""Resumable training checkpoints: weights, optimizer, scheduler and RNG as safetensors + JSON."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from relx.models.base import save_atomically
from relx.utils import write_json


def _flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer state_dict into tensors (safetensors) and the JSON rest."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, pstate in state["state"].items():
        for key, val in pstate.items():
            if isinstance(val, torch.Tensor):
                tensors[f"optim.{pid}.{key}"] = val.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[key] = val
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for name, val in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = val
    for pid, vals in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(vals)
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(directory: Path, model: Any, optimizer: torch.optim.Optimizer, scheduler: Any, trainer_state: dict) -> None:
    """Write the model (its own save) plus optimizer/scheduler/RNG state, each file atomically."""
    model.save(directory)
    tensors, optim_meta = _flatten_optimizer(optimizer.state_dict())
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    save_atomically(directory / "optimizer.safetensors", lambda tmp: save_file(tensors, tmp))
    sched = {k: v for k, v in scheduler.state_dict().items() if _jsonable(v)}
    py_state = random.getstate()
    write_json(
        directory / "trainer_state.json",
        {**trainer_state, "optimizer": optim_meta, "scheduler": sched, "python_rng": [py_state[0], list(py_state[1]), py_state[2]]},
    )


def load_checkpoint(directory: Path, model: Any, optimizer: torch.optim.Optimizer, scheduler: Any) -> dict:
    """Restore what save_checkpoint wrote into live objects; returns the trainer state."""
    model.load_weights(directory)
    meta = json.loads((directory / "trainer_state.json").read_text(encoding="utf-8"))
    tensors = load_file(str(directory / "optimizer.safetensors"))
    optimizer.load_state_dict(_unflatten_optimizer(tensors, meta.pop("optimizer")))
    sched = scheduler.state_dict()
    sched.update(meta.pop("scheduler"))
    scheduler.load_state_dict(sched)
    torch.set_rng_state(tensors["rng.torch"])
    if "rng.cuda" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state(tensors["rng.cuda"])
    v, s, g = meta.pop("python_rng")
    random.setstate((v, tuple(s), g))
    return meta


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
        return True
    except TypeError:
        return False
