"""PNG plots (matplotlib, Agg canvas, no pyplot state): confusion matrix, length-bucket curves and per-interval F1 of
several models (joint extraction, two-phase paper Figures 3-4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from relx.errors import RelxInputError
from relx.utils import atomic_open


def save_figure(fig: Any, path: str | Path) -> Path:
    """Render with the Agg canvas into a temp file beside ``path``, then rename (atomic)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120, bbox_inches="tight")
    return Path(path)


def confusion_matrix_png(
    gold_labels: Sequence[str], pred_labels: Sequence[str], path: str | Path, labels: Sequence[str] | None = None
) -> Path:
    """Confusion matrix (rows gold, columns predicted); cell colour = share of the gold row, text = count."""
    from matplotlib.figure import Figure

    if len(gold_labels) != len(pred_labels):
        raise RelxInputError(f"{len(gold_labels)} gold labels but {len(pred_labels)} predicted labels")
    labels = list(labels) if labels is not None else sorted(set(gold_labels) | set(pred_labels))
    index = {lab: i for i, lab in enumerate(labels)}
    k = len(labels)
    counts = np.zeros((k, k), dtype=np.int64)
    for g, p in zip(gold_labels, pred_labels):
        if g in index and p in index:
            counts[index[g], index[p]] += 1
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    side = min(4 + 0.45 * k, 24)
    fig = Figure(figsize=(side, side))
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(k), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(k), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    if k <= 30:
        for i in range(k):
            for j in range(k):
                if counts[i, j]:
                    ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=6, color="white" if share[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of gold row")
    ax.set_title(f"Confusion matrix ({len(gold_labels)} items)")
    return save_figure(fig, path)


def bucket_plot_png(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """F1 per length bucket (rows from ``regimes.bucket_rows``), one line per metric present."""
    from matplotlib.figure import Figure

    if not rows:
        raise RelxInputError("no bucket rows to plot")
    names = [f"{r['lo']}-{r['hi']}\n(n={r['n']})" for r in rows]
    fig = Figure(figsize=(1.6 * len(rows) + 2.5, 4))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(rows))
    for key, label in (
        ("micro_f1", "micro F1 (positives)"),
        ("macro_f1", "macro F1 (positives)"),
        ("official_macro_f1", "official SemEval macro F1"),
    ):
        if all(key in r for r in rows):
            ax.plot(x, [r[key] for r in rows], marker="o", label=label)
    ax.set_xticks(x, names, fontsize=8)
    ax.set_xlabel("sentence length (tokens)")
    ax.set_ylabel("F1")
    ax.set_ylim(0.0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def bucket_f1_png(series: Mapping[str, Sequence[dict[str, Any]]], path: str | Path, title: str = "", xlabel: str = "interval") -> Path:
    """F1 (%) per interval, one line per model: ``series`` maps a model name to the rows of
    ``analysis.ner_f1_by_entity_length`` / ``re_f1_by_distance`` (all with the same buckets)."""
    from matplotlib.figure import Figure

    if not series or not all(series.values()):
        raise RelxInputError("no bucket rows to plot")
    labels = [r["bucket"] for r in next(iter(series.values()))]
    for name, rows in series.items():
        if [r["bucket"] for r in rows] != labels:
            raise RelxInputError(f"model {name!r} has intervals {[r['bucket'] for r in rows]}, not {labels}")
    fig = Figure(figsize=(1.1 * len(labels) + 3, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(labels))
    markers = "osD^v<>ph*"
    for k, (name, rows) in enumerate(series.items()):
        ax.plot(x, [100 * r["f1"] for r in rows], marker=markers[k % len(markers)], label=name)
    ax.set_xticks(x, [f"[{lab}]" for lab in labels])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("F1 (%)")
    ax.set_ylim(0.0, 100.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)
