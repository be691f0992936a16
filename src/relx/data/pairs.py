"""Joint data (entities + relations per sentence) -> TACRED-style pair classification data (``relx data pairs``).

Every sentence gives one Document per ORDERED pair (subject, object) of its distinct gold entities:
``entities = [subject, object]`` (types kept), ``relations = [Relation(0, 1, label)]`` when the joint
data has a relation from subject to object, else none and ``meta["negative"]`` (the negative class, as
the TACRED reader marks it). Id ``"{sentence id}:{h}-{t}"``; meta ``source_id``, ``head``, ``tail``
(entity indices in the source sentence). Token features (pos, ner, heads, deprels) are copied.

Policies (every case is counted in the PairSummary, nothing is dropped silently):

- an entity with the same span and type as an earlier one is that entity (relations on it move to it);
- a relation of a ``symmetric`` type (SpERT ``*_types.json``) labels both orders of its pair;
- a pair with several labels keeps the first (source order, symmetric mirrors last) as its label and
  the others in ``meta["other_labels"]``; a relation listed twice counts once;
- relations labelled ``negative`` are no relation; a relation from an entity to itself has no pair
  and is left out (counted).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from relx.data.schema import OPTIONAL_TOKEN_FIELDS, Document, Entity, Relation


@dataclass
class PairSummary:
    """Counts of one conversion (see the module docstring for the policies behind them)."""

    sentences: int = 0
    pairs: int = 0
    positives: int = 0
    negatives: int = 0
    multi_label_pairs: int = 0  # pairs with more than one label
    extra_labels: int = 0  # labels beyond the first, kept in meta["other_labels"]
    duplicate_relations: int = 0  # the same (subject, object, label) listed again
    duplicate_entities: int = 0  # an entity repeating an earlier one's span and type
    symmetric_reversed: int = 0  # labels added for the reversed order of a symmetric relation
    self_relations: int = 0  # relations from an entity to itself (left out)

    @property
    def negative_ratio(self) -> float | None:
        """negatives : positives as one number (None without positives)."""
        return self.negatives / self.positives if self.positives else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "negative_ratio": self.negative_ratio}

    def lines(self) -> list[str]:
        """Human-readable summary: the counts, then one line per policy that applied."""
        ratio = f"{self.negative_ratio:.2f}:1" if self.negative_ratio is not None else "n/a"
        out = [
            f"sentences {self.sentences:,}, pairs {self.pairs:,}, positives {self.positives:,}, negatives {self.negatives:,}, "
            f"negative ratio (negatives : positives) {ratio}"
        ]
        notes = (
            (
                self.multi_label_pairs,
                f"pairs with more than one label: {self.multi_label_pairs} (first kept as the label, "
                f"{self.extra_labels} more in meta other_labels)",
            ),
            (self.duplicate_relations, f"relations listed twice, counted once: {self.duplicate_relations}"),
            (self.duplicate_entities, f"entities repeating an earlier span and type, merged: {self.duplicate_entities}"),
            (self.symmetric_reversed, f"labels added for the reversed order of symmetric relations: {self.symmetric_reversed}"),
            (self.self_relations, f"relations from an entity to itself, left out: {self.self_relations}"),
        )
        return out + [text for count, text in notes if count]


def _pair_labels(
    doc: Document, canon: list[int], negative: str, symmetric: set[str], summary: PairSummary
) -> dict[tuple[int, int], list[str]]:
    """Ordered (head, tail) entity index -> labels in source order, symmetric mirrors appended."""
    labels: dict[tuple[int, int], list[str]] = {}
    mirrors = []
    for r in doc.relations:
        if r.label == negative:
            continue
        h, t = canon[r.head], canon[r.tail]
        if h == t:
            summary.self_relations += 1
            continue
        found = labels.setdefault((h, t), [])
        if r.label in found:
            summary.duplicate_relations += 1
            continue
        found.append(r.label)
        if r.label in symmetric:
            mirrors.append((t, h, r.label))
    for h, t, label in mirrors:
        found = labels.setdefault((h, t), [])
        if label not in found:
            found.append(label)
            summary.symmetric_reversed += 1
    return labels


def sentence_pairs(
    doc: Document, negative: str = "no_relation", symmetric: Iterable[str] = (), summary: PairSummary | None = None
) -> list[Document]:
    """The pair Documents of one sentence (see the module docstring); counts go to ``summary``."""
    summary = summary if summary is not None else PairSummary()
    symmetric = set(symmetric)
    first: dict[tuple[int, int, str], int] = {}
    canon = [first.setdefault((e.start, e.end, e.label), k) for k, e in enumerate(doc.entities)]
    keep = sorted(set(canon))
    summary.duplicate_entities += len(canon) - len(keep)
    labels = _pair_labels(doc, canon, negative, symmetric, summary)
    features = {name: getattr(doc, name) for name in OPTIONAL_TOKEN_FIELDS if getattr(doc, name) is not None}
    out = []
    for h in keep:
        for t in keep:
            if h == t:
                continue
            found = labels.get((h, t), [])
            meta: dict[str, Any] = {"source_id": doc.id, "head": h, "tail": t}
            if len(found) > 1:
                meta["other_labels"] = found[1:]
                summary.multi_label_pairs += 1
                summary.extra_labels += len(found) - 1
            if not found:
                meta["negative"] = negative
            ents = [Entity(e.start, e.end, e.label) for e in (doc.entities[h], doc.entities[t])]
            rels = [Relation(0, 1, found[0])] if found else []
            out.append(Document(f"{doc.id}:{h}-{t}", list(doc.tokens), ents, rels, meta=meta, **{k: list(v) for k, v in features.items()}))
            summary.positives += bool(found)
            summary.negatives += not found
    summary.sentences += 1
    summary.pairs += len(out)
    return out


def to_pairs(docs: Iterable[Document], negative: str = "no_relation", symmetric: Iterable[str] = ()) -> tuple[list[Document], PairSummary]:
    """All pair Documents of ``docs`` (sentence order, then subject, then object index) and the counts."""
    summary = PairSummary()
    symmetric = set(symmetric)
    out: list[Document] = []
    for doc in docs:
        out.extend(sentence_pairs(doc, negative, symmetric, summary))
    return out, summary


def from_pairs(sources: Iterable[Document], pair_preds: Iterable[Document], negative: str = "no_relation") -> list[Document]:
    """Put pair-classifier predictions back into their sentences: copies of ``sources`` whose relations are
    the non-negative predictions on their pair Documents (``meta`` ``source_id`` / ``head`` / ``tail`` as
    :func:`sentence_pairs` writes them; a directed label ``T(e2,e1)`` becomes T from tail to head).
    Several predictions for one (head, tail, type) keep the best score."""
    import copy

    from relx.data.labels import split_directed
    from relx.errors import RelxInputError

    out = {d.id: copy.copy(d) for d in sources}
    best: dict[str, dict[tuple[int, int, str], Relation]] = {k: {} for k in out}
    for p in pair_preds:
        src, h, t = p.meta.get("source_id"), p.meta.get("head"), p.meta.get("tail")
        if src not in out or not isinstance(h, int) or not isinstance(t, int):
            raise RelxInputError(f"pair document {p.id!r} does not name a source sentence (meta source_id / head / tail)")
        for r in p.relations:
            if r.label == negative:
                continue
            rtype, reverse = split_directed(r.label)
            forward = (r.head == 0) != bool(reverse)
            head, tail = (h, t) if forward else (t, h)
            key = (head, tail, rtype)
            old = best[src].get(key)
            if old is None or (r.score or 0.0) > (old.score or 0.0):
                best[src][key] = Relation(head, tail, rtype, r.score)
    for k, doc in out.items():
        doc.relations = list(best[k].values())
    return list(out.values())
