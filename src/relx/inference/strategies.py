"""Raw-text extraction, stage 2 (model): one strategy per model kind.

A strategy turns parsed texts into the Documents its model takes (:meth:`Strategy.inputs`) and the model's
predictions back into text-level entities and relations (:meth:`Strategy.merge`):

- ``pair`` (:class:`relx.models.base.ModelKind.PAIR`): every allowed ordered pair of distinct candidates of a
  sentence (only those with e1 first when the labels carry a direction and e1 came first in every training
  pair) whose types passed the training profile's (head type, tail type) pairs, as a two-entity Document;
  ``X(e2,e1)`` becomes a relation from e2 to e1;
- ``multi`` (``ALL_PAIRS``, e.g. kernel): one Document per sentence with all of its candidates; the model scores
  every ordered pair (relations whose type pair the profile never saw are dropped, as for pair classifiers);
- ``joint`` (``JOINT``): one Document per sentence; the model finds entities and relations itself.

A relation is kept when its label is not the negative class and its score is at least ``threshold``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from relx.data.schema import Document, Entity, Relation
from relx.inference.preprocess import Candidate, Parsed, allowed_type_pairs
from relx.models.base import ModelKind

Found = list[tuple[list[Entity], list[Relation]]]  # per text: entities, relations indexing them


class Strategy:
    """How one model kind sees raw text (module docstring)."""

    kind: ClassVar[str]
    needs_candidates: ClassVar[bool] = True

    def __init__(self, model: Any, threshold: float, candidates: str | None):
        self.labels, self.profile, self.threshold = model.labels, model.profile, threshold
        self.allowed = allowed_type_pairs(self.profile) if candidates in ("ner", "model") else None

    def keep(self, rel: Relation) -> bool:
        """A relation of a non-negative label scoring at least the threshold."""
        return rel.label != self.labels.negative and (rel.score is None or rel.score >= self.threshold)

    def inputs(self, parsed: list[Parsed]) -> tuple[list[Document], list[Any]]:
        """The model's input Documents and, for each, where its predictions go back to."""
        raise NotImplementedError

    def merge(self, parsed: list[Parsed], where: list[Any], preds: list[Document]) -> Found:
        """Text-level entities and relations from the model's predictions."""
        raise NotImplementedError

    @staticmethod
    def candidate_entities(p: Parsed) -> list[Entity]:
        return [Entity(c.start, c.end, c.label) for c in p.candidates]


class JointStrategy(Strategy):
    """One Document per sentence to the model, and with ``bridge`` one more per pair of neighbouring sentences (a
    window spanning their split, so an entity or relation cut by a wrong split is still seen); the predictions of
    all pieces of a text are shifted back and merged (:func:`relx.models.span_decode.merge_pieces`: each span once
    with its best score, non-overlapping unless the model allows overlapping entities)."""

    kind = "joint"
    needs_candidates = False
    bridge = False

    def __init__(self, model: Any, threshold: float, candidates: str | None):
        super().__init__(model, threshold, candidates)
        self.overlapping = bool(getattr(getattr(model, "config", None), "overlapping_entities", True))

    def inputs(self, parsed: list[Parsed]) -> tuple[list[Document], list[Any]]:
        where: list[tuple[int, int]] = []
        docs: list[Document] = []
        for t, p in enumerate(parsed):
            for k, (s, _) in enumerate(p.sentences):
                where.append((t, s))
                docs.append(p.sentence_docs[k])
            if self.bridge:
                for k in range(len(p.sentences) - 1):
                    s, e = p.sentences[k][0], p.sentences[k + 1][1]
                    d = p.doc
                    where.append((t, s))
                    docs.append(Document(f"{d.id}#b{k}", d.tokens[s:e], pos=d.pos[s:e], ner=d.ner[s:e], meta={"bridge": k}))
        return docs, where

    def merge(self, parsed: list[Parsed], where: list[Any], preds: list[Document]) -> Found:
        from relx.models.span_decode import merge_pieces

        pieces: list[list[tuple[int, Document]]] = [[] for _ in parsed]
        for (t, shift), pred in zip(where, preds):
            pieces[t].append((shift, pred))
        out: Found = []
        for ps in pieces:
            ents, _, rels = merge_pieces(ps, self.overlapping)
            out.append((ents, [r for r in rels if self.keep(r)]))
        return out


