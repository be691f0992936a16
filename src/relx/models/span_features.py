"""Span-model features: sub-token ids, word ranges, gold entities and relations, and their padded batches
(the input side of :class:`relx.models.span.SpanJointModel`)."""

from __future__ import annotations

import torch

from relx.data.schema import Document
from relx.nn.sequence import pad_ids


class SpanFeatures:
    """Mixin: ``featurize`` / ``collate`` / ``feature_length`` of the span models (needs ``tokenizer``,
    ``config.max_length``, ``config.max_span_width``, ``entity_types``, ``relation_types``)."""

    def featurize(self, doc: Document, encoded: tuple[list[int], list[int | None]] | None = None) -> dict:
        """Sub-token ids, each word's sub-token range, gold entities (width <= epsilon) and relations; ``encoded``:
        the document's sub-token ids and word ids when a batched tokenizer call already made them."""
        if encoded is None:
            enc = self.tokenizer(list(doc.tokens), is_split_into_words=True, add_special_tokens=False)
            encoded = (enc["input_ids"], enc.word_ids())
        all_ids, all_words = encoded
        ids, words = all_ids[: self.config.max_length - 2], all_words[: self.config.max_length - 2]
        truncated = len(ids) < len(all_ids)
        n_words = words[-1] if truncated else len(doc.tokens)  # a cut word is dropped whole
        lo, hi = [0] * n_words, [0] * n_words  # sub-token range of each word (+1 for [CLS]); empty: no sub-tokens
        for pos, w in enumerate(words):
            if w is not None and w < n_words:
                lo[w] = lo[w] if hi[w] else pos + 1
                hi[w] = pos + 2
        type_id = {t: i for i, t in enumerate(self.entity_types)}
        rel_id = {t: i for i, t in enumerate(self.relation_types)}
        keep: dict[int, int] = {}  # original entity index -> kept index
        for k, e in enumerate(doc.entities):
            if e.end <= n_words and e.end - e.start <= self.config.max_span_width and e.label in type_id:
                keep[k] = len(keep)
        ents = [(doc.entities[k].start, doc.entities[k].end, type_id[doc.entities[k].label]) for k in keep]
        rels = [
            (keep[r.head], keep[r.tail], rel_id[r.label])
            for r in doc.relations
            if r.head in keep and r.tail in keep and r.head != r.tail and r.label in rel_id
        ]
        return {
            "input_ids": [self.tokenizer.cls_token_id, *ids, self.tokenizer.sep_token_id],
            "word_lo": lo,
            "word_hi": hi,
            "n_words": n_words,
            "entities": ents,
            "relations": rels,
            "skipped": (len(doc.entities) - len(ents), len(doc.relations) - len(rels)),
        }

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        w = max(max(f["n_words"] for f in feats), 1)
        ent = pad_ids([[e[0] for e in f["entities"]] for f in feats], 0)  # (B, E)
        ent_end = pad_ids([[e[1] for e in f["entities"]] for f in feats], 1)  # (B, E)
        rel = [f["relations"] for f in feats]
        return {
            "input_ids": pad_ids([f["input_ids"] for f in feats], self.tokenizer.pad_token_id or 0),  # (B, T)
            "attention_mask": pad_ids([[1] * len(f["input_ids"]) for f in feats], 0),  # (B, T)
            "word_lo": pad_ids([f["word_lo"] for f in feats], 0),  # (B, W) first sub-token of each word
            "word_hi": pad_ids([f["word_hi"] for f in feats], 0),  # (B, W) past its last sub-token
            "n_words": torch.tensor([f["n_words"] for f in feats]),  # (B,)
            "max_words": torch.tensor(w),
            "ent_bounds": torch.stack([ent, ent_end], dim=-1),  # (B, E, 2)
            "ent_type": pad_ids([[e[2] for e in f["entities"]] for f in feats], 0),  # (B, E)
            "ent_mask": pad_ids([[1] * len(f["entities"]) for f in feats], 0).bool(),  # (B, E)
            "rel_head": pad_ids([[r[0] for r in rs] for rs in rel], 0),  # (B, R)
            "rel_tail": pad_ids([[r[1] for r in rs] for rs in rel], 0),  # (B, R)
            "rel_type": pad_ids([[r[2] for r in rs] for rs in rel], 0),  # (B, R)
            "rel_mask": pad_ids([[1] * len(rs) for rs in rel], 0).bool(),  # (B, R)
        }

    def feature_length(self, feat: dict) -> int:
        return len(feat["input_ids"])
