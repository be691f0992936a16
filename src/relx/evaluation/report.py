"""Text reports of scorer metrics (values in %), dispatched on the metrics' ``scheme`` field."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from relx.errors import RelxInputError
from relx.evaluation.metrics import JOINT_SCHEME, RELATION_SCHEME, SCHEMES, TRIPLE_SCHEME

__all__ = ["format_report", "mean_sd", "text_table"]


def text_table(
    headers: Sequence[Any],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    *,
    right: Sequence[bool] | None = None,
    indent: str = "",
    underline: bool = True,
) -> str:
    """The one fixed-width text table: cells joined by two spaces, a dashed rule under the header.

    ``right``: per-column right alignment (default: every column but the first); ``indent`` prefixes
    every row; ``title`` (when not None) comes first, underlined with ``=`` when ``underline``."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    right = [i > 0 for i in range(len(headers))] if right is None else list(right)
    lines = [indent + "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right)).rstrip() for row in cells]
    lines.insert(1, indent + "  ".join("-" * w for w in widths))
    head = [] if title is None else [title, "=" * len(title)] if underline else [title]
    return "\n".join(head + lines)


def mean_sd(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
    """The one mean ± sd formatter: ``'m ± sd'`` of ``values`` times ``scale`` (sample sd, over seeds);
    just ``'m'`` for a single value, ``'-'`` for none."""
    if not values:
        return "-"
    m = scale * statistics.mean(values)
    if len(values) < 2:
        return f"{m:.{digits}f}"
    return f"{m:.{digits}f} ± {scale * statistics.stdev(values):.{digits}f}"


def _pct(x: float) -> str:
    return f"{100 * x:6.2f}"


def _avg_rows(m: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    spec = [
        ("micro (positives; wrong positive = FP + FN)", "micro_"),
        ("macro (positives only)", "macro_"),
        ("macro (all labels incl. negative)", "macro_*_all"),
        ("weighted by gold support (positives only)", "weighted_"),
        ("weighted by gold support (all labels incl. negative)", "weighted_*_all"),
        ("official SemEval (9+1)-way directional macro-F1", "official_macro_"),
        ("official SemEval (9+1)-way directional micro", "official_micro_"),
    ]
    for name, pat in spec:
        keys = [pat.replace("*", k) if "*" in pat else pat + k for k in ("p", "r", "f1")]
        if all(k in m for k in keys):
            rows.append([name, *(_pct(m[k]) for k in keys)])
    if "accuracy" in m:
        rows.append(["accuracy (all labels incl. negative)", "", "", _pct(m["accuracy"])])
    return rows


JOINT_ROWS = (
    ("NER (span + entity type)", "ner_"),
    ("RE boundaries (spans + relation type)", "re_boundaries_"),
    ("RE strict (spans + entity types + relation type)", "re_strict_"),
)


def _joint_table(m: dict[str, Any]) -> str:
    rows = [
        [
            name,
            *(_pct(m[f"{p}micro_{k}"]) for k in ("p", "r", "f1")),
            _pct(m[f"{p}macro_f1"]),
            m[f"{p}correct"],
            m[f"{p}predicted"],
            m[f"{p}gold"],
        ]
        for name, p in JOINT_ROWS
    ]
    table = text_table(["Task", "micro P %", "micro R %", "micro F1 %", "macro F1 %", "Correct", "Predicted", "Gold"], rows)
    sym = ", ".join(m.get("symmetric") or []) or "none"
    return f"{table}\nmacro F1: mean of the per-type F1 over the types in gold or predictions; symmetric relation types: {sym}"


def _triple_table(m: dict[str, Any]) -> str:
    if m["scheme"] == RELATION_SCHEME:
        name, macro = "relations: head span + label + tail span (micro)", "relations (macro over relation types)"
    else:
        name, macro = f"triples, {m['mode']} match (micro)", "triples (macro over relation types)"
    return text_table(
        ["Averaging", "P %", "R %", "F1 %"],
        [[name, *(_pct(m[f"micro_{k}"]) for k in ("p", "r", "f1"))], [macro, *(_pct(m[f"macro_{k}"]) for k in ("p", "r", "f1"))]],
    )


def format_report(metrics: dict[str, Any], title: str | None = None) -> str:
    """A fixed-width text report (values in %) naming the averaging used on every line.

    The layout follows ``metrics["scheme"]`` (set by every scorer): ``tacred``/``semeval`` pair labels,
    ``relations``/``triples`` relation-level, ``joint`` NER + RE."""
    scheme = metrics.get("scheme")
    blocks = [f"{title}\n{'=' * len(title)}"] if title else []
    if scheme == JOINT_SCHEME:
        blocks.append(_joint_table(metrics))
    elif scheme in (RELATION_SCHEME, TRIPLE_SCHEME):
        blocks.append(_triple_table(metrics))
    elif scheme in SCHEMES:
        blocks.append(text_table(["Averaging", "P %", "R %", "F1 %"], _avg_rows(metrics)))
    else:
        known = ", ".join((*SCHEMES, RELATION_SCHEME, TRIPLE_SCHEME, JOINT_SCHEME))
        raise RelxInputError(f"metrics without a known 'scheme' field ({scheme!r}; one of {known})")
    neg = metrics.get("negative")
    for key, head in (
        ("per_label", "Label"),
        ("official_per_type", "Relation type (official)"),
        ("per_type", "Relation type"),
        ("ner_per_type", "Entity type"),
        ("re_strict_per_type", "Relation type (strict)"),
    ):
        if key in metrics and metrics[key]:
            rows = [
                [lab + (" (negative)" if lab == neg else ""), _pct(v["p"]), _pct(v["r"]), _pct(v["f1"]), v["support"], v["predicted"]]
                for lab, v in metrics[key].items()
            ]
            blocks.append(text_table([head, "P %", "R %", "F1 %", "Support", "Predicted"], rows))
    if "n" in metrics:
        blocks.append(f"Documents: {metrics['n']}")
    return "\n\n".join(blocks) + "\n"
