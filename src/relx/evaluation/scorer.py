"""One scorer: sentence-level pair labels (TACRED / SemEval official), triples and joint NER+RE.

All values are fractions in [0, 1]. Conventions:

* ``micro_*`` follow the official TACRED script: micro over the positive labels only; a wrong
  positive prediction is one FP (for the guess) and one FN (for the gold label); precision is
  1.0 when nothing positive was predicted (recall and F1 are then 0).
* per-label, macro and weighted values follow ``sklearn.metrics.precision_recall_fscore_support``
  with ``zero_division=0``; macro-F1 is the mean of per-label F1s, taken over the labels that
  occur in gold or predictions (``macro_*``: positives only, ``macro_*_all``: incl. negative).
* ``official_*`` (scheme ``semeval``) is the SemEval-2010 Task 8 official score: (9+1)-way,
  directionality taken into account (semeval2010_task8_scorer-v1.2.pl, evaluation (iii)).

Documents are scored either sentence-level (schemes ``tacred``, ``semeval``: one pair label per
document, which must have exactly two entities with the same spans on both sides and at most one
relation), relation-level (scheme ``relations``: every relation of every document is a
(head span, label, tail span) triple; missing ones are false negatives, extra ones false positives)
or as joint entity + relation extraction (scheme ``joint``: ``score_joint``, the SpERT settings).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from relx.data.labels import LabelSet, relation_type, split_directed
from relx.data.schema import Document
from relx.errors import RelxInputError

SCHEMES = ("tacred", "semeval")
RELATION_SCHEME = "relations"
JOINT_SCHEME = "joint"
DOCUMENT_SCHEMES = (*SCHEMES, RELATION_SCHEME, JOINT_SCHEME)
__all__ = [
    "score_labels", "official_semeval", "document_pair_labels", "score_documents", "score_relations", "score_triples", "score_joint",
    "format_report", "scheme_metrics",
]


def _prf_names(prefix: str, suffix: str = "") -> tuple[str, ...]:
    return tuple(f"{prefix}{k}{suffix}" for k in ("p", "r", "f1"))


_LABEL_METRICS = (
    *_prf_names("micro_"), "accuracy", *_prf_names("macro_"), *_prf_names("weighted_"), *_prf_names("macro_", "_all"),
    *_prf_names("weighted_", "_all"),
)
SCHEME_METRICS: dict[str, tuple[str, ...]] = {
    "tacred": _LABEL_METRICS,
    "semeval": (*_LABEL_METRICS, *_prf_names("official_macro_"), *_prf_names("official_micro_")),
    RELATION_SCHEME: (*_prf_names("micro_"), *_prf_names("macro_")),
    JOINT_SCHEME: tuple(name for task in ("ner_", "re_boundaries_", "re_strict_") for avg in ("micro_", "macro_")
                        for name in _prf_names(task + avg)),
}


def scheme_metrics(scheme: str) -> tuple[str, ...]:
    """The P/R/F1 (and accuracy) keys ``score_documents(..., scheme=scheme)`` returns, usable as a selection metric."""
    if scheme not in SCHEME_METRICS:
        raise RelxInputError(f"unknown scheme {scheme!r} (choose from {', '.join(DOCUMENT_SCHEMES)})")
    return SCHEME_METRICS[scheme]


def _div(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def _f1(p: float, r: float) -> float:
    return 2.0 * p * r / (p + r) if p + r > 0 else 0.0


def _prf(tp: float, predicted: float, gold: float) -> tuple[float, float, float]:
    """P, R, F1 with zero_division = 0."""
    p, r = _div(tp, predicted), _div(tp, gold)
    return p, r, _f1(p, r)


# --- sentence-level pair labels ---------------------------------------------
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
    correct, guessed, gold_pos = int(tp[pos].sum()), int(n_pred[pos].sum()), int(n_gold[pos].sum())
    micro_p = _div(correct, guessed) if guessed else 1.0  # TACRED: no positive guess -> precision 1.0
    micro_r = _div(correct, gold_pos)
    p = np.divide(tp, n_pred, out=np.zeros(len(labels)), where=n_pred > 0)
    r = np.divide(tp, n_gold, out=np.zeros(len(labels)), where=n_gold > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros(len(labels)), where=(p + r) > 0)
    out: dict[str, Any] = {
        "scheme": scheme, "negative": negative, "n": len(gold),
        "micro_p": micro_p, "micro_r": micro_r, "micro_f1": _f1(micro_p, micro_r),
        "micro_correct": correct, "micro_predicted": guessed, "micro_gold": gold_pos,
        "accuracy": _div(tp.sum(), len(gold)),
    }
    out.update(_averages("pos", p, r, f, n_gold, pos))
    out.update(_averages("all", p, r, f, n_gold, np.ones_like(pos)))
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
        prec, rec, f1 = _prf(tp_, predicted, support)
        per_type[t] = {"p": prec, "r": rec, "f1": f1, "tp": tp_, "predicted": predicted, "support": support,
                       "wrong_direction": int(block.sum()) - tp_}
    k = len(per_type)
    tot = {key: sum(v[key] for v in per_type.values()) for key in ("tp", "predicted", "support")}
    mp, mr, mf = _prf(tot["tp"], tot["predicted"], tot["support"])
    return {
        "official_macro_p": sum(v["p"] for v in per_type.values()) / k if k else 0.0,
        "official_macro_r": sum(v["r"] for v in per_type.values()) / k if k else 0.0,
        "official_macro_f1": sum(v["f1"] for v in per_type.values()) / k if k else 0.0,
        "official_micro_p": mp, "official_micro_r": mr, "official_micro_f1": mf,
        "official_per_type": per_type,
    }


# --- documents -----------------------------------------------------------------
def align_documents(gold: Iterable[Document], pred: Iterable[Document], gold_name: str = "gold", pred_name: str = "pred") -> list[tuple[Document, Document]]:
    """Pair gold and predicted Documents by ``id`` (gold order); errors name the id and the side."""
    def by_id(docs: Iterable[Document], name: str) -> dict[str, Document]:
        out: dict[str, Document] = {}
        for d in docs:
            if d.id in out:
                raise RelxInputError(f"duplicate document id {d.id!r}", name)
            out[d.id] = d
        return out

    g, p = by_id(gold, gold_name), by_id(pred, pred_name)
    for doc_id in g:
        if doc_id not in p:
            raise RelxInputError(f"no prediction for document id {doc_id!r} (present in {gold_name})", pred_name)
    for doc_id in p:
        if doc_id not in g:
            raise RelxInputError(f"document id {doc_id!r} is not in the gold file {gold_name}", pred_name)
    return [(g[i], p[i]) for i in g]


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


def _record(index: int) -> str:
    return f"record {index}"


def _check_sentence_level(
    gold: list[Document], pred: list[Document], pairs: list[tuple[Document, Document]], scheme: str, gold_name: str, pred_name: str,
) -> None:
    """Sentence-level schemes score one (e1, e2) label per document: exactly two entities, the same
    spans on both sides and at most one relation; anything else raises RelxInputError naming the
    file, the record and the document id."""
    use = f"score every relation by spans with scheme {RELATION_SCHEME!r} (relx evaluate --scheme {RELATION_SCHEME})"
    g_index = {d.id: i for i, d in enumerate(gold, 1)}
    p_index = {d.id: i for i, d in enumerate(pred, 1)}
    for g, p in pairs:
        for doc, name, where in ((g, gold_name, g_index[g.id]), (p, pred_name, p_index[p.id])):
            if len(doc.entities) != 2:
                raise RelxInputError(
                    f"document {doc.id!r} has {len(doc.entities)} entities, but the sentence-level scheme {scheme!r} needs exactly "
                    f"two (e1, e2) per document; {use}", name, _record(where),
                )
            if len(doc.relations) > 1:
                raise RelxInputError(
                    f"document {doc.id!r} has {len(doc.relations)} relations, but the sentence-level scheme {scheme!r} scores one "
                    f"label per document; {use}", name, _record(where),
                )
        g_spans = [(e.start, e.end) for e in g.entities]
        p_spans = [(e.start, e.end) for e in p.entities]
        if g_spans != p_spans:
            raise RelxInputError(
                f"document {p.id!r}: entity spans {p_spans} differ from the gold spans {g_spans} in {gold_name}; "
                f"predict on the gold entities or {use}", pred_name, _record(p_index[p.id]),
            )


def document_pair_labels(
    gold: Iterable[Document], pred: Iterable[Document], labels_or_negative: LabelSet | str, scheme: str = "tacred",
    gold_name: str = "gold", pred_name: str = "pred",
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


TRIPLE_MODES = ("exact", "partial", "partial_last")


def _span_key(start: int, end: int, mode: str) -> tuple[int, ...]:
    return {"exact": (start, end), "partial": (start,), "partial_last": (end - 1,)}[mode]


def relation_triples(doc: Document, negative: str | None = None, mode: str = "exact") -> set[tuple]:
    """``{(head key, relation type, tail key)}`` of ``doc``; keys are spans (``exact``), first tokens
    (``partial``) or last tokens (``partial_last``). A directed pair label ``T(e2,e1)`` on the pair of
    entities 0 and 1 becomes type T from entities[1] to entities[0]; ``negative``-labelled relations are dropped."""
    out = set()
    for r in doc.relations:
        if r.label == negative:
            continue
        head, tail, label = r.head, r.tail, r.label
        rtype, reverse = split_directed(label)
        if reverse is not None and {head, tail} == {0, 1}:
            head, tail, label = (1, 0, rtype) if reverse else (0, 1, rtype)
        h, t = _entity(doc, head), _entity(doc, tail)
        out.add((_span_key(h.start, h.end, mode), label, _span_key(t.start, t.end, mode)))
    return out


def score_relations(
    gold: Iterable[Document], pred: Iterable[Document], negative: str = "no_relation", gold_name: str = "gold", pred_name: str = "pred",
) -> dict[str, Any]:
    """Relation-level P/R/F1 over (head span, label, tail span) of every relation of every document.

    Documents are aligned by id; entities are compared by span, so predictions may carry other
    entities. Each gold relation the prediction lacks is a false negative, each extra predicted
    relation a false positive. Micro over all relations; macro over the relation types seen.
    """
    gold, pred = list(gold), list(pred)
    aligned = align_documents(gold, pred, gold_name, pred_name)
    g_index = {d.id: i for i, d in enumerate(gold, 1)}
    p_index = {d.id: i for i, d in enumerate(pred, 1)}
    pairs = []
    for g, p in aligned:
        try:
            g_set = relation_triples(g, negative)
        except RelxInputError as exc:
            raise exc.at(gold_name, _record(g_index[g.id])) from None
        try:
            p_set = relation_triples(p, negative)
        except RelxInputError as exc:
            raise exc.at(pred_name, _record(p_index[p.id])) from None
        pairs.append((g_set, p_set))
    out = _set_scores("", pairs, type_of=lambda t: t[1])
    return {"scheme": RELATION_SCHEME, "negative": negative, "mode": "exact", "n": len(pairs), **out}


def score_documents(
    gold: Iterable[Document], pred: Iterable[Document], labels_or_negative: LabelSet | str = "no_relation", scheme: str = "tacred",
    gold_name: str = "gold", pred_name: str = "pred", symmetric: Iterable[str] = (),
) -> dict[str, Any]:
    """Score predicted Documents against gold Documents (aligned by id).

    ``tacred`` / ``semeval``: sentence-level pair labels via LabelSet semantics (documents with
    exactly two entities, same spans, at most one relation). ``relations``: every relation by spans.
    ``joint``: ``score_joint`` (NER, RE boundaries, RE strict; ``symmetric`` relation types ignore
    argument order; the negative label is not used).
    """
    negative = labels_or_negative.negative if isinstance(labels_or_negative, LabelSet) else str(labels_or_negative)
    if scheme == JOINT_SCHEME:
        return score_joint(gold, pred, symmetric, gold_name, pred_name)
    if scheme == RELATION_SCHEME:
        return score_relations(gold, pred, negative, gold_name, pred_name)
    if scheme not in SCHEMES:
        raise RelxInputError(f"unknown scheme {scheme!r} (choose from {', '.join(DOCUMENT_SCHEMES)})")
    _, g, p = document_pair_labels(gold, pred, labels_or_negative, scheme, gold_name, pred_name)
    return score_labels(g, p, negative, scheme)


# --- sets of tuples: triples and joint NER + RE -------------------------------
def _set_scores(prefix: str, pairs: Iterable[tuple[set, set]], type_of: Callable[[Any], str]) -> dict[str, Any]:
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
        prec, rec, f1 = _prf(tp[t], predicted[t], gold[t])
        per_type[t] = {"p": prec, "r": rec, "f1": f1, "support": gold[t], "predicted": predicted[t]}
    mp, mr, mf = _prf(sum(tp.values()), sum(predicted.values()), sum(gold.values()))
    k = len(types)
    return {
        f"{prefix}micro_p": mp, f"{prefix}micro_r": mr, f"{prefix}micro_f1": mf,
        f"{prefix}macro_p": sum(v["p"] for v in per_type.values()) / k if k else 0.0,
        f"{prefix}macro_r": sum(v["r"] for v in per_type.values()) / k if k else 0.0,
        f"{prefix}macro_f1": sum(v["f1"] for v in per_type.values()) / k if k else 0.0,
        f"{prefix}correct": sum(tp.values()), f"{prefix}predicted": sum(predicted.values()), f"{prefix}gold": sum(gold.values()),
        f"{prefix}per_type": per_type,
    }


def _entity(doc: Document, idx: int) -> Any:
    if not 0 <= idx < len(doc.entities):
        raise RelxInputError(f"document {doc.id!r}: relation argument {idx} does not index one of {len(doc.entities)} entities")
    return doc.entities[idx]


def score_triples(gold_docs: Iterable[Document], pred_docs: Iterable[Document], mode: str = "exact") -> dict[str, Any]:
    """Relational-triple P/R/F1 (head span, relation label, tail span); duplicates count once per document.

    ``exact``: both entity spans match exactly. ``partial``: only the FIRST token of each entity must
    match, as CasRel's ``partial_match`` (weizhepei/CasRel utils.py) keeps the first word of each
    entity string; on NYT*/WebNLG*, where only the last word of an entity is annotated, gold entities
    are single tokens. ``partial_last``: only the LAST token of each entity must match.
    """
    if mode not in TRIPLE_MODES:
        raise RelxInputError(f"unknown triple match mode {mode!r} (choose from {', '.join(TRIPLE_MODES)})")
    pairs = [(relation_triples(g, None, mode), relation_triples(p, None, mode)) for g, p in align_documents(gold_docs, pred_docs)]
    out = _set_scores("", pairs, type_of=lambda t: t[1])
    return {"mode": mode, "n": len(pairs), **out}


def _entity_key(doc: Document, idx: int, typed: bool) -> tuple:
    e = _entity(doc, idx)
    return (e.start, e.end, e.label if typed else None)


def _names(names: Iterable[str]) -> set[str]:
    """A set of relation type names (a single string is one name)."""
    return {names} if isinstance(names, str) else set(names)


def joint_entities(doc: Document) -> set[tuple[int, int, str]]:
    """``{(start, end, type)}`` of the document's entities (the NER tuples of ``score_joint``)."""
    return {(e.start, e.end, e.label) for e in doc.entities}


