"""Token-sequence helpers shared by the word-level models: position features, tag channels, masks, padding."""

from __future__ import annotations

import torch

from relx.data.schema import Document

NONE = "<none>"  # tag of a token whose document has no POS / NER annotation
CHANNELS = ("pos", "ner", "type")


def relative_positions(n: int, start: int, end: int, max_position: int) -> list[int]:
    """Signed distance of each of n tokens to the span [start, end): 0 inside, clipped to +-max_position."""
    out = []
    for i in range(n):
        d = i - start if i < start else (i - (end - 1) if i >= end else 0)
        out.append(max(-max_position, min(max_position, d)))
    return out


def channel_tags(doc: Document, name: str) -> list[str]:
    """One tag per token for channel ``pos`` / ``ner`` (NONE when missing or misaligned) or ``type``."""
    if name == "type":
        return type_channel(doc)
    tags = doc.pos if name == "pos" else doc.ner
    return tags if tags and len(tags) == len(doc.tokens) else [NONE] * len(doc.tokens)


def has_channel(doc: Document, name: str) -> bool:
    """Whether ``doc`` carries real tags for channel ``name`` (``type`` is always derivable)."""
    tags = {"pos": doc.pos, "ner": doc.ner}.get(name, doc.tokens)
    return bool(tags) and len(tags) == len(doc.tokens)


def type_channel(doc: Document) -> list[str]:
    """SUBJ-<type> / OBJ-<type> inside the subject / object span (subject wins on overlap), O elsewhere."""
    out = ["O"] * len(doc.tokens)
    if len(doc.entities) < 2:
        return out
    subj, obj = doc.entities[0], doc.entities[1]
    for i in range(obj.start, obj.end):
        out[i] = f"OBJ-{obj.label}"
    for i in range(subj.start, subj.end):
        out[i] = f"SUBJ-{subj.label}"
    return out


def pad_ids(seqs: list[list[int]], value: int = 0) -> torch.Tensor:
    """Right-pad integer sequences: list of B lists -> (B, T) long tensor."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)  # (B,)
    width = int(lengths.max()) if len(seqs) else 0
    out = torch.full((len(seqs), width), value, dtype=torch.long)
    out[length_mask(lengths, width)] = torch.tensor([x for s in seqs for x in s], dtype=torch.long)  # one flat copy
    return out


def length_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """lengths (B,) -> (B, T) bool mask, True on real tokens."""
    return torch.arange(width, device=lengths.device)[None] < lengths[:, None]


def span_mask(starts: torch.Tensor, ends: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """starts, ends (B,) exclusive ends, mask (B, T) -> (B, T) True inside [start, end) on real tokens."""
    t = torch.arange(mask.shape[1], device=mask.device)[None]  # (1, T)
    return (t >= starts[:, None]) & (t < ends[:, None]) & mask


def masked_max(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Max over positions where mask is True: h (B, T, D), mask (B, T) -> (B, D); zeros for an empty mask."""
    filled = h.masked_fill(~mask.unsqueeze(-1), torch.finfo(h.dtype).min)  # (B, T, D)
    return torch.where(mask.any(1, keepdim=True), filled.max(1).values, torch.zeros_like(h[:, 0]))


def masked_mean(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over positions where mask is True: h (B, T, D), mask (B, T) -> (B, D); zeros for an empty mask."""
    m = mask.unsqueeze(-1).to(h.dtype)  # (B, T, 1)
    return (h * m).sum(1) / m.sum(1).clamp(min=1.0)


def word_dropout(words: torch.Tensor, p: float, training: bool, unk: int = 1) -> torch.Tensor:
    """Replace non-padding word ids (B, T) by ``unk`` with probability ``p`` while training."""
    if not training or p <= 0:
        return words
    drop = (torch.rand_like(words, dtype=torch.float) < p) & (words > 0)
    return words.masked_fill(drop, unk)
