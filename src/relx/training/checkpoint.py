"""Resumable training checkpoints: weights, optimizer, scheduler and RNG as safetensors + JSON."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from relx.config import to_dict
from relx.errors import RelxConfigError
from relx.utils import atomic_directory, recover_directory, write_json


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


RESUMABLE_DIFFERENCES = {"epochs", "max_steps", "patience", "progress", "num_threads", "device", "eval_batch_size", "log_every"}


def has_checkpoint(directory: Path) -> bool:
    """A complete checkpoint is there (finishing an interrupted directory swap first)."""
    recover_directory(directory)
    return (directory / "trainer_state.json").is_file()


def save_checkpoint(
    directory: Path, model: Any, optimizer: torch.optim.Optimizer, scheduler: Any, trainer_state: dict, trainer_config: Any
) -> None:
    """Write the model, optimizer/scheduler/RNG state and trainer state into a temp directory that then
    replaces ``directory`` as a whole: a kill at any moment leaves one complete checkpoint, never a mix."""
    tensors, optim_meta = _flatten_optimizer(optimizer.state_dict())
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available():
        tensors["rng.cuda"] = torch.cuda.get_rng_state()
    sched = {k: v for k, v in scheduler.state_dict().items() if _jsonable(v)}
    py_state = random.getstate()
    with atomic_directory(directory) as tmp:
        model.write_files(tmp)
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        write_json(
            tmp / "trainer_state.json",
            {
                **trainer_state,
                "trainer_config": to_dict(trainer_config),
                "optimizer": optim_meta,
                "scheduler": sched,
                "python_rng": [py_state[0], list(py_state[1]), py_state[2]],
            },
        )


def check_resumable(directory: Path, model: Any, trainer_config: Any) -> None:
    """RelxConfigError naming every setting in which the current run differs from the checkpoint's."""
    from relx.data.labels import LabelSet
    from relx.models.persistence import read_json_file

    meta = read_json_file(directory / "config.json")
    state = read_json_file(directory / "trainer_state.json")
    diffs = []
    if meta.get("type") != model.registered_name:
        diffs.append(f"model.type: checkpoint {meta.get('type')!r}, now {model.registered_name!r}")
    for key, (old, new) in _differences(meta.get("config", {}), to_dict(model.config)).items():
        diffs.append(f"model.{key}: checkpoint {old!r}, now {new!r}")
    saved_tc = state.get("trainer_config") or {}
    for key, (old, new) in _differences(saved_tc, to_dict(trainer_config)).items():
        if key not in RESUMABLE_DIFFERENCES and saved_tc:
            diffs.append(f"trainer.{key}: checkpoint {old!r}, now {new!r}")
    saved_labels = LabelSet.load(directory / "labels.json").labels
    if saved_labels != model.labels.labels:
        diffs.append(f"labels: checkpoint has {len(saved_labels or [])} labels, the data now gives {len(model.labels)}")
    if diffs:
        raise RelxConfigError(
            f"--resume: {directory} was written with other settings ({'; '.join(diffs)}); "
            "resume with the original config or train into a new --out"
        )


def _differences(old: dict, new: dict) -> dict[str, tuple[Any, Any]]:
    return {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


def load_checkpoint(directory: Path, optimizer: torch.optim.Optimizer, scheduler: Any) -> dict:
    """Restore optimizer, scheduler and RNG state from a checkpoint (the model restores itself via
    ``model.restore``); returns the trainer state fields."""
    from relx.models.persistence import read_json_file

    meta = read_json_file(directory / "trainer_state.json")
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
    meta.pop("trainer_config", None)
    return meta


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
        return True
    except TypeError:
        return False
