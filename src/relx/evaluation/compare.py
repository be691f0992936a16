"""Paired bootstrap of two systems' predictions on the same test documents, for the main metric of a scheme.

Schemes and metrics: ``tacred`` (micro_f1, macro_f1...), ``semeval`` (official_macro_f1, micro_f1...) score the
pair labels with :func:`relx.evaluation.pair_labels.score_labels` on every resample; ``relations`` (micro_f1 over
(head span, relation, tail span) triples) and ``joint`` (``ner`` / ``re_boundaries`` / ``re_strict`` micro-F1)
count tuples per document once, so a resample only sums integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.evaluation.analysis import _micro_f1, joint_bootstrap, paired_bootstrap

DEFAULT_METRIC = {"tacred": "micro_f1", "semeval": "official_macro_f1", "relations": "micro_f1", "joint": "re_strict_micro_f1"}


def _relation_counts(gold: Sequence[Document], pred: Sequence[Document], negative: str) -> np.ndarray:
    from relx.data.triples import relation_triples
    from relx.evaluation.metrics import align_documents

    rows = [
        (len((g_set := relation_triples(g, negative)) & (p_set := relation_triples(p, negative))), len(p_set), len(g_set))
        for g, p in align_documents(gold, pred)
    ]
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def compare_predictions(
    gold: Sequence[Document],
    pred_a: Sequence[Document],
    pred_b: Sequence[Document],
    scheme: str,
    negative: str,
    metric: str | None = None,
    n: int = 1000,
    seed: int = 0,
    symmetric: Iterable[str] = (),
) -> dict[str, Any]:
    """A vs B on ``metric`` (default: the scheme's main metric): both values, difference, 95% CI, and
    ``p_value`` = share of resamples where A is not better (small: A > B is unlikely to be chance)."""
    metric = metric or DEFAULT_METRIC.get(scheme)
    if metric is None:
        raise RelxInputError(f"unknown scheme {scheme!r} (choose from {', '.join(DEFAULT_METRIC)})")
    base = {"scheme": scheme, "metric": metric, "documents": len(gold), "resamples": n}
    if scheme == "joint":
        task = metric.removesuffix("_micro_f1")
        return {**base, **joint_bootstrap(gold, pred_a, pred_b, task, n=n, seed=seed, symmetric=symmetric)}
    if scheme == "relations":
        if metric != "micro_f1":
            raise RelxInputError(f"scheme 'relations' compares micro_f1, not {metric!r}")
        a, b = _relation_counts(gold, pred_a, negative), _relation_counts(gold, pred_b, negative)
        return {
            **base,
            **paired_bootstrap(
                a[:, 2].tolist(), [tuple(r) for r in a[:, :2].tolist()], [tuple(r) for r in b[:, :2].tolist()], _micro_f1, n=n, seed=seed
            ),
        }
    from relx.evaluation.pair_labels import document_pair_labels, score_labels

    _, g, la = document_pair_labels(gold, pred_a, negative, scheme, pred_name="A")
    _, _, lb = document_pair_labels(gold, pred_b, negative, scheme, pred_name="B")
    if metric not in score_labels(g, la, negative, scheme):
        raise RelxInputError(f"scheme {scheme!r} has no metric {metric!r}")
    return {**base, **paired_bootstrap(g, la, lb, lambda gg, pp: score_labels(gg, pp, negative, scheme)[metric], n=n, seed=seed)}


def compare_seeds(
    gold: Sequence[Document],
    runs_a: Sequence[Sequence[Document]],
    runs_b: Sequence[Sequence[Document]],
    scheme: str,
    negative: str,
    metric: str | None = None,
    n: int = 1000,
    seed: int = 0,
    symmetric: Iterable[str] = (),
) -> dict[str, Any]:
    """A vs B over several seeds (schemes ``tacred``, ``semeval`` and ``joint``): ``runs_a[i]`` and ``runs_b[i]`` are
    the predictions of seed i. Each resample draws the same test documents for every seed; the metric is the
    seeds' mean, so the result is the paired bootstrap of the seed-averaged systems."""
    metric = metric or DEFAULT_METRIC.get(scheme)
    if scheme not in ("tacred", "semeval", "joint") or metric is None:
        raise RelxInputError(f"compare_seeds: scheme tacred, semeval or joint, not {scheme!r}")
    if not runs_a or len(runs_a) != len(runs_b):
        raise RelxInputError(f"compare_seeds needs the same number of seeds for A and B, got {len(runs_a)} and {len(runs_b)}")
    seeds = len(runs_a)
    if scheme == "joint":  # items: documents; each holds one (correct, predicted) count pair per seed
        from relx.evaluation.analysis import joint_counts

        task, sym = metric.removesuffix("_micro_f1"), set(symmetric)
        counts = {name: [joint_counts(gold, pred, task, sym) for pred in runs] for name, runs in (("A", runs_a), ("B", runs_b))}
        g = counts["A"][0][:, 2].tolist()
        items = {name: list(zip(*[[tuple(r) for r in c[:, :2].tolist()] for c in cs])) for name, cs in counts.items()}

        def score(gg: list, pred: list) -> float:
            return _micro_f1(gg, pred)
    else:  # items: pairs; each holds one label per seed
        from relx.evaluation.pair_labels import document_pair_labels, score_labels

        labels: dict[str, list] = {"A": [], "B": []}
        for name, runs in (("A", runs_a), ("B", runs_b)):
            for pred in runs:
                _, g, lab = document_pair_labels(gold, pred, negative, scheme, pred_name=name)
                labels[name].append(lab)
        items = {name: list(zip(*labs)) for name, labs in labels.items()}

        def score(gg: list, pred: list) -> float:
            return score_labels(gg, pred, negative, scheme)[metric]

    def seed_mean(gg: list, preds: list) -> float:
        return sum(score(gg, [p[i] for p in preds]) for i in range(seeds)) / seeds

    res = paired_bootstrap(g, items["A"], items["B"], seed_mean, n=n, seed=seed)
    return {"scheme": scheme, "metric": metric, "documents": len(gold), "resamples": n, "seeds": seeds, **res}


def compare_by_seed(
    gold: Sequence[Document],
    runs_a: dict[Any, Sequence[Document]],
    runs_b: dict[Any, Sequence[Document]],
    scheme: str,
    negative: str,
    metric: str | None = None,
    n: int = 1000,
    symmetric: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """A vs B for every seed both have (``{seed: predictions}``), then, with two or more, the seed-pooled
    comparison (:func:`compare_seeds`): result rows ``{"seed": s, **bootstrap_row}`` and
    ``{"seed": "pooled", "seeds": [...], **bootstrap_row}``."""
    seeds = sorted(set(runs_a) & set(runs_b))
    out = [
        {"seed": s, **bootstrap_row(compare_predictions(gold, runs_a[s], runs_b[s], scheme, negative, metric, n=n, symmetric=symmetric))}
        for s in seeds
    ]
    if len(seeds) > 1:
        res = compare_seeds(
            gold, [runs_a[s] for s in seeds], [runs_b[s] for s in seeds], scheme, negative, metric, n=n, symmetric=symmetric
        )
        out.append({"seed": "pooled", "seeds": seeds, **bootstrap_row(res)})
    return out


def document_difference(a: Sequence[Document], b: Sequence[Document]) -> str | None:
    """Why two copies of a test set differ (their sizes, or the first document whose id, tokens, entities (spans
    and types) or relations (head, tail, label) differ), or None when their contents are the same."""
    if len(a) != len(b):
        return f"{len(a)} vs {len(b)} documents"
    parts = {
        "id": lambda d: d.id,
        "tokens": lambda d: d.tokens,
        "entities": lambda d: [(e.start, e.end, e.label) for e in d.entities],
        "relations": lambda d: [(r.head, r.tail, r.label) for r in d.relations],
    }
    for k, (x, y) in enumerate(zip(a, b), 1):
        what = next((name for name, part in parts.items() if part(x) != part(y)), None)
        if what is not None:
            return f"document {k} (id {x.id!r}) differs in its {what}"
    return None


def bootstrap_row(res: dict[str, Any]) -> dict[str, Any]:
    """The fields of a ``compare_predictions`` result that a benchmark result row keeps (metric, both values,
    difference, CI, p-value, resamples as ``n``): what ``paired_bootstrap`` returns, under the metric's name."""
    keep = ("metric", "metric_a", "metric_b", "diff", "mean_diff", "ci_low", "ci_high", "p_value", "n")
    return {k: res[k] for k in keep}


def format_comparison(res: dict[str, Any], name_a: str, name_b: str) -> str:
    """Readable result lines (percentages)."""
    m = res["metric"]
    return (
        f"paired bootstrap, {res['resamples']} resamples of {res['documents']} test documents, metric {m} (scheme {res['scheme']})"
        f"{f', the mean of {seeds} seeds' if (seeds := res.get('seeds', 1)) > 1 else ''}\n"
        f"  A {name_a}: {100 * res['metric_a']:.2f}\n  B {name_b}: {100 * res['metric_b']:.2f}\n"
        f"  A - B: {100 * res['diff']:+.2f}  (95% CI {100 * res['ci_low']:+.2f} .. {100 * res['ci_high']:+.2f})\n"
        f"  p-value (A not better than B): {res['p_value']:.4f}\n"
    )
