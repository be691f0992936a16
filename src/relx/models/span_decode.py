"""Decoding of the span models' outputs, and windows over inputs that are too long for the encoder.

- :func:`non_overlapping`: greedy non-overlapping spans, the higher score first (the span decoders' usual rule:
  ``Microsoft`` and ``Microsoft.``, or ``ITAR-`` and ``ITAR-TASS``, cannot both be entities);
- :func:`decode_spans`: the span model's inference tensors -> :class:`relx.models.base.Decoded` (entities sorted by
  position with ``meta["entity_scores"]``, relations between them; a relation whose argument was dropped goes too);
- :func:`merge_pieces`: entity and relation predictions of overlapping pieces of one text (windows of one long
  sentence, or sentences and the windows spanning their splits) merged into one set, each span once with its best
  score, overlapping spans decoded as above unless allowed;
- :func:`word_windows` / :func:`windowed_predict`: a sentence over the encoder's ``max_length`` word pieces is
  predicted as overlapping windows of words and merged, instead of being cut.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from relx.data.schema import Document, Entity, Relation
from relx.models.base import Decoded

Span = tuple[int, int]


def non_overlapping(spans: Sequence[Span], scores: Sequence[float]) -> list[int]:
    """Indexes of the spans kept by greedy decoding: the best score first, then every span that overlaps no kept
    one (ties: the earlier, then the shorter span); returned in input order."""
    order = sorted(range(len(spans)), key=lambda i: (-scores[i], spans[i][0], spans[i][1] - spans[i][0]))
    kept: list[int] = []
    for i in order:
        s, e = spans[i]
        if all(e <= spans[j][0] or spans[j][1] <= s for j in kept):
            kept.append(i)
    return sorted(kept)


def decode_spans(x: dict[str, list], entity_types: list[str], relation_types: list[str], overlapping: bool) -> list[Decoded]:
    """Per batch row: the predicted entities (sorted by position), their scores and the relations between them.

    ``x`` holds the inference outputs as lists: ``ent_ok``, ``ent_bounds``, ``ent_type``, ``ent_score`` (per
    entity slot), ``head`` / ``tail`` (entity slots of each pair), ``rel_prob`` / ``rel_on`` (per pair and type).
    ``overlapping`` False keeps non-overlapping entities only (:func:`non_overlapping`)."""
    preds = []
    for i in range(len(x["ent_ok"])):
        bounds, scores_i = x["ent_bounds"][i], x["ent_score"][i]
        kept = [j for j, ok in enumerate(x["ent_ok"][i]) if ok]
        if not overlapping:
            kept = [kept[k] for k in non_overlapping([tuple(bounds[j]) for j in kept], [scores_i[j] for j in kept])]
        order = sorted(kept, key=lambda j: (bounds[j][0], bounds[j][1]))
        new = {j: n for n, j in enumerate(order)}
        ents = [Entity(bounds[j][0], bounds[j][1], entity_types[x["ent_type"][i][j]]) for j in order]
        rels = [
            Relation(new[h], new[t], relation_types[r], x["rel_prob"][i][p][r])
            for p, (h, t) in enumerate(zip(x["head"][i], x["tail"][i]))
            for r, on in enumerate(x["rel_on"][i][p])
            if on and h in new and t in new
        ]
        preds.append(Decoded(rels, ents, {"entity_scores": [scores_i[j] for j in order]}))
    return preds


def merge_pieces(pieces: Sequence[tuple[int, Document]], overlapping: bool = True) -> tuple[list[Entity], list[float], list[Relation]]:
    """Entities (sorted), their scores and relations of one text from predictions on pieces of it.

    ``pieces``: (token shift of the piece in the text, its predicted Document; ``meta["entity_scores"]`` when the
    model gives them, else 1.0). A span found in several pieces is kept once with its best score and that
    piece's type; ``overlapping`` False then keeps non-overlapping spans only. A relation is kept once per
    (head, tail, label) with its best score, when both arguments are kept."""
    best: dict[Span, tuple[float, str]] = {}
    for shift, doc in pieces:
        scores = doc.meta.get("entity_scores") or [1.0] * len(doc.entities)
        for e, s in zip(doc.entities, scores):
            key = (e.start + shift, e.end + shift)
            if key not in best or s > best[key][0]:
                best[key] = (float(s), e.label)
    keys = list(best)
    if not overlapping:
        keys = [keys[k] for k in non_overlapping(keys, [best[k][0] for k in keys])]
    keys.sort()
    index = {k: n for n, k in enumerate(keys)}
    rels: dict[tuple[int, int, str], Relation] = {}
    for shift, doc in pieces:
        for r in doc.relations:
            h, t = doc.entities[r.head], doc.entities[r.tail]
            hk, tk = (h.start + shift, h.end + shift), (t.start + shift, t.end + shift)
            if hk in index and tk in index:
                key = (index[hk], index[tk], r.label)
                if key not in rels or (r.score or 0.0) > (rels[key].score or 0.0):
                    rels[key] = Relation(*key, r.score)
    ents = [Entity(s, e, best[(s, e)][1]) for s, e in keys]
    return ents, [best[k][0] for k in keys], sorted(rels.values(), key=lambda r: (r.head, r.tail, r.label))


def word_windows(pieces: Sequence[int], budget: int) -> list[tuple[int, int]]:
    """Overlapping windows [start, end) of words whose word-piece counts ``pieces`` sum to at most ``budget``
    (a longer single word is a window alone); each next window starts halfway (in pieces) into the previous
    one, so every word but those of the first and last half-window is seen away from a window edge."""
    n, out, start = len(pieces), [], 0
    while start < n:
        end, used = start, 0
        while end < n and (used + pieces[end] <= budget or end == start):
            used += pieces[end]
            end += 1
        out.append((start, end))
        if end >= n:
            break
        nxt, half = start, 0
        while nxt < end - 1 and half + pieces[nxt] <= used // 2:
            half += pieces[nxt]
            nxt += 1
        start = max(nxt, start + 1)
    return out


def windowed_predict(
    model: Any, docs: list[Document], predict: Callable[[list[Document], list[dict]], list[Document]], overlapping: bool
) -> list[Document]:
    """``predict(docs, feats)`` for documents that fit the encoder (``model.config.max_length`` word pieces with [CLS]
    and [SEP], counted with one batched call of ``model.tokenizer``, whose encodings are also their features); a
    longer one goes as windows of words (:func:`word_windows`) whose predictions are merged (:func:`merge_pieces`),
    so no word is cut off."""
    budget = model.config.max_length - 2
    if not docs:
        return []
    enc = model.tokenizer([list(d.tokens) for d in docs], is_split_into_words=True, add_special_tokens=False)
    jobs: list[tuple[int, int]] = []  # (document, shift) of every model input
    inputs: list[Document] = []
    feats: list[dict] = []
    for i, doc in enumerate(docs):
        ids = enc.word_ids(i)
        if len(ids) <= budget:
            jobs.append((i, -1))
            inputs.append(doc)
            feats.append(model.featurize(doc, (enc["input_ids"][i], ids)))
            continue
        pieces = [0] * len(doc.tokens)
        for w in ids:
            if w is not None:
                pieces[w] += 1
        for s, e in word_windows(pieces, budget):
            jobs.append((i, s))
            inputs.append(Document(f"{doc.id}#w{s}", list(doc.tokens[s:e])))
            feats.append(model.featurize(inputs[-1]))
    preds = predict(inputs, feats)
    out: list[Document | None] = [None] * len(docs)
    windows: dict[int, list[tuple[int, Document]]] = {}
    for (i, shift), pred in zip(jobs, preds):
        if shift < 0:
            out[i] = pred
        else:
            windows.setdefault(i, []).append((shift, pred))
    for i, pieces_i in windows.items():
        ents, scores, rels = merge_pieces(pieces_i, overlapping)
        new = copy.copy(docs[i])
        new.entities, new.relations, new.meta = ents, rels, {**docs[i].meta, "entity_scores": scores, "windows": len(pieces_i)}
        out[i] = new
    return [d for d in out if d is not None]
