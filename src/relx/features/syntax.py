"""Syntactic and lexical cue features as token strings (one whitespace-free string per cue).

:func:`syntax_features` gives, for a sentence-level Document (subject = entities[0], object =
entities[1]):

* always (lexical): mention order, token distance (bucketed), entity types, head words of both
  mentions, the word before/after the pair, first/last word between the mentions;
* with ``pos``: POS sequence between the mentions, POS of both entity heads;
* with ``ner``: NER tag of both entity heads;
* with ``heads``/``deprels`` (1-based heads, 0 = root): the shortest dependency path between the two
  entity heads as a string of arrows and relations (``↑nsubj↓dobj``: up from the subject head via
  ``nsubj``, then down to the object head via ``dobj``), the same path with its inner words, path
  length, the words on the path and the lowest common ancestor.

Documents without ``pos``/``heads`` get the lexical cues only; :class:`SyntaxFeatures` records a note
(and logs it once) saying how many documents lacked which annotation.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import scipy.sparse as sp

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.features.segments import between_span
from relx.features.tfidf import fit_vectorizer, transform_texts, vectorizer_from_json, vectorizer_to_json

log = logging.getLogger("relx.features")
UP, DOWN = "↑", "↓"
MAX_PATH = 12  # longer paths (or cycles in a malformed tree) are reported as "long"
MAX_POS_SEQ = 8


def _word(tok: str) -> str:
    return "_".join(tok.lower().split()) or "_"


def _bucket(n: int) -> str:
    for hi, name in ((0, "0"), (1, "1"), (2, "2"), (3, "3"), (4, "4"), (6, "5-6"), (9, "7-9"), (14, "10-14")):
        if n <= hi:
            return name
    return "15+"


def entity_head(doc: Document, i: int) -> int:
    """0-based index of the syntactic head of entities[i]: the span token whose head lies outside the
    span (the root counts as outside; the last such token wins). Without heads: the span's last token."""
    e = doc.entities[i]
    if doc.heads is None:
        return e.end - 1
    outside = [t for t in range(e.start, e.end) if not (e.start <= doc.heads[t] - 1 < e.end)]
    return outside[-1] if outside else e.end - 1


def _ancestors(doc: Document, t: int) -> list[int]:
    chain = [t]
    while doc.heads[chain[-1]] > 0 and len(chain) <= MAX_PATH + 1:  # type: ignore[index]
        chain.append(doc.heads[chain[-1]] - 1)  # type: ignore[index]
    return chain


def dependency_path(doc: Document, a: int, b: int) -> tuple[list[int], int] | None:
    """Shortest tree path from token ``a`` to token ``b``: ``(tokens a..lca..b, position of the lca)``.

    ``None`` without heads, when the tokens are in different trees, or when the path is longer
    than ``MAX_PATH`` edges.
    """
    if doc.heads is None:
        return None
    up_a, up_b = _ancestors(doc, a), _ancestors(doc, b)
    seen = {t: k for k, t in enumerate(up_a)}
    for k, t in enumerate(up_b):
        if t in seen:
            path = up_a[: seen[t] + 1] + up_b[:k][::-1]
            return (path, seen[t]) if len(path) - 1 <= MAX_PATH else None
    return None


def path_string(doc: Document, a: int | None = None, b: int | None = None, words: bool = False, sep: str = " ") -> str | None:
    """Dependency path between the entity heads (or tokens ``a``, ``b``) as arrows and relations.

    ``"↑nsubj ↓dobj"``; with ``words=True`` the words are interleaved: ``"gates ↑nsubj founded ↓dobj microsoft"``.
    ``None`` when there is no path (see :func:`dependency_path`) or no ``deprels``.
    """
    a = entity_head(doc, 0) if a is None else a
    b = entity_head(doc, 1) if b is None else b
    found = dependency_path(doc, a, b)
    if found is None or doc.deprels is None:
        return None
    path, top = found
    parts: list[str] = [_word(doc.tokens[path[0]])] if words else []
    for k in range(1, len(path)):
        child = path[k - 1] if k <= top else path[k]  # the edge's dependent carries the relation
        parts.append(f"{UP if k <= top else DOWN}{doc.deprels[child]}")
        if words:
            parts.append(_word(doc.tokens[path[k]]))
    return sep.join(parts)


def _lexical(doc: Document) -> list[str]:
    s, o = doc.entities[0], doc.entities[1]
    b0, b1 = between_span(doc)
    first, last = min(s.start, o.start), max(s.end, o.end)
    overlap = s.start < o.end and o.start < s.end
    feats = [
        f"order={'overlap' if overlap else ('s<o' if s.start < o.start else 'o<s')}",
        f"dist={_bucket(b1 - b0)}",
        f"s_type={s.label}",
        f"o_type={o.label}",
        f"types={s.label}|{o.label}",
        f"s_head={_word(doc.tokens[entity_head(doc, 0)])}",
        f"o_head={_word(doc.tokens[entity_head(doc, 1)])}",
        f"before={_word(doc.tokens[first - 1]) if first > 0 else '<s>'}",
        f"after={_word(doc.tokens[last]) if last < len(doc.tokens) else '</s>'}",
    ]
    if b1 > b0:
        feats += [f"b_first={_word(doc.tokens[b0])}", f"b_last={_word(doc.tokens[b1 - 1])}"]
    else:
        feats.append("b_none")
    return feats


