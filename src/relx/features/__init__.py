"""Hand-built features for the classical models: text segments, per-segment TF-IDF, syntax tokens.

* :func:`segments` splits a sentence-level Document into (subject, between, object) text.
* :class:`SegmentTfidf` is one TF-IDF vectorizer per segment, saved as JSON (no pickle).
* :class:`SyntaxFeatures` turns POS / NER / dependency-path / lexical cues into a sparse block.
"""

from relx.features.segments import SEGMENTS, segments
from relx.features.syntax import SyntaxFeatures, dependency_path, entity_head, path_string, syntax_features
from relx.features.tfidf import SegmentTfidf, vectorizer_from_json, vectorizer_to_json

__all__ = [
    "SEGMENTS",
    "segments",
    "SegmentTfidf",
    "vectorizer_to_json",
    "vectorizer_from_json",
    "SyntaxFeatures",
    "syntax_features",
    "dependency_path",
    "entity_head",
    "path_string",
]
