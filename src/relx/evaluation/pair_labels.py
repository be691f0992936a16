"""Sentence-level pair-label scores (schemes ``tacred`` and ``semeval``): one label per document.

* ``micro_*`` follow the official TACRED script: micro over the positive labels only; a wrong
  positive prediction is one FP (for the guess) and one FN (for the gold label); precision is
  1.0 when nothing positive was predicted (recall and F1 are then 0).
* per-label, macro and weighted values follow ``sklearn.metrics.precision_recall_fscore_support``
  with ``zero_division=0``; macro-F1 is the mean of per-label F1s, taken over the labels that
  occur in gold or predictions (``macro_*``: positives only, ``macro_*_all``: incl. the negative
  class when it occurs; a test set without negatives does not average in a negative F1 of 0).
* ``official_*`` (scheme ``semeval``) is the SemEval-2010 Task 8 official score: (9+1)-way,
  directionality taken into account (semeval2010_task8_scorer-v1.2.pl, evaluation (iii)).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from relx.data.labels import LabelSet, relation_type, split_directed
from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.evaluation.metrics import RELATION_SCHEME, SCHEMES, align_documents, div, f1_score, prf, record, record_index


def _confusion(gold: Sequence[str], pred: Sequence[str], negative: str) -> tuple[list[str], np.ndarray]:
    """Labels (negative first, then sorted) and the confusion matrix (rows gold, columns pred)."""
    labels = [negative] + sorted((set(gold) | set(pred)) - {negative})
    index = {lab: i for i, lab in enumerate(labels)}
    g = np.fromiter((index[x] for x in gold), dtype=np.int64, count=len(gold))
    p = np.fromiter((index[x] for x in pred), dtype=np.int64, count=len(pred))
    size = len(labels)
    return labels, np.bincount(g * size + p, minlength=size * size).reshape(size, size)


def _averages(prefix: str, p: np.ndarray, r: np.ndarray, f: np.ndarray, support: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Macro (unweighted mean) and support-weighted P/R/F1 over the labels in ``mask``."""
    out: dict[str, float] = {}
    suffix = "" if prefix == "pos" else "_all"
    w = support[mask]
    for name, arr in (("p", p), ("r", r), ("f1", f)):
        vals = arr[mask]
        out[f"macro_{name}{suffix}"] = float(vals.mean()) if vals.size else 0.0
        out[f"weighted_{name}{suffix}"] = float((vals * w).sum() / w.sum()) if w.sum() else 0.0
    return out


def score_labels(gold: Sequence[str], pred: Sequence[str], negative: str, scheme: str = "tacred") -> dict[str, Any]:
    """Score aligned pair labels; see the module docstring for the averaging conventions."""
    if len(gold) != len(pred):
        raise RelxInputError(f"{len(gold)} gold labels but {len(pred)} predicted labels")
    if scheme not in SCHEMES:
        raise RelxInputError(f"unknown scheme {scheme!r} (choose from {', '.join(SCHEMES)})")
    labels, conf = _confusion(gold, pred, negative)
    tp, n_pred, n_gold = np.diag(conf), conf.sum(axis=0), conf.sum(axis=1)
    pos = np.array([lab != negative for lab in labels])
    seen = (n_gold + n_pred) > 0  # labels that occur in gold or predictions (the negative may not)
    correct, guessed, gold_pos = int(tp[pos].sum()), int(n_pred[pos].sum()), int(n_gold[pos].sum())
    micro_p = div(correct, guessed) if guessed else 1.0  # TACRED: no positive guess -> precision 1.0
    micro_r = div(correct, gold_pos)
    p = np.divide(tp, n_pred, out=np.zeros(len(labels)), where=n_pred > 0)
    r = np.divide(tp, n_gold, out=np.zeros(len(labels)), where=n_gold > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros(len(labels)), where=(p + r) > 0)
    out: dict[str, Any] = {
        "scheme": scheme,
        "negative": negative,
        "n": len(gold),
        "micro_p": micro_p,
        "micro_r": micro_r,
        "micro_f1": f1_score(micro_p, micro_r),
        "micro_correct": correct,
        "micro_predicted": guessed,
        "micro_gold": gold_pos,
        "accuracy": div(tp.sum(), len(gold)),
    }
    out.update(_averages("pos", p, r, f, n_gold, pos))
    out.update(_averages("all", p, r, f, n_gold, seen))
    out["per_label"] = {
        lab: {"p": float(p[i]), "r": float(r[i]), "f1": float(f[i]), "support": int(n_gold[i]), "predicted": int(n_pred[i])}
        for i, lab in enumerate(labels)
    }
    if scheme == "semeval":
        out.update(_official_from_confusion(labels, conf, negative))
    return out


def official_semeval(gold: Sequence[str], pred: Sequence[str], negative: str = "Other") -> dict[str, Any]:
    """SemEval-2010 Task 8 official (9+1)-way score with directionality taken into account.

    Per relation type T (direction stripped): TP = predictions equal to the gold label (type and
    direction); P = TP / all predictions of type T in any direction (wrong-direction predictions
    count in the denominator only); R = TP / gold instances of type T; F1 per type. Macro P/R/F1
    average the per-type values over the types present in gold, the negative class excluded.
    Predicted types absent from gold act like the negative class (as in the Perl scorer).
    """
    return _official_from_confusion(*_confusion(gold, pred, negative), negative)


