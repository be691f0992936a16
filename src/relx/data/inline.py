"""Sentences with inline entity tags: ``<e1>Bill Gates</e1> founded <e2>Microsoft</e2>.``

``parse_marked`` turns such a sentence into tokens and the two tagged entities. The text between
tags is tokenized segment by segment, so a tag boundary is always a token boundary. With
``tokenize=True`` the segments go through spaCy's rule-based English tokenizer (``spacy.blank("en")``,
the same rules as ``en_core_web_sm``); with ``tokenize=False`` they are split on whitespace (KBP37).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from relx.data.schema import Entity
from relx.errors import RelxInputError

ENTITY_LABEL = "ENTITY"
TAGS = ("e1", "e2")
_TAG = re.compile(r"<\s*(/?)\s*(e[12])\s*>", re.IGNORECASE)


@lru_cache(maxsize=1)
def _spacy_tokenizer() -> Any:
    """spaCy's rule tokenizer for English, loaded once (no model weights needed)."""
    import spacy

    return spacy.blank("en").tokenizer


def spacy_tokenize(text: str) -> list[str]:
    """Tokenize ``text`` with spaCy's English rules, dropping whitespace tokens."""
    if not text.strip():
        return []
    return [t.text for t in _spacy_tokenizer()(text) if not t.is_space]


def has_tag(text: str) -> bool:
    """True when ``text`` holds something ``parse_marked`` takes for a tag (``<e1>``, ``</E2>``, ``< e1 >``)."""
    return _TAG.search(text) is not None


def whitespace_tokenize(text: str) -> list[str]:
    return text.split()


def _find_tags(text: str) -> dict[str, tuple[int, int, int, int]]:
    """Map 'e1'/'e2' -> (open_start, open_end, close_start, close_end) character offsets."""
    seen: dict[tuple[str, str], list[re.Match[str]]] = {}
    for m in _TAG.finditer(text):
        seen.setdefault((m.group(2).lower(), m.group(1)), []).append(m)
    spans: dict[str, tuple[int, int, int, int]] = {}
    for name in TAGS:
        opens, closes = seen.get((name, ""), []), seen.get((name, "/"), [])
        for tag, found in ((f"<{name}>", opens), (f"</{name}>", closes)):
            if not found:
                raise RelxInputError(f"missing tag {tag} in sentence {_preview(text)}")
            if len(found) > 1:
                raise RelxInputError(f"tag {tag} appears {len(found)} times in sentence {_preview(text)}")
        o, c = opens[0], closes[0]
        if c.start() < o.end():
            raise RelxInputError(f"</{name}> comes before <{name}> in sentence {_preview(text)}")
        if not text[o.end() : c.start()].strip():
            raise RelxInputError(f"entity {name} is empty in sentence {_preview(text)}")
        spans[name] = (o.start(), o.end(), c.start(), c.end())
    a, b = sorted(spans.values())
    if b[0] < a[3]:
        raise RelxInputError(f"entity tags <e1> and <e2> are nested or overlap in sentence {_preview(text)}")
    return spans


def _preview(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def parse_marked(text: str, tokenize: bool = True) -> tuple[list[str], list[Entity]]:
    """Parse a sentence with ``<e1>..</e1>`` and ``<e2>..</e2>`` tags.

    Returns ``(tokens, [e1, e2])`` with token offsets (end exclusive) and label "ENTITY".
    ``tokenize=False`` treats the text as already whitespace-tokenized (tags may be separate
    tokens or glued to words, e.g. ``<e1>Thom``). Raises RelxInputError (without a file location)
    for missing, duplicated, crossed, nested or empty tags.
    """
    if not isinstance(text, str):
        raise RelxInputError(f"expected a sentence string, got {type(text).__name__}")
    split: Callable[[str], list[str]] = spacy_tokenize if tokenize else whitespace_tokenize
    spans = _find_tags(text)
    cuts = sorted(
        (pos, name, kind) for name, (os_, oe, cs, ce) in spans.items() for pos, kind in (((os_, oe), "open"), ((cs, ce), "close"))
    )
    tokens: list[str] = []
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    cursor = 0
    for (begin, end), name, kind in cuts:
        tokens.extend(split(text[cursor:begin]))
        (starts if kind == "open" else ends)[name] = len(tokens)
        cursor = end
    tokens.extend(split(text[cursor:]))
    for name in TAGS:
        if ends[name] <= starts[name]:  # e.g. only punctuation that the tokenizer dropped
            raise RelxInputError(f"entity {name} has no tokens in sentence {_preview(text)}")
    entities = [Entity(starts[name], ends[name], ENTITY_LABEL) for name in TAGS]
    return tokens, entities


def render_marked(tokens: list[str], entities: list[Entity], spaced: bool = False) -> str:
    """Inverse of parse_marked: tokens joined by spaces with tags around entities 0 (e1) and 1 (e2).

    ``spaced=True`` writes the tags as separate tokens (KBP37 style: ``<e1> Thom Yorke </e1>``).
    """
    if len(entities) != 2:
        raise RelxInputError(f"inline tags need exactly 2 entities, got {len(entities)}")
    e1, e2 = entities
    if not (e1.end <= e2.start or e2.end <= e1.start):
        raise RelxInputError("inline tags cannot express overlapping entities")
    sep = " " if spaced else ""
    before = {e1.start: "<e1>" + sep, e2.start: "<e2>" + sep}
    after = {e1.end - 1: sep + "</e1>", e2.end - 1: sep + "</e2>"}
    return " ".join(before.get(i, "") + tok + after.get(i, "") for i, tok in enumerate(tokens))
