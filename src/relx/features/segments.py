"""Split a sentence-level Document into subject, between and object text."""

from __future__ import annotations

from relx.data.schema import Document
from relx.errors import RelxInputError

SEGMENTS: tuple[str, ...] = ("subject", "between", "object")


def _span(doc: Document, i: int) -> tuple[int, int]:
    if len(doc.entities) <= i:
        raise RelxInputError(f"document {doc.id!r} needs two entities (subject, object); it has {len(doc.entities)}")
    e = doc.entities[i]
    return e.start, e.end


def between_span(doc: Document) -> tuple[int, int]:
    """Token range strictly between the two entity spans (in text order); empty when they touch or overlap."""
    (s0, s1), (o0, o1) = _span(doc, 0), _span(doc, 1)
    if s0 < o1 and o0 < s1:  # overlapping spans: nothing lies between them
        return 0, 0
    lo, hi = (s1, o0) if s1 <= o0 else (o1, s0)
    return lo, max(lo, hi)


def segments(doc: Document, lowercase: bool = True) -> tuple[str, str, str]:
    """``(subject_text, between_text, object_text)`` of entities[0] and entities[1].

    Tokens are joined by single spaces (lowercased by default). ``between`` holds the tokens between
    the two mentions whichever comes first in the sentence (object before subject included), and is
    empty when the mentions are adjacent or overlap.
    """
    (s0, s1), (o0, o1) = _span(doc, 0), _span(doc, 1)
    b0, b1 = between_span(doc)
    parts = (doc.tokens[s0:s1], doc.tokens[b0:b1], doc.tokens[o0:o1])
    texts = tuple(" ".join(p) for p in parts)
    return tuple(t.lower() for t in texts) if lowercase else texts  # type: ignore[return-value]