def _official_from_confusion(labels: list[str], conf: np.ndarray, negative: str) -> dict[str, Any]:
    """``official_semeval`` computed from the label confusion matrix (rows gold, columns pred)."""
    types = np.array([relation_type(lab) if lab != negative else "" for lab in labels], dtype=object)
    per_type = {}
    for t in sorted({str(x) for x, n in zip(types, conf.sum(axis=1)) if x and n}):  # types present in gold
        m = types == t
        block = conf[np.ix_(m, m)]  # gold of type t x predictions of type t
        tp_, predicted, support = int(np.trace(block)), int(conf[:, m].sum()), int(conf[m, :].sum())
        prec, rec, f1 = prf(tp_, predicted, support)
        per_type[t] = {
            "p": prec,
            "r": rec,
            "f1": f1,
            "tp": tp_,
            "predicted": predicted,
            "support": support,
            "wrong_direction": int(block.sum()) - tp_,
        }
    k = len(per_type)
    tot = {key: sum(v[key] for v in per_type.values()) for key in ("tp", "predicted", "support")}
    mp, mr, mf = prf(tot["tp"], tot["predicted"], tot["support"])
    return {
        "official_macro_p": sum(v["p"] for v in per_type.values()) / k if k else 0.0,
        "official_macro_r": sum(v["r"] for v in per_type.values()) / k if k else 0.0,
        "official_macro_f1": sum(v["f1"] for v in per_type.values()) / k if k else 0.0,
        "official_micro_p": mp,
        "official_micro_r": mr,
        "official_micro_f1": mf,
        "official_per_type": per_type,
    }


def _probe_labels(labels_or_negative: LabelSet | str, gold: list[Document], pred: list[Document], scheme: str) -> LabelSet:
    """A LabelSet whose ``directed`` flag says whether pair labels carry (e1,e2)/(e2,e1)."""
    given = labels_or_negative if isinstance(labels_or_negative, LabelSet) else None
    negative = given.negative if given else str(labels_or_negative)
    directed = (
        scheme == "semeval"
        or (given is not None and given.directed)
        or LabelSet.from_documents(gold, negative=negative).directed
        or any(split_directed(r.label)[1] is not None for d in pred for r in d.relations)
    )
    return LabelSet([negative, "x(e1,e2)"] if directed else [], negative)


def _check_sentence_level(
    gold: list[Document],
    pred: list[Document],
    pairs: list[tuple[Document, Document]],
    scheme: str,
    gold_name: str,
    pred_name: str,
) -> None:
    """Sentence-level schemes score one (e1, e2) label per document: exactly two entities, the same
    spans on both sides and at most one relation; anything else raises RelxInputError naming the
    file, the record and the document id."""
    use = f"score every relation by spans with scheme {RELATION_SCHEME!r} (relx evaluate --scheme {RELATION_SCHEME})"
    g_index, p_index = record_index(gold), record_index(pred)
    for g, p in pairs:
        for doc, name, where in ((g, gold_name, g_index[g.id]), (p, pred_name, p_index[p.id])):
            if len(doc.entities) != 2:
                raise RelxInputError(
                    f"document {doc.id!r} has {len(doc.entities)} entities, but the sentence-level scheme {scheme!r} needs exactly "
                    f"two (e1, e2) per document; {use}",
                    name,
                    record(where),
                )
            if len(doc.relations) > 1:
                raise RelxInputError(
                    f"document {doc.id!r} has {len(doc.relations)} relations, but the sentence-level scheme {scheme!r} scores one "
                    f"label per document; {use}",
                    name,
                    record(where),
                )
        g_spans = [(e.start, e.end) for e in g.entities]
        p_spans = [(e.start, e.end) for e in p.entities]
        if g_spans != p_spans:
            raise RelxInputError(
                f"document {p.id!r}: entity spans {p_spans} differ from the gold spans {g_spans} in {gold_name}; "
                f"predict on the gold entities or {use}",
                pred_name,
                record(p_index[p.id]),
            )


def document_pair_labels(
    gold: Iterable[Document],
    pred: Iterable[Document],
    labels_or_negative: LabelSet | str,
    scheme: str = "tacred",
    gold_name: str = "gold",
    pred_name: str = "pred",
) -> tuple[list[Document], list[str], list[str]]:
    """Aligned gold Documents and the pair labels of (entities[0], entities[1]) on both sides.

    Every document must have exactly two entities, the same spans in gold and prediction, and at
    most one relation (else RelxInputError naming the file and document; see ``score_relations``).
    """
    gold, pred = list(gold), list(pred)
    pairs = align_documents(gold, pred, gold_name, pred_name)
    gdocs, pdocs = [g for g, _ in pairs], [p for _, p in pairs]
    _check_sentence_level(gold, pred, pairs, scheme, gold_name, pred_name)
    probe = _probe_labels(labels_or_negative, gdocs, pdocs, scheme)
    return gdocs, [probe.pair_label(d) for d in gdocs], [probe.pair_label(d) for d in pdocs]
