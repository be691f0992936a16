"""Gold token lists rendered as real-looking raw text, and joint scores by character offsets.

:func:`render_tokens` joins tokens the way text is written (no space before ``.`` ``,`` ``)`` or the clitics ``'s``
``n't``, none after ``(`` ``$`` or an opening quote; PTB escapes such as ``-LRB-`` and ``````/``''`` mapped back)
and returns each token's ``[char_start, char_end)``; :func:`render_documents` gives every gold Document its text
and character offsets (``meta["text"]``, entities' ``char_start`` / ``char_end``). :func:`score_char_offsets`
scores predicted entities and relations against gold by character offsets, with the joint scorer
(:func:`relx.evaluation.joint.score_joint`): NER strict (span + type), RE strict (both spans and types + label)
and RE boundaries (both spans + label), so any tokenization of the text can be scored; :func:`final_period_normalizer`
optionally neutralizes a corpus's inconsistent gluing of the sentence-final period to the last word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from relx.data.schema import Document, Entity

PTB = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}", "``": '"', "''": '"'}
CLOSE = {".", ",", ";", ":", "!", "?", ")", "]", "}", "-RRB-", "-RSB-", "-RCB-", "%", "...", "'", "''"}  # no space before
OPEN = {"(", "[", "{", "-LRB-", "-LSB-", "-LCB-", "$", "``", "#"}  # no space after
CLITICS = {"'s", "'re", "'ve", "'ll", "'d", "'m", "n't", "'t"}

__all__ = ["final_period_normalizer", "render_documents", "render_tokens", "score_char_offsets", "to_char_document"]
Normalizer = Callable[[str, int, int], tuple[int, int]]


def _joins_left(tok: str) -> bool:
    """The token attaches to the previous one (punctuation that closes, or a clitic)."""
    return tok in CLOSE or tok.lower() in CLITICS or (len(tok) > 1 and set(tok) <= set(".?!"))


def render_tokens(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Tokens -> (text, ``[(char_start, char_end)]`` per token); ``text[s:e]`` is the token as written.

    A plain ``"`` opens and closes in turn, two backquote tokens (`` ` ` ``) are one opening ``"`` and two
    quote tokens (``' '``) one closing ``"`` (the second of each renders empty), a comma between digit groups (``1 , 600``) joins both sides, ``--`` keeps its spaces."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    pos, glue, quote_open = 0, True, False  # glue: no space before the next token
    for i, tok in enumerate(tokens):
        prev, nxt = tokens[i - 1] if i else "", tokens[i + 1] if i + 1 < len(tokens) else ""
        out = PTB.get(tok, tok)
        if tok in ("`", "'") and tok in (prev, nxt):  # ` ` and ' ': one double quote (the second token empty)
            out = "" if prev == tok else '"'
        thousands = tok == "," and prev[-1:].isdigit() and len(nxt) == 3 and nxt.isdigit()
        opening = tok in OPEN or tok == "`" or (tok == '"' and not quote_open) or thousands
        closing = _joins_left(tok) or (tok == '"' and quote_open) or (tok == "`" and prev == "`")
        if tok == "'" and nxt == "'":  # an opening '' is not a thing: it closes
            closing = True
        if tok == '"':
            quote_open = not quote_open
        elif tok in ("``", "`"):
            quote_open = True
        elif tok in ("''", "'"):
            quote_open = False
        if parts and not glue and not closing:
            parts.append(" ")
            pos += 1
        offsets.append((pos, pos + len(out)))
        parts.append(out)
        pos += len(out)
        glue = opening
    return "".join(parts), offsets


def render_documents(docs: Iterable[Document]) -> list[Document]:
    """Copies of ``docs`` with ``meta["text"]`` (the rendered text), ``meta["token_offsets"]`` and every entity's
    ``char_start`` / ``char_end`` (the first token's start, the last token's end)."""
    out = []
    for doc in docs:
        text, offsets = render_tokens(doc.tokens)
        ents = [Entity(e.start, e.end, e.label, offsets[e.start][0], offsets[e.end - 1][1]) for e in doc.entities]
        meta = {**doc.meta, "text": text, "token_offsets": [list(o) for o in offsets]}
        out.append(Document(doc.id, list(doc.tokens), ents, list(doc.relations), meta=meta))
    return out


def to_char_document(doc: Document, normalize: Normalizer | None = None) -> Document:
    """``doc`` with each entity's token span replaced by its character span (for the joint scorer's set keys);
    every entity needs ``char_start`` / ``char_end``. ``normalize(text, start, end)`` (``text`` =
    ``meta["text"]``) may move each character span first (:func:`final_period_normalizer`)."""
    ents = []
    text = str(doc.meta.get("text", ""))
    for k, e in enumerate(doc.entities):
        if e.char_start is None or e.char_end is None:
            raise ValueError(f"document {doc.id!r}: entity {k} has no character offsets")
        start, end = normalize(text, e.char_start, e.char_end) if normalize else (e.char_start, e.char_end)
        ents.append(Entity(start, end, e.label, start, end))
    return Document(doc.id, list(doc.tokens), ents, list(doc.relations), meta=doc.meta)


def final_period_normalizer(is_abbreviation: Callable[[str], bool]) -> Normalizer:
    """A span normalizer for corpora that glue the sentence's final period to its last word in some records and
    not in others (CoNLL04: ``Texas.`` as one token in 28% of the sentences, ``Texas`` ``.`` in the rest; the
    rendered text is the same): a span that ends with the text's final ``.`` loses it, unless its last word is an
    abbreviation (``is_abbreviation("Tenn.")``: the period belongs to the word). Applied to gold and predictions
    alike, it scores the entity the same whichever way the record was tokenized."""

    def normalize(text: str, start: int, end: int) -> tuple[int, int]:
        if end - start > 1 and end == len(text.rstrip()) and text[end - 1] == ".":
            word = text[start:end].split()[-1]
            if not is_abbreviation(word):
                return start, end - 1
        return start, end

    return normalize


def score_char_offsets(
    gold: Iterable[Document], pred: Iterable[Document], symmetric: Iterable[str] = (), normalize: Normalizer | None = None
) -> dict[str, Any]:
    """Joint scores (``ner_*``, ``re_strict_*``, ``re_boundaries_*``) with entities keyed by character offsets
    (moved by ``normalize`` on both sides when given); gold and predicted Documents pair by id (each side may
    tokenize the text differently)."""
    from relx.evaluation.joint import score_joint

    return score_joint([to_char_document(d, normalize) for d in gold], [to_char_document(d, normalize) for d in pred], symmetric=symmetric)
