"""Evaluation regimes of the LSTM/BERT/GPT-2/SVM TACRED paper (``lstm-bert-gpt2-svm_tacred.txt``).

* :func:`all_data_report` (Table 2 / Table 4 shape): weighted and macro P/R/F1 over ALL labels,
  the negative class included, on every document.
* :func:`relation_only_report` (Table 3 / Table 5 shape): only documents whose GOLD label is a
  relation; weighted and macro P/R/F1 over the positive labels (a relation predicted as negative
  is a miss; the negative class itself is not averaged).
* :func:`classification_table` (Tables 6-7 shape): per-class P/R/F1/support, accuracy, macro avg,
  weighted avg, like ``sklearn.metrics.classification_report``.
* :func:`length_bucket_report` (Figure 1 shape): equal-count sentence-length buckets (quintiles by
  default) with micro and macro F1 per bucket, one model or several on one PNG.

Every row names its averaging. Scores come from :func:`relx.evaluation.scorer.score_labels`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from relx.data.schema import Document
from relx.evaluation.analysis import length_buckets
from relx.evaluation.pair_labels import document_pair_labels, score_labels
from relx.evaluation.report import text_table

Preds = Sequence[Document] | Mapping[str, Sequence[Document]]
METRIC_NAMES = {
    "micro_f1": "micro F1",
    "macro_f1": "macro F1 (pos)",
    "macro_f1_all": "macro F1 (all)",
    "official_macro_f1": "official macro F1",
    "accuracy": "accuracy",
}


def _pct(x: float) -> str:
    """A fraction printed as a percentage with two decimals (the text tables print %, the dicts hold fractions)."""
    return f"{100 * x:.2f}"


def _prf(m: dict[str, Any], kind: str, suffix: str) -> dict[str, float]:
    return {k: m[f"{kind}_{k}{suffix}"] for k in ("p", "r", "f1")}


def classification_table(gold: Sequence[str], pred: Sequence[str], negative: str, include_negative: bool = True) -> dict[str, Any]:
    """Per-class P/R/F1/support, accuracy, macro and support-weighted averages (classification_report shape).

    ``include_negative=False`` (relation-only data): the negative class is neither listed nor averaged;
    ``predicted_negative`` counts gold relations that were predicted as negative.
    """
    m = score_labels(gold, pred, negative)
    suffix = "_all" if include_negative else ""
    classes = {
        lab: {k: v[k] for k in ("p", "r", "f1", "support")} for lab, v in m["per_label"].items() if include_negative or lab != negative
    }
    return {
        "classes": classes,
        "accuracy": m["accuracy"],
        "n": m["n"],
        "macro avg": {**_prf(m, "macro", suffix), "support": m["n"]},
        "weighted avg": {**_prf(m, "weighted", suffix), "support": m["n"]},
        "predicted_negative": int(sum(p == negative for p in pred)),
    }


def format_classification_table(table: dict[str, Any], title: str | None = None) -> str:
    """Fixed-width text of :func:`classification_table` (values in %)."""
    rows = [[lab, _pct(v["p"]), _pct(v["r"]), _pct(v["f1"]), str(v["support"])] for lab, v in table["classes"].items()]
    rows.append(["accuracy", "", "", _pct(table["accuracy"]), str(table["n"])])
    for name in ("macro avg", "weighted avg"):
        v = table[name]
        rows.append([name, _pct(v["p"]), _pct(v["r"]), _pct(v["f1"]), str(v["support"])])
    return text_table(["Class", "Precision %", "Recall %", "F1-score %", "Support"], rows, title) + "\n"


def _report(regime: str, m: dict[str, Any], suffix: str, note: str) -> dict[str, Any]:
    rows = [{"averaging": f"weighted {note}", **_prf(m, "weighted", suffix)}, {"averaging": f"macro {note}", **_prf(m, "macro", suffix)}]
    out = {"regime": regime, "n": m["n"], "rows": rows, "micro_f1": m["micro_f1"], "accuracy": m["accuracy"]}
    if "official_macro_f1" in m:
        out["official_macro_f1"] = m["official_macro_f1"]
    return out


def all_data_report(gold_docs: Sequence[Document], pred_docs: Sequence[Document], negative: str, scheme: str = "tacred") -> dict[str, Any]:
    """Table 2 shape: weighted and macro P/R/F1 over all labels incl. the negative, on all documents."""
    _, g, p = document_pair_labels(gold_docs, pred_docs, negative, scheme)
    return _report("all data", score_labels(g, p, negative, scheme), "_all", "(all labels incl. negative, all documents)")


def relation_only_report(
    gold_docs: Sequence[Document], pred_docs: Sequence[Document], negative: str, scheme: str = "tacred"
) -> dict[str, Any]:
    """Table 3 shape: documents with a gold relation only; weighted and macro P/R/F1 over positive labels."""
    _, g, p = document_pair_labels(gold_docs, pred_docs, negative, scheme)
    keep = [i for i, lab in enumerate(g) if lab != negative]
    m = score_labels([g[i] for i in keep], [p[i] for i in keep], negative, scheme)
    return _report("relation only", m, "", "(positive labels, gold-relation documents only)")


def regime_tables(
    gold: Sequence[Document], preds: Mapping[str, Sequence[Document]], negative: str, scheme: str = "tacred"
) -> dict[str, Any]:
    """Both regimes for several prediction sets: ``{"all data": {name: report}, "relation only": {...}}``."""
    return {
        "all data": {n: all_data_report(gold, p, negative, scheme) for n, p in preds.items()},
        "relation only": {n: relation_only_report(gold, p, negative, scheme) for n, p in preds.items()},
    }


def format_regime_tables(tables: dict[str, Any]) -> str:
    """Tables 2-3 layout: rows P/R/F1 %, columns weighted | macro per model (values in %)."""
    blocks = []
    for regime, title in (
        ("all data", "Performance on negative and relation data (all labels incl. negative)"),
        ("relation only", "Performance on relation data (gold relations only, positive labels)"),
    ):
        reports = tables[regime]
        names = list(reports)
        headers = ["", *(f"Weighted {n}" for n in names), *(f"Macro {n}" for n in names)]
        rows = [
            [
                (k.upper() if k != "f1" else "F1") + " %",
                *(_pct(reports[n]["rows"][0][k]) for n in names),
                *(_pct(reports[n]["rows"][1][k]) for n in names),
            ]
            for k in ("p", "r", "f1")
        ]
        n = reports[names[0]]["n"] if names else 0
        blocks.append(text_table(headers, rows, f"{title}, n={n}") + "\n")
    return "\n".join(blocks)


def bucket_rows(
    gold: Sequence[Document], pred: Sequence[Document], negative: str, scheme: str = "tacred", n_buckets: int = 5
) -> list[dict[str, Any]]:
    """Equal-count sentence-length buckets: ``{bucket, lo, hi, n, micro_f1, macro_f1, macro_f1_all, accuracy[, official_macro_f1]}``."""
    docs, g, p = document_pair_labels(gold, pred, negative, scheme)
    rows = []
    for k, (lo, hi, idx) in enumerate(length_buckets(docs, n_buckets), 1):
        m = score_labels([g[i] for i in idx], [p[i] for i in idx], negative, scheme)
        row = {
            "bucket": k,
            "lo": lo,
            "hi": hi,
            "n": len(idx),
            "micro_f1": m["micro_f1"],
            "macro_f1": m["macro_f1"],
            "macro_f1_all": m["macro_f1_all"],
            "accuracy": m["accuracy"],
        }
        if "official_macro_f1" in m:
            row["official_macro_f1"] = m["official_macro_f1"]
        rows.append(row)
    return rows


def format_bucket_table(rows: Sequence[dict[str, Any]], title: str | None = None) -> str:
    """Text table of :func:`bucket_rows` (F1 and accuracy in %)."""
    keys = [k for k in ("micro_f1", "macro_f1", "macro_f1_all", "official_macro_f1", "accuracy") if rows and k in rows[0]]
    body = [[f"Q{r['bucket']}", f"{r['lo']}-{r['hi']}", str(r["n"]), *(_pct(r[k]) for k in keys)] for r in rows]
    return text_table(["Bucket", "Tokens", "n", *(f"{METRIC_NAMES[k]} %" for k in keys)], body, title) + "\n"


def bucket_plot_multi_png(rows_by_model: Mapping[str, Sequence[dict[str, Any]]], path: str | Path, metric: str = "macro_f1") -> Path:
    """Figure 1 shape: ``metric`` per length bucket, one line per model (buckets on the x axis)."""
    from matplotlib.figure import Figure

    from relx.evaluation.plots import save_figure

    first = next(iter(rows_by_model.values()))
    fig = Figure(figsize=(1.6 * len(first) + 2.5, 4))
    ax = fig.add_subplot(1, 1, 1)
    x = np.arange(len(first))
    for name, rows in rows_by_model.items():
        ax.plot(x, [r[metric] for r in rows], marker="o", label=name)
    ax.set_xticks(x, [f"Q{r['bucket']}: {r['lo']}-{r['hi']}\n(n={r['n']})" for r in first], fontsize=8)
    ax.set_xlabel("sentence length bucket (tokens), shortest to longest")
    ax.set_ylabel(METRIC_NAMES.get(metric, metric))
    ax.set_ylim(0.0, 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def length_bucket_report(
    gold: Sequence[Document],
    pred: Preds,
    negative: str,
    scheme: str = "tacred",
    n_buckets: int = 5,
    png: str | Path | None = None,
    metric: str = "macro_f1",
) -> list[dict[str, Any]] | dict[str, list[dict[str, Any]]]:
    """Rows per length bucket for one prediction list, or ``{name: rows}`` for a dict of predictions.

    With ``png``: one model -> :func:`relx.evaluation.plots.bucket_plot_png` (micro, macro, official
    lines); several -> :func:`bucket_plot_multi_png` of ``metric`` (macro F1 by default, Figure 1).
    Buckets are cut on the gold documents, so all models share them.
    """
    if isinstance(pred, Mapping):
        out = {name: bucket_rows(gold, p, negative, scheme, n_buckets) for name, p in pred.items()}
        if png is not None:
            bucket_plot_multi_png(out, png, metric)
        return out
    rows = bucket_rows(gold, pred, negative, scheme, n_buckets)
    if png is not None:
        from relx.evaluation.plots import bucket_plot_png

        bucket_plot_png(rows, png)
    return rows


def format_stage_reports(reports: dict[str, Any]) -> str:
    """Text of a two-stage model's ``stage_reports``: binary (Table 6), multi-class (Table 7), pipeline."""
    from relx.evaluation.report import format_report

    parts = [
        format_classification_table(reports["binary"], "Stage 1: relation vs negative (all documents)"),
        format_classification_table(reports["multiclass"], "Stage 2: relation type (gold relations only)"),
    ]
    if "pipeline" in reports:
        parts.append(format_report({k: v for k, v in reports["pipeline"].items() if k != "per_label"}, "Pipeline (both stages)"))
    if "all_data" in reports and "relation_only" in reports:
        parts.append(
            format_regime_tables({"all data": {"model": reports["all_data"]}, "relation only": {"model": reports["relation_only"]}})
        )
    return "\n".join(parts)