def joint_relations(doc: Document, typed: bool, symmetric: Iterable[str] = ()) -> set[tuple]:
    """``{(head key, tail key, label)}`` with entity key ``(start, end, type)`` (type None unless ``typed``);
    for a ``symmetric`` label the two keys are sorted, so both argument orders give the same tuple."""
    symmetric = symmetric if isinstance(symmetric, (set, frozenset)) else _names(symmetric)
    out = set()
    for r in doc.relations:
        head, tail = _entity_key(doc, r.head, typed), _entity_key(doc, r.tail, typed)
        if r.label in symmetric and tail < head:
            head, tail = tail, head
        out.add((head, tail, r.label))
    return out


def score_joint(
    gold_docs: Iterable[Document], pred_docs: Iterable[Document], symmetric: Iterable[str] = (),
    gold_name: str = "gold", pred_name: str = "pred",
) -> dict[str, Any]:
    """Joint entity + relation extraction in the three SpERT settings (lavis-nlp/spert evaluator.py).

    ``ner_*``: an entity is correct when span and type match. ``re_boundaries_*``: a relation is
    correct when the relation type and both entity spans match (entity types ignored).
    ``re_strict_*``: also both entity types must match. Micro over all tuples; macro averages the
    per-type P/R/F1 over the types that occur in gold or predictions. For a ``symmetric`` relation
    type the argument order is canonicalised (sorted by entity key) on both sides before matching,
    so a reversed prediction is correct (SpERT's ``_adjust_rel``); tuples are sets per document.
    """
    gold_docs, pred_docs = list(gold_docs), list(pred_docs)
    pairs = align_documents(gold_docs, pred_docs, gold_name, pred_name)
    symmetric = _names(symmetric)
    index = {gold_name: {d.id: i for i, d in enumerate(gold_docs, 1)}, pred_name: {d.id: i for i, d in enumerate(pred_docs, 1)}}

    def rels(doc: Document, typed: bool, name: str) -> set[tuple]:
        try:
            return joint_relations(doc, typed, symmetric)
        except RelxInputError as exc:
            raise exc.at(name, _record(index[name][doc.id])) from None

    ents = [(joint_entities(g), joint_entities(p)) for g, p in pairs]
    out: dict[str, Any] = {"scheme": JOINT_SCHEME, "n": len(pairs), "symmetric": sorted(symmetric)}
    out.update(_set_scores("ner_", ents, type_of=lambda t: t[2]))
    for setting, typed in (("boundaries", False), ("strict", True)):
        sets = [(rels(g, typed, gold_name), rels(p, typed, pred_name)) for g, p in pairs]
        out.update(_set_scores(f"re_{setting}_", sets, type_of=lambda t: t[2]))
    return out


