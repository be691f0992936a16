"""Triple P/R/F1 by sentence structure: Normal / EPO / SEO and by triples per sentence (kernel-matrix paper,
Table 4 and Figures 2-3; the CopyRE / CasRel categories).

A sentence's categories come from its GOLD triples (:func:`relx.data.triples.sentence_structure`, the same
counting as ``relx data stats``): Normal (no two triples share an entity), EPO (some entity pair holds
several relations), SEO (two triples share exactly one entity); a sentence can be EPO and SEO; entities
are compared by their text, as CopyRE / CasRel do. Multiplicity: x1 ... x4, x5plus gold triples, and
Table 4's Single (1) / Double (2) / Multiple (>= 3). Every predicted and gold triple of the sentences of a
subset counts: precision, recall and F1 are micro over the subset. ``all`` covers every sentence,
including those without gold triples (their predictions are false positives there only).

Match modes (:func:`relx.data.triples.relation_triples`): ``exact`` (head span, relation, tail span)
and ``partial_last`` (the last token of each entity, the starred WebNLG* / NYT* setting).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from relx.data.schema import Document
from relx.data.triples import relation_triples, sentence_structure
from relx.errors import RelxInputError
from relx.evaluation.metrics import align_documents, prf
from relx.evaluation.report import text_table
from relx.evaluation.triples import check_mode

OVERLAP = ("normal", "epo", "seo")
MULTIPLICITY = ("x1", "x2", "x3", "x4", "x5plus")
TABLE4 = ("single", "double", "multiple")
SUBSETS = (*OVERLAP, *TABLE4, *MULTIPLICITY, "all")
LABELS = {
    "normal": "Normal",
    "epo": "EPO",
    "seo": "SEO",
    "single": "Single",
    "double": "Double",
    "multiple": "Multiple",
    "x1": "x=1",
    "x2": "x=2",
    "x3": "x=3",
    "x4": "x=4",
    "x5plus": "x>=5",
    "all": "All",
}


def sentence_subsets(doc: Document, negative: str | None = None) -> list[str]:
    """The subsets (see the module docstring) a gold sentence belongs to; entities compared by text, as CopyRE does."""
    classes, n = sentence_structure(doc, negative)
    out = [c.lower() for c in sorted(classes)]
    if n:
        out += [TABLE4[min(n, 3) - 1], MULTIPLICITY[min(n, 5) - 1]]
    return [*out, "all"]


def overlap_scores(
    gold: Iterable[Document], pred: Iterable[Document], mode: str = "exact", negative: str | None = None
) -> list[dict[str, Any]]:
    """One row per subset: ``subset``, ``sentences``, ``gold``, ``predicted``, ``correct``, ``p``, ``r``, ``f1``."""
    check_mode(mode)
    counts = {s: [0, 0, 0, 0] for s in SUBSETS}  # sentences, gold, predicted, correct
    for g, p in align_documents(gold, pred):
        g_set, p_set = relation_triples(g, negative, mode), relation_triples(p, negative, mode)
        for subset in sentence_subsets(g, negative):
            c = counts[subset]
            c[0] += 1
            c[1] += len(g_set)
            c[2] += len(p_set)
            c[3] += len(g_set & p_set)
    rows = []
    for subset, (n, n_gold, n_pred, n_ok) in counts.items():
        prec, rec, f1 = prf(n_ok, n_pred, n_gold)
        rows.append({"subset": subset, "sentences": n, "gold": n_gold, "predicted": n_pred, "correct": n_ok, "p": prec, "r": rec, "f1": f1})
    return rows


def format_overlap(rows: Sequence[Mapping[str, Any]], title: str = "") -> str:
    """A readable table of ``overlap_scores`` rows (percentages; :func:`relx.utils.text_table`)."""
    body = [
        [
            LABELS.get(r["subset"], r["subset"]),
            r["sentences"],
            r["gold"],
            r["predicted"],
            r["correct"],
            *(f"{100 * r[k]:.1f}" for k in ("p", "r", "f1")),
        ]
        for r in rows
    ]
    return text_table(["subset", "sentences", "gold", "pred", "correct", "P", "R", "F1"], body, title or None, underline=False) + "\n"


def overlap_png(results: Mapping[str, Sequence[Mapping[str, Any]]], path: str | Path, title: str = "") -> Path:
    """Figures 2-3 shape: F1 of each model (bars) on Normal / EPO / SEO (left) and x = 1..>=5 triples per sentence (right)."""
    import numpy as np
    from matplotlib.figure import Figure

    from relx.evaluation.plots import save_figure

    if not results:
        raise RelxInputError("overlap_png: no results to plot")
    fig = Figure(figsize=(11, 4))
    axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 5]})
    names = list(results)
    width = 0.8 / len(names)
    for ax, subsets, label in ((axes[0], OVERLAP, "overlap type"), (axes[1], MULTIPLICITY, "triples per sentence")):
        x = np.arange(len(subsets))
        for k, name in enumerate(names):
            by = {r["subset"]: r for r in results[name]}
            f1 = [100 * by[s]["f1"] if s in by and by[s]["sentences"] else np.nan for s in subsets]
            bars = ax.bar(x + (k - (len(names) - 1) / 2) * width, f1, width, label=name)
            for b, v in zip(bars, f1):
                if not np.isnan(v):
                    ax.annotate(f"{v:.0f}", (b.get_x() + b.get_width() / 2, v), ha="center", va="bottom", fontsize=7)
        ticks = [f"{LABELS[s]}\n({next((r['sentences'] for r in results[names[0]] if r['subset'] == s), 0)})" for s in subsets]
        ax.set_xticks(x, ticks)
        ax.set_xlabel(f"{label} (sentences)")
        ax.set_ylim(0, 105)
        ax.set_ylabel("micro-F1 (%)")
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(
        handles, labels, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=min(len(names), 4)
    )  # below the axis labels
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
