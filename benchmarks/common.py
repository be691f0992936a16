"""Helpers shared by benchmark scripts: hardware description, result rows, mean±sd tables."""

from __future__ import annotations

import json
import platform
import statistics
from pathlib import Path
from typing import Any

from relx.utils import atomic_open, write_json

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def hardware() -> str:
    """'cpu: N threads (model)' or the CUDA device name."""
    import torch

    if torch.cuda.is_available():
        return f"cuda: {torch.cuda.get_device_name(0)}"
    return f"cpu: {torch.get_num_threads()} threads ({platform.processor() or platform.machine()})"


def save_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write result rows (a JSON list) atomically."""
    write_json(path, rows)


def load_rows(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else []


def has_speed_row(path: Path, threads: int) -> bool:
    """Whether ``path`` already holds a ``kind: speed`` row measured with ``threads`` threads (for --resume)."""
    return any(r.get("kind") == "speed" and r.get("threads") == threads for r in load_rows(path))


def mean_sd(values: list[float], scale: float = 100.0) -> str:
    """'m ± sd' over seeds of ``values`` times ``scale`` (100: fractions shown as percent; 1: values already in
    percent); one value prints alone, none prints '-'. The one mean ± sd formatter of the benchmark reports."""
    if not values:
        return "-"
    if len(values) == 1:
        return f"{scale * values[0]:.2f}"
    return f"{scale * statistics.mean(values):.2f} ± {scale * statistics.stdev(values):.2f}"


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_text(path: Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)