class AllPairsStrategy(Strategy):
    """One Document per sentence with all its candidates as entities; the model scores every ordered pair."""

    kind = "multi"

    def inputs(self, parsed: list[Parsed]) -> tuple[list[Document], list[Any]]:
        where: list[tuple[int, list[int]]] = []
        docs: list[Document] = []
        for t, p in enumerate(parsed):
            for k, (s, _) in enumerate(p.sentences):
                idx = [i for i, c in enumerate(p.candidates) if c.sentence == k]
                if len(idx) < 2:
                    continue
                sent = p.sentence_docs[k]
                ents = [Entity(p.candidates[i].start - s, p.candidates[i].end - s, p.candidates[i].label) for i in idx]
                where.append((t, idx))
                docs.append(Document(sent.id, sent.tokens, ents, pos=sent.pos, ner=sent.ner, heads=sent.heads, deprels=sent.deprels))
        return docs, where

    def merge(self, parsed: list[Parsed], where: list[Any], preds: list[Document]) -> Found:
        out: Found = [(self.candidate_entities(p), []) for p in parsed]
        for (t, idx), pred in zip(where, preds):
            for r in pred.relations:
                head, tail = idx[r.head], idx[r.tail]
                types = (out[t][0][head].label, out[t][0][tail].label)
                if self.keep(r) and (self.allowed is None or types in self.allowed):
                    out[t][1].append(Relation(head, tail, r.label, r.score))
        return out


class PairStrategy(Strategy):
    """Every allowed ordered candidate pair of a sentence as a two-entity Document, classified in one call."""

    kind = "pair"

    def inputs(self, parsed: list[Parsed]) -> tuple[list[Document], list[Any]]:
        directed = self.labels.directed
        e1_first = directed and bool((self.profile or {}).get("e1_first"))
        allowed = self.allowed
        jobs: list[tuple[int, int, int]] = []
        docs: list[Document] = []
        for t, p in enumerate(parsed):
            for i, a in enumerate(p.candidates):
                for j, b in enumerate(p.candidates):
                    if i == j or a.sentence != b.sentence or not (a.end <= b.start or b.end <= a.start) or (e1_first and b.start < a.start):
                        continue
                    if allowed is not None and (a.label, b.label) not in allowed and not (directed and (b.label, a.label) in allowed):
                        continue
                    jobs.append((t, i, j))
                    docs.append(self.pair_document(p, a, b, f"{p.doc.id}#{i}-{j}"))
        return docs, jobs

    def merge(self, parsed: list[Parsed], where: list[Any], preds: list[Document]) -> Found:
        out: Found = [(self.candidate_entities(p), []) for p in parsed]
        best: list[dict[tuple[int, int, str], Relation]] = [{} for _ in parsed]
        for (t, i, j), pred in zip(where, preds):
            for r in pred.relations:
                if not self.keep(r) or {r.head, r.tail} != {0, 1}:
                    continue
                head, tail = (i, j) if r.head == 0 else (j, i)
                key = (head, tail, r.label)
                old = best[t].get(key)
                if old is None or (r.score or 0.0) > (old.score or 0.0):
                    best[t][key] = Relation(head, tail, r.label, r.score)
        for t, rels in enumerate(best):
            out[t][1].extend(rels.values())
        return out

    @staticmethod
    def pair_document(p: Parsed, a: Candidate, b: Candidate, doc_id: str) -> Document:
        """The sentence of candidates ``a`` (e1) and ``b`` (e2) as a two-entity Document."""
        s = p.sentences[a.sentence][0]
        sent = p.sentence_docs[a.sentence]
        ents = [Entity(a.start - s, a.end - s, a.label), Entity(b.start - s, b.end - s, b.label)]
        return Document(doc_id, sent.tokens, ents, pos=sent.pos, ner=sent.ner, heads=sent.heads, deprels=sent.deprels)


STRATEGIES: dict[ModelKind, type[Strategy]] = {
    ModelKind.PAIR: PairStrategy,
    ModelKind.ALL_PAIRS: AllPairsStrategy,
    ModelKind.JOINT: JointStrategy,
}
