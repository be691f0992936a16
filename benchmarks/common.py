"""Helpers shared by benchmark scripts: hardware description, result rows, mean±sd tables."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from relx.data.textio import load_json, write_text
from relx.evaluation.report import mean_sd as format_mean_sd
from relx.utils import write_json

__all__ = [
    "RESULTS",
    "ROOT",
    "code_commit",
    "config_steps",
    "hardware",
    "has_speed_row",
    "keep_predictions",
    "load_rows",
    "markdown_table",
    "mean_sd",
    "prediction_path",
    "save_rows",
    "write_text",
]

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def hardware() -> str:
    """'cpu: N threads (model)' or the CUDA device name."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {torch.get_num_threads()} threads ({platform.processor() or platform.machine()})"


@functools.cache
def code_commit() -> str:
    """The commit checked out when this process first asked (short hash; "+dirty" with uncommitted changes under src/)."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return head + ("+dirty" if dirty else "")


def config_steps(epochs: int, train_docs: int, config: Path) -> int:
    """Optimizer steps of ``epochs`` epochs over ``train_docs`` documents at ``config``'s batch size, for rows made
    before runs recorded their steps (one step per batch, no accumulation)."""
    import math

    from relx.config import load_config
    from relx.training.config import TrainerConfig

    batch = load_config(config)["trainer"].get("batch_size") or TrainerConfig.batch_size
    return epochs * math.ceil(train_docs / batch)


def keep_predictions(run_dir: Path, name: str, split: str = "test") -> str | None:
    """A gzipped copy of ``run_dir``'s ``<split>_predictions.jsonl`` as ``benchmarks/results/predictions/<name>.jsonl.gz``
    (so a paired bootstrap over seeds, or a bucket analysis, can be redone from the repository once run directories are
    gone); its path relative to the repository, or None when the run holds no such predictions."""
    import gzip

    src = Path(run_dir) / f"{split}_predictions.jsonl"
    if not src.is_file():
        return None
    dest = RESULTS / "predictions" / f"{name}.jsonl.gz"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    with gzip.GzipFile(tmp, "wb", mtime=0) as out:  # mtime 0: the same predictions give the same bytes
        out.write(src.read_bytes())
    tmp.replace(dest)
    return str(dest.relative_to(ROOT))


def prediction_path(row: dict[str, Any], split: str = "test") -> Path | None:
    """The ``split`` predictions of a result row: its run directory's file while it exists, else the copy the row names
    under ``predictions`` (test) or ``<split>_predictions`` (see :func:`keep_predictions`); None when neither is on disk."""
    key = "predictions" if split == "test" else f"{split}_predictions"
    run_file = ROOT / row["run_dir"] / f"{split}_predictions.jsonl" if row.get("run_dir") else None
    for path in (run_file, row.get(key)):
        if path and (ROOT / path).is_file():
            return ROOT / path
    return None


def save_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write result rows (a JSON list) atomically."""
    write_json(path, rows)


def load_rows(path: Path) -> list[dict[str, Any]]:
    """The result rows of ``path`` ([] when it does not exist yet)."""
    return load_json(path) if path.is_file() else []


def has_speed_row(path: Path, threads: int) -> bool:
    """Whether ``path`` already holds a ``kind: speed`` row measured with ``threads`` threads (for --resume)."""
    return any(r.get("kind") == "speed" and r.get("threads") == threads for r in load_rows(path))


def mean_sd(values: list[float], scale: float = 100.0) -> str:
    """'m ± sd' over seeds of ``values`` times ``scale`` (100: fractions shown as percent; 1: values already in
    percent); one value prints alone, none prints '-' (:func:`relx.evaluation.report.mean_sd`, the one formatter)."""
    return format_mean_sd(values, scale=scale)


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def train_semeval_marker(out: Path, settings: list[str], env: dict[str, str] | None = None) -> Path:
    """Train (or resume) the shipped SemEval marker config into ``out`` with `relx train --set S ...`; returns
    ``out/model``."""
    cmd = [sys.executable, "-m", "relx", "train", "--config", str(ROOT / "configs/semeval/marker.yaml"), "--out", str(out)]
    for setting in settings:
        cmd += ["--set", setting]
    subprocess.run([*cmd, "--resume"], check=True, env=env if env is not None else {**os.environ, "HF_HUB_OFFLINE": "1"})
    return out / "model"
