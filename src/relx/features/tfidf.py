"""Per-segment TF-IDF: one scikit-learn ``TfidfVectorizer`` per (subject, between, object) text.

Usage (also by other feature models)::

    vec = SegmentTfidf(ngram_range=(1, 2), min_df=1).fit(train_docs)
    X = vec.transform(docs)                      # scipy.sparse CSR, (n_docs, vec.n_features)
    state = vec.to_json()                        # plain JSON: settings, vocabularies, idf vectors
    same = SegmentTfidf.from_json(state)         # same.transform(docs) == X exactly

Columns are the segments' blocks side by side, in ``segments`` order. Nothing is pickled: a restored
vectorizer gets its vocabulary and idf vector back, which is all ``transform`` needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.features.segments import SEGMENTS, segments

TOKEN_PATTERN = r"(?u)\S+"  # texts are pre-tokenized and space-joined: every token is a term
_PARAMS = (
    "ngram_range",
    "min_df",
    "max_df",
    "max_features",
    "sublinear_tf",
    "binary",
    "use_idf",
    "smooth_idf",
    "norm",
    "lowercase",
    "token_pattern",
)


def vectorizer_to_json(vec: TfidfVectorizer | None) -> dict[str, Any] | None:
    """Settings, vocabulary and idf of a fitted vectorizer as plain JSON (``None`` stays ``None``)."""
    if vec is None:
        return None
    params = {k: getattr(vec, k) for k in _PARAMS}
    params["ngram_range"] = list(params["ngram_range"])
    return {
        "params": params,
        "vocabulary": {str(t): int(i) for t, i in vec.vocabulary_.items()},
        "idf": [float(x) for x in vec.idf_] if vec.use_idf else None,  # float -> JSON -> float is exact
    }


def vectorizer_from_json(state: dict[str, Any] | None) -> TfidfVectorizer | None:
    """Inverse of :func:`vectorizer_to_json`: a vectorizer whose ``transform`` matches the original."""
    if state is None:
        return None
    params = dict(state["params"])
    params["ngram_range"] = tuple(params["ngram_range"])
    vec = TfidfVectorizer(vocabulary=dict(state["vocabulary"]), dtype=np.float64, **params)
    vec.fit([""])  # public API: with a fixed vocabulary, fit only sets vocabulary_ (and a placeholder idf)
    if state.get("idf") is not None:
        vec.idf_ = np.asarray(state["idf"], dtype=np.float64)
    return vec


def fit_vectorizer(texts: Sequence[str], **params: Any) -> TfidfVectorizer | None:
    """Fit a TfidfVectorizer; ``None`` when the texts yield no term (e.g. every between-text empty)."""
    vec = TfidfVectorizer(token_pattern=params.pop("token_pattern", TOKEN_PATTERN), dtype=np.float64, **params)
    try:
        vec.fit(texts)
    except ValueError as exc:  # empty vocabulary, or min_df/max_df prune every term
        if "vocabulary" in str(exc) or "no terms remain" in str(exc):
            return None
        raise
    return vec


def transform_texts(vec: TfidfVectorizer | None, texts: Sequence[str]) -> sp.csr_matrix:
    """``vec.transform(texts)`` as CSR; an empty (n, 0) block for a ``None`` vectorizer."""
    if vec is None:
        return sp.csr_matrix((len(texts), 0), dtype=np.float64)
    return sp.csr_matrix(vec.transform(texts))


class SegmentTfidf:
    """One word n-gram TF-IDF vectorizer per segment; see the module docstring."""

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 2),
        min_df: int | float = 1,
        max_df: int | float = 1.0,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        segments: Sequence[str] = SEGMENTS,
    ):
        unknown = [s for s in segments if s not in SEGMENTS]
        if unknown or not segments:
            raise RelxInputError(f"unknown segment(s) {unknown} (choose from {', '.join(SEGMENTS)})")
        self.segments = tuple(segments)
        self.params: dict[str, Any] = {
            "ngram_range": tuple(ngram_range),
            "min_df": min_df,
            "max_df": max_df,
            "max_features": max_features,
            "sublinear_tf": sublinear_tf,
        }
        self.vectorizers: dict[str, TfidfVectorizer | None] = {}

    def _texts(self, docs: Sequence[Document]) -> dict[str, list[str]]:
        parts = [segments(d) for d in docs]
        return {name: [p[SEGMENTS.index(name)] for p in parts] for name in self.segments}

    def fit(self, docs: Sequence[Document]) -> SegmentTfidf:
        """Learn vocabularies and idf per segment from ``docs``."""
        texts = self._texts(docs)
        self.vectorizers = {name: fit_vectorizer(texts[name], **self.params) for name in self.segments}
        return self

    def transform(self, docs: Sequence[Document]) -> sp.csr_matrix:
        """TF-IDF rows, (n_docs, n_features) CSR float64, segment blocks side by side."""
        if not self.vectorizers:
            raise RelxInputError("SegmentTfidf is not fitted (call fit first)")
        texts = self._texts(docs)
        return sp.hstack([transform_texts(self.vectorizers[n], texts[n]) for n in self.segments], format="csr")

    def fit_transform(self, docs: Sequence[Document]) -> sp.csr_matrix:
        return self.fit(docs).transform(docs)

    @property
    def n_features(self) -> int:
        return sum(len(v.vocabulary_) for v in self.vectorizers.values() if v is not None)

    def feature_names(self) -> list[str]:
        """Column names ``segment:term`` in column order."""
        out: list[str] = []
        for name in self.segments:
            vec = self.vectorizers.get(name)
            if vec is not None:
                out.extend(f"{name}:{t}" for t in vec.get_feature_names_out())
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON state: settings plus each segment's vocabulary and idf."""
        params = {**self.params, "ngram_range": list(self.params["ngram_range"])}
        return {
            "segments": list(self.segments),
            "params": params,
            "vectorizers": {n: vectorizer_to_json(self.vectorizers.get(n)) for n in self.segments},
        }

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> SegmentTfidf:
        """Rebuild from :meth:`to_json` output; ``transform`` gives identical matrices."""
        obj = cls(segments=state["segments"], **{**state["params"], "ngram_range": tuple(state["params"]["ngram_range"])})
        obj.vectorizers = {n: vectorizer_from_json(state["vectorizers"].get(n)) for n in obj.segments}
        return obj