# --- report ------------------------------------------------------------------------
def _pct(x: float) -> str:
    return f"{100 * x:6.2f}"


def text_table(headers: list[str], rows: list[list[Any]], title: str | None = None) -> str:
    """Fixed-width text table (first column left-aligned, the rest right-aligned), optionally titled."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(([title, "=" * len(title)] if title else []) + lines)


def _avg_rows(m: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    spec = [
        ("micro (positives; wrong positive = FP + FN)", "micro_"), ("macro (positives only)", "macro_"),
        ("macro (all labels incl. negative)", "macro_*_all"), ("weighted by gold support (positives only)", "weighted_"),
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
    ("NER (span + entity type)", "ner_"), ("RE boundaries (spans + relation type)", "re_boundaries_"),
    ("RE strict (spans + entity types + relation type)", "re_strict_"),
)


def _joint_table(m: dict[str, Any]) -> str:
    rows = [[name, *(_pct(m[f"{p}micro_{k}"]) for k in ("p", "r", "f1")), _pct(m[f"{p}macro_f1"]), m[f"{p}correct"], m[f"{p}predicted"],
             m[f"{p}gold"]] for name, p in JOINT_ROWS]
    table = text_table(["Task", "micro P %", "micro R %", "micro F1 %", "macro F1 %", "Correct", "Predicted", "Gold"], rows)
    sym = ", ".join(m.get("symmetric") or []) or "none"
    return f"{table}\nmacro F1: mean of the per-type F1 over the types in gold or predictions; symmetric relation types: {sym}"


def format_report(metrics: dict[str, Any], title: str | None = None) -> str:
    """A fixed-width text report (values in %) naming the averaging used on every line."""
    blocks = [f"{title}\n{'=' * len(title)}"] if title else []
    if all(f"{p}micro_f1" in metrics for _, p in JOINT_ROWS):  # joint NER + RE
        blocks.append(_joint_table(metrics))
    elif "mode" in metrics:  # triples / relation level
        if metrics.get("scheme") == RELATION_SCHEME:
            name, macro = "relations: head span + label + tail span (micro)", "relations (macro over relation types)"
        else:
            name, macro = f"triples, {metrics['mode']} match (micro)", "triples (macro over relation types)"
        blocks.append(text_table(["Averaging", "P %", "R %", "F1 %"], [[name, *(_pct(metrics[f"micro_{k}"]) for k in ("p", "r", "f1"))],
                      [macro, *(_pct(metrics[f"macro_{k}"]) for k in ("p", "r", "f1"))]]))
    else:
        blocks.append(text_table(["Averaging", "P %", "R %", "F1 %"], _avg_rows(metrics)))
    neg = metrics.get("negative")
    for key, head in (("per_label", "Label"), ("official_per_type", "Relation type (official)"), ("per_type", "Relation type"),
                      ("ner_per_type", "Entity type"), ("re_strict_per_type", "Relation type (strict)")):
        if key in metrics and metrics[key]:
            rows = [[lab + (" (negative)" if lab == neg else ""), _pct(v["p"]), _pct(v["r"]), _pct(v["f1"]), v["support"], v["predicted"]]
                    for lab, v in metrics[key].items()]
            blocks.append(text_table([head, "P %", "R %", "F1 %", "Support", "Predicted"], rows))
    if "n" in metrics:
        blocks.append(f"Documents: {metrics['n']}")
    return "\n\n".join(blocks) + "\n"
