"""Entity-marker insertion and truncation that keeps both entities inside the window."""

from __future__ import annotations

from dataclasses import dataclass

from relx.data.schema import Document

STYLES = ("plain", "typed", "punct", "typed_punct", "none")  # none: no markers; the entity start tokens are read


def type_token(side: str, etype: str, closing: bool) -> str:
    """Typed marker token, e.g. '[S:PERSON]' / '[/O:LOCATION]'."""
    return f"[{'/' if closing else ''}{side}:{etype}]"


def marker_words(style: str, side: str, etype: str) -> tuple[list[str], list[str]]:
    """(opening words, closing words) for subject ('S') or object ('O'); the first opening word is the anchor."""
    if style == "none":
        return [], []
    if style == "plain":
        tag = "E1" if side == "S" else "E2"
        return [f"[{tag}]"], [f"[/{tag}]"]
    if style == "typed":
        return [type_token(side, etype, False)], [type_token(side, etype, True)]
    sym, inner = ("@", "*") if side == "S" else ("#", "^")
    if style == "punct":
        return [sym], [sym]
    if style == "typed_punct":
        type_words = etype.lower().replace("_", " ").replace(":", " ").split() or ["entity"]
        return [sym, inner, *type_words, inner], [sym]
    raise ValueError(f"unknown marker style {style!r} (choose from {', '.join(STYLES)})")


@dataclass
class MarkedWords:
    """Words with markers inserted; indexes of the anchor markers (style ``none``: of the entities' first
    words) and entity word ranges (exclusive)."""

    words: list[str]
    anchors: tuple[int, int]
    spans: tuple[tuple[int, int], tuple[int, int]]


def insert_markers(doc: Document, style: str, types: tuple[str, str]) -> MarkedWords:
    """Insert subject (entities[0]) and object (entities[1]) markers into the token list."""
    subj, obj = doc.entities[0], doc.entities[1]
    events = []  # (position, order key, side, is_start)
    for side, ent in (("S", subj), ("O", obj)):
        events.append((ent.start, 1, -ent.end, side, True))
        events.append((ent.end, 0, -ent.start, side, False))
    events.sort()
    words: list[str] = []
    anchors: dict[str, int] = {}
    span_start: dict[str, int] = {}
    spans: dict[str, tuple[int, int]] = {}
    ev = 0
    for pos in range(len(doc.tokens) + 1):
        while ev < len(events) and events[ev][0] == pos:
            _, _, _, side, is_start = events[ev]
            opening, closing = marker_words(style, side, types[0] if side == "S" else types[1])
            if is_start:
                anchors[side] = len(words)
            else:
                spans[side] = (span_start[side], len(words))
            words.extend(opening if is_start else closing)
            if is_start:
                span_start[side] = len(words)
            ev += 1
        if pos < len(doc.tokens):
            words.append(doc.tokens[pos])
    return MarkedWords(words, (anchors["S"], anchors["O"]), (spans["S"], spans["O"]))


def keep_window(n: int, must_keep: list[int], budget: int) -> list[int]:
    """Indices (sorted) of at most ``budget`` positions: ``must_keep`` first, then those nearest to them.

    Used to truncate a subword sequence so that every marker stays inside the window while the
    context nearest to the entities is kept.
    """
    if n <= budget:
        return list(range(n))
    anchors = sorted(set(must_keep))
    dist = [0] * n
    j = 0
    for i in range(n):
        while j + 1 < len(anchors) and abs(anchors[j + 1] - i) <= abs(anchors[j] - i):
            j += 1
        dist[i] = abs(anchors[j] - i) if anchors else i
    chosen = sorted(range(n), key=lambda i: (dist[i], i))[:budget]
    return sorted(chosen)