def _pos_ner(doc: Document, hs: int, ho: int) -> list[str]:
    feats: list[str] = []
    if doc.pos is not None:
        b0, b1 = between_span(doc)
        seq = doc.pos[b0:b1]
        feats += [f"pos_between={'_'.join(seq) if len(seq) <= MAX_POS_SEQ else 'long'}", f"s_pos={doc.pos[hs]}", f"o_pos={doc.pos[ho]}"]
    if doc.ner is not None:
        feats += [f"s_ner={doc.ner[hs]}", f"o_ner={doc.ner[ho]}", f"ners={doc.ner[hs]}|{doc.ner[ho]}"]
    return feats


def _dependency(doc: Document, hs: int, ho: int) -> list[str]:
    found = dependency_path(doc, hs, ho)
    if found is None or doc.deprels is None:
        return ["path=none"]
    path, top = found
    inner = (path_string(doc, hs, ho, words=True, sep="/") or "").split("/")[1:-1]  # end words are in s_head/o_head
    feats = [
        f"path={path_string(doc, hs, ho, sep='')}",
        f"path_lex={'/'.join(inner)}",
        f"path_len={len(path) - 1}",
        f"lca={_word(doc.tokens[path[top]])}",
    ]
    feats += [f"path_word={_word(doc.tokens[t])}" for t in path[1:-1]]
    if doc.pos is not None:
        feats.append(f"lca_pos={doc.pos[path[top]]}")
    return feats


def syntax_features(doc: Document, syntax: bool = True) -> list[str]:
    """Cue strings for the (entities[0], entities[1]) pair; POS/NER/dependency cues only when present."""
    if len(doc.entities) < 2:
        raise RelxInputError(f"document {doc.id!r} needs two entities (subject, object); it has {len(doc.entities)}")
    feats = _lexical(doc)
    if syntax:
        hs, ho = entity_head(doc, 0), entity_head(doc, 1)
        feats += _pos_ner(doc, hs, ho)
        if doc.heads is not None:
            feats += _dependency(doc, hs, ho)
    return feats


def missing_annotations(docs: Sequence[Document]) -> dict[str, int]:
    """How many documents lack each of pos / ner / heads / deprels."""
    return {k: sum(getattr(d, k) is None for d in docs) for k in ("pos", "ner", "heads", "deprels")}


class SyntaxFeatures:
    """Binary, L2-normalised bag of :func:`syntax_features` cues; JSON persistence like SegmentTfidf."""

    def __init__(self, syntax: bool = True, min_df: int = 1):
        self.syntax, self.min_df = syntax, min_df
        self.vectorizer: Any = None
        self.notes: list[str] = []

    def _texts(self, docs: Sequence[Document]) -> list[str]:
        return [" ".join(syntax_features(d, self.syntax)) for d in docs]

    def fit(self, docs: Sequence[Document]) -> SyntaxFeatures:
        """Learn the cue vocabulary; note (and log) documents that lack POS / NER / dependency annotation."""
        missing = {k: n for k, n in missing_annotations(docs).items() if n}
        self.notes = []
        if self.syntax and missing:
            lacking = ", ".join(f"{k} on {n}/{len(docs)}" for k, n in missing.items())
            self.notes.append(
                f"syntax features: missing {lacking} documents; those use lexical cues only (annotate with `relx data annotate`)"
            )
            log.warning(self.notes[-1])
        self.vectorizer = fit_vectorizer(
            self._texts(docs), lowercase=False, binary=True, use_idf=False, norm="l2", ngram_range=(1, 1), min_df=self.min_df
        )
        return self

    def transform(self, docs: Sequence[Document]) -> sp.csr_matrix:
        """(n_docs, n_features) CSR float64."""
        return transform_texts(self.vectorizer, self._texts(docs))

    @property
    def n_features(self) -> int:
        return 0 if self.vectorizer is None else len(self.vectorizer.vocabulary_)

    def to_json(self) -> dict[str, Any]:
        return {"syntax": self.syntax, "min_df": self.min_df, "notes": self.notes, "vectorizer": vectorizer_to_json(self.vectorizer)}

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> SyntaxFeatures:
        obj = cls(syntax=state["syntax"], min_df=state["min_df"])
        obj.notes = list(state.get("notes", []))
        obj.vectorizer = vectorizer_from_json(state["vectorizer"])
        return obj
