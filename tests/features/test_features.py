"""Feature extraction: segments, per-segment TF-IDF JSON round trip, syntax cues and dependency paths."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from relx.data.schema import Document, Entity
from relx.errors import RelxInputError
from relx.features import SegmentTfidf, SyntaxFeatures, dependency_path, entity_head, path_string, segments, syntax_features


def _doc(text: str, e1: tuple[int, int], e2: tuple[int, int], i: str = "x") -> Document:
    return Document(i, text.split(), [Entity(*e1, "PERSON"), Entity(*e2, "ORGANIZATION")])


def test_segments_subject_first():
    assert segments(_doc("Bill Gates founded Microsoft in 1975 .", (0, 2), (3, 4))) == ("bill gates", "founded", "microsoft")


def test_segments_object_before_subject():
    doc = _doc("Microsoft was founded by Bill Gates .", (4, 6), (0, 1))
    assert segments(doc) == ("bill gates", "was founded by", "microsoft")
    assert segments(doc, lowercase=False) == ("Bill Gates", "was founded by", "Microsoft")


def test_segments_adjacent_and_overlapping():
    assert segments(_doc("Acme Corp CEO John", (0, 2), (2, 3))) == ("acme corp", "", "ceo")
    assert segments(_doc("the New York Times building", (1, 4), (1, 3))) == ("new york times", "", "new york")
    assert segments(_doc("a b c d", (1, 3), (2, 4))) == ("b c", "", "c d")  # partial overlap


def test_segments_need_two_entities():
    with pytest.raises(RelxInputError, match="two entities"):
        segments(Document("1", ["a"], [Entity(0, 1)]))


def _corpus(pair_docs):
    extra = [_doc("Acme Corp CEO John", (0, 2), (2, 3), "a"), _doc("Paris is the capital of France", (0, 1), (5, 6), "b")]
    return pair_docs + extra


def test_tfidf_json_round_trip_identical(pair_docs):
    docs = _corpus(pair_docs)
    vec = SegmentTfidf(ngram_range=(1, 2), sublinear_tf=True).fit(docs[:4])
    state = json.loads(json.dumps(vec.to_json()))
    again = SegmentTfidf.from_json(state)
    a, b = vec.transform(docs), again.transform(docs)
    assert a.shape == b.shape == (len(docs), vec.n_features)
    assert a.dtype == b.dtype == np.float64
    assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices) and np.array_equal(a.data, b.data)
    assert again.feature_names() == vec.feature_names()
    assert "between:founded" in vec.feature_names() and "subject:bill gates" in vec.feature_names()
    assert json.loads(json.dumps(again.to_json())) == state


def test_tfidf_empty_segment_and_subset():
    docs = [_doc("Acme Corp CEO John", (0, 2), (2, 3)), _doc("John Acme", (0, 1), (1, 2))]  # nothing between
    vec = SegmentTfidf(segments=("subject", "between")).fit(docs)
    assert vec.vectorizers["between"] is None
    X = SegmentTfidf.from_json(json.loads(json.dumps(vec.to_json()))).transform(docs)
    assert X.shape == (2, vec.n_features) == (2, 4)
    with pytest.raises(RelxInputError, match="unknown segment"):
        SegmentTfidf(segments=("middle",))


def test_entity_heads_from_dependencies(pair_docs):
    assert [(entity_head(d, 0), entity_head(d, 1)) for d in pair_docs] == [(1, 3), (1, 5), (5, 0), (1, 6)]


def test_dependency_path_golden(pair_docs):
    assert [path_string(d) for d in pair_docs] == ["↑nsubj ↓dobj", "↑nsubj ↓prep ↓pobj", "↑pobj ↑agent ↓nsubjpass", "↑nsubj ↓prep ↓pobj"]
    assert path_string(pair_docs[2], words=True) == "gates ↑pobj by ↑agent founded ↓nsubjpass microsoft"
    assert dependency_path(pair_docs[1], 1, 5) == ([1, 2, 3, 5], 1)  # smith -> works (lca) -> at -> corp
    assert path_string(pair_docs[0], 1, 1) == ""  # same token: empty path


def test_syntax_features_golden(pair_docs):
    feats = syntax_features(pair_docs[2])
    for f in (
        "order=o<s",
        "dist=3",
        "types=PERSON|ORGANIZATION",
        "s_head=gates",
        "o_head=microsoft",
        "before=<s>",
        "after=.",
        "b_first=was",
        "b_last=by",
        "pos_between=VBD_VBN_IN",
        "s_ner=PERSON",
        "o_ner=ORGANIZATION",
        "path=↑pobj↑agent↓nsubjpass",
        "path_lex=↑pobj/by/↑agent/founded/↓nsubjpass",
        "path_len=3",
        "lca=founded",
        "path_word=by",
        "path_word=founded",
        "lca_pos=VBN",
    ):
        assert f in feats, f
    assert all(" " not in f for f in feats)


def test_syntax_features_without_annotation_are_lexical(pair_docs, caplog):
    bare = [dataclasses.replace(d, pos=None, ner=None, heads=None, deprels=None) for d in pair_docs]
    feats = syntax_features(bare[0])
    assert "s_head=gates" in feats and not any(f.startswith(("path", "pos_", "s_ner", "s_pos")) for f in feats)
    with caplog.at_level("WARNING", logger="relx.features"):
        sf = SyntaxFeatures().fit(bare)
    assert sf.notes and "missing pos on 4/4" in sf.notes[0] and sf.notes[0] in caplog.text
    assert sf.transform(bare).shape == (4, sf.n_features)


def test_syntax_vectorizer_json_round_trip(pair_docs):
    sf = SyntaxFeatures().fit(pair_docs[:3])
    again = SyntaxFeatures.from_json(json.loads(json.dumps(sf.to_json())))
    a, b = sf.transform(pair_docs), again.transform(pair_docs)
    assert (a != b).nnz == 0 and a.shape[1] == sf.n_features
    assert np.allclose(np.sqrt(a.multiply(a).sum(axis=1)), 1.0)  # binary cues, L2-normalised rows
