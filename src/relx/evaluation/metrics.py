"""Metrics maths shared by every scorer: P/R/F1 with zero_division = 0, micro/macro over sets of
tuples, the scheme names and their metric keys, and the gold/prediction alignment by document id."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from relx.data.schema import Document
from relx.errors import RelxInputError

SCHEMES = ("tacred", "semeval")
RELATION_SCHEME = "relations"
JOINT_SCHEME = "joint"
TRIPLE_SCHEME = "triples"
DOCUMENT_SCHEMES = (*SCHEMES, RELATION_SCHEME, JOINT_SCHEME)


def _prf_names(prefix: str, suffix: str = "") -> tuple[str, ...]:
    return tuple(f"{prefix}{k}{suffix}" for k in ("p", "r", "f1"))


_LABEL_METRICS = (
    *_prf_names("micro_"),
    "accuracy",
    *_prf_names("macro_"),
    *_prf_names("weighted_"),
    *_prf_names("macro_", "_all"),
    *_prf_names("weighted_", "_all"),
)
SCHEME_METRICS: dict[str, tuple[str, ...]] = {
    "tacred": _LABEL_METRICS,
    "semeval": (*_LABEL_METRICS, *_prf_names("official_macro_"), *_prf_names("official_micro_")),
    RELATION_SCHEME: (*_prf_names("micro_"), *_prf_names("macro_")),
    JOINT_SCHEME: tuple(
        name for task in ("ner_", "re_boundaries_", "re_strict_") for avg in ("micro_", "macro_") for name in _prf_names(task + avg)
    ),
}


def scheme_metrics(scheme: str) -> tuple[str, ...]:
    """The P/R/F1 (and accuracy) keys ``score_documents(..., scheme=scheme)`` returns, usable as a selection metric."""
    if scheme not in SCHEME_METRICS:
        raise RelxInputError(f"unknown scheme {scheme!r} (choose from {', '.join(DOCUMENT_SCHEMES)})")
    return SCHEME_METRICS[scheme]


def div(a: float, b: float) -> float:
    """``a / b``, 0.0 when ``b`` is 0."""
    return float(a) / float(b) if b else 0.0


def f1_score(p: float, r: float) -> float:
    """Harmonic mean of precision and recall (0.0 when both are 0)."""
    return 2.0 * p * r / (p + r) if p + r > 0 else 0.0


def prf(tp: float, predicted: float, gold: float) -> tuple[float, float, float]:
    """P, R, F1 with zero_division = 0."""
    p, r = div(tp, predicted), div(tp, gold)
    return p, r, f1_score(p, r)


def set_scores(prefix: str, pairs: Iterable[tuple[set, set]], type_of: Callable[[Any], str]) -> dict[str, Any]:
    """Micro and macro P/R/F1 over sets of tuples; macro over the types seen in gold or pred (SpERT)."""
    tp: Counter = Counter()
    predicted: Counter = Counter()
    gold: Counter = Counter()
    for g, p in pairs:
        for t in g & p:
            tp[type_of(t)] += 1
        for t in p:
            predicted[type_of(t)] += 1
        for t in g:
            gold[type_of(t)] += 1
    types = sorted(set(predicted) | set(gold))
    per_type = {}
    for t in types:
        prec, rec, f1 = prf(tp[t], predicted[t], gold[t])
        per_type[t] = {"p": prec, "r": rec, "f1": f1, "support": gold[t], "predicted": predicted[t]}
    mp, mr, mf = prf(sum(tp.values()), sum(predicted.values()), sum(gold.values()))
    k = len(types)
    return {
        f"{prefix}micro_p": mp,
        f"{prefix}micro_r": mr,
        f"{prefix}micro_f1": mf,
        f"{prefix}macro_p": sum(v["p"] for v in per_type.values()) / k if k else 0.0,
        f"{prefix}macro_r": sum(v["r"] for v in per_type.values()) / k if k else 0.0,
        f"{prefix}macro_f1": sum(v["f1"] for v in per_type.values()) / k if k else 0.0,
        f"{prefix}correct": sum(tp.values()),
        f"{prefix}predicted": sum(predicted.values()),
        f"{prefix}gold": sum(gold.values()),
        f"{prefix}per_type": per_type,
    }


def record(index: int) -> str:
    """The location string of the ``index``-th (1-based) record of a file."""
    return f"record {index}"


def record_index(docs: Iterable[Document]) -> dict[str, int]:
    """Document id -> 1-based record number."""
    return {d.id: i for i, d in enumerate(docs, 1)}


def align_documents(
    gold: Iterable[Document], pred: Iterable[Document], gold_name: str = "gold", pred_name: str = "pred"
) -> list[tuple[Document, Document]]:
    """Pair gold and predicted Documents by ``id`` (gold order); errors name the id and the side."""
    from relx.data.schema import unique_ids

    g, p = unique_ids(gold, gold_name), unique_ids(pred, pred_name)
    for doc_id in g:
        if doc_id not in p:
            raise RelxInputError(f"no prediction for document id {doc_id!r} (present in {gold_name})", pred_name)
    for doc_id in p:
        if doc_id not in g:
            raise RelxInputError(f"document id {doc_id!r} is not in the gold file {gold_name}", pred_name)
    return [(g[i], p[i]) for i in g]
