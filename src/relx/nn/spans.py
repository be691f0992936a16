"""Span layers for joint entity + relation extraction, all batched tensor operations.

Word pooling from sub-tokens, span enumeration up to a width, span max-pooling, context pooling
between two spans, entity distance, random negative sampling, and the gated fusion of Eq. 5 in
the two-phase paper (``two-phase-span-joint-extraction.txt``). Nothing here loops over sentences.
"""

from __future__ import annotations

import torch
from torch import nn


def range_max(x: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Max over ``x[b, lo:hi]`` for many ranges at once; zeros for empty ranges (hi <= lo).

    x: (B, N, H); lo, hi: (B, P) -> (B, P, H). A sparse table (maxima over windows of 1, 2, 4, ...
    positions, log2 of the longest range levels) answers every range with two gathers and one max,
    so nothing of size (B, P, N, H) is built.
    """
    b, n, h = x.shape
    length = hi - lo  # (B, P)
    longest = int(length.max()) if length.numel() else 0
    levels, width = [x], 1
    while 2 * width <= longest:
        prev = levels[-1]
        shifted = torch.cat([prev[:, width:], prev[:, -1:].expand(-1, min(width, n), -1)], dim=1)[:, :n]  # (B, N, H)
        levels.append(torch.maximum(prev, shifted))  # windows of 2 * width
        width *= 2
    table = torch.stack(levels, dim=1).view(b, len(levels) * n, h)  # (B, L * N, H)
    level = torch.floor(torch.log2(length.clamp(min=1).float())).long()  # (B, P)
    span = 2**level  # (B, P)
    first = (level * n + lo.clamp(0, n - 1)).unsqueeze(-1).expand(-1, -1, h)  # (B, P, H)
    second = (level * n + (hi - span).clamp(0, n - 1)).unsqueeze(-1).expand(-1, -1, h)
    out = torch.maximum(table.gather(1, first), table.gather(1, second))  # (B, P, H)
    return out.masked_fill((length <= 0).unsqueeze(-1), 0.0)


def pool_words(states: torch.Tensor, word_lo: torch.Tensor, word_hi: torch.Tensor) -> torch.Tensor:
    """Max-pool sub-token states into word states (Eq. 2).

    states: (B, T, H); word_lo / word_hi: (B, W) first / past-last sub-token of each word.
    Returns (B, W, H); words without sub-tokens (and padding) are 0.
    """
    return range_max(states, word_lo, word_hi)


def enumerate_spans(n_words: torch.Tensor, width: int, max_words: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """All spans of 1..``width`` words, indexed ``k * max_words + start`` (k = width - 1).

    n_words: (B,) sentence lengths. Returns starts (S,), ends (S,) exclusive, valid (B, S) with
    S = width * max_words; a span is valid when it ends inside its sentence.
    """
    device = n_words.device
    starts = torch.arange(max_words, device=device).repeat(width)  # (S,)
    widths = torch.arange(1, width + 1, device=device).repeat_interleave(max_words)  # (S,)
    ends = starts + widths  # (S,)
    valid = ends.unsqueeze(0) <= n_words.unsqueeze(1)  # (B, S)
    return starts, ends, valid


def span_max_pool(words: torch.Tensor, width: int) -> torch.Tensor:
    """Max-pooled representation of every span of 1..``width`` words (same order as enumerate_spans).

    words: (B, W, H) -> (B, width * W, H). A running maximum over widths: ``width`` elementwise
    max operations, no span loop. Positions past the sentence end hold garbage and must be masked.
    """
    b, w, h = words.shape
    padded = torch.cat([words, words.new_zeros(b, width, h)], dim=1)  # (B, W + width, H)
    cur = words
    out = [cur]
    for k in range(1, width):
        cur = torch.maximum(cur, padded[:, k : k + w])  # (B, W, H): spans of width k + 1
        out.append(cur)
    return torch.cat(out, dim=1)  # (B, width * W, H)


def context_max_pool(words: torch.Tensor, head: torch.Tensor, tail: torch.Tensor) -> torch.Tensor:
    """Max-pool the words strictly between two spans (Eq. 9); zeros when they are adjacent or overlap.

    words: (B, W, H); head/tail: (B, P, 2) [start, end) of each pair's spans. Returns (B, P, H).
    """
    lo = torch.minimum(head[..., 1], tail[..., 1])  # (B, P) end of the earlier span
    hi = torch.maximum(head[..., 0], tail[..., 0])  # (B, P) start of the later span
    return range_max(words, lo, hi)


def span_distance(head: torch.Tensor, tail: torch.Tensor, clip: int) -> torch.Tensor:
    """Words strictly between two spans (0 when adjacent or overlapping), clipped at ``clip``.

    head/tail: (..., 2) [start, end). Returns (...) long.
    """
    gap = torch.maximum(head[..., 0], tail[..., 0]) - torch.minimum(head[..., 1], tail[..., 1])
    return gap.clamp(min=0, max=clip)


def sample_mask(candidates: torch.Tensor, count: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Pick up to ``count`` random True positions per row of ``candidates`` (B, N) -> bool mask (B, N).

    Uniform without replacement (random keys + top-k), all rows at once.
    """
    if count <= 0 or candidates.size(1) == 0:
        return torch.zeros_like(candidates)
    keys = torch.rand(candidates.shape, device=candidates.device, generator=generator)  # (B, N)
    keys = keys.masked_fill(~candidates, -1.0)
    k = min(count, candidates.size(1))
    top = keys.topk(k, dim=1).indices  # (B, k)
    picked = torch.zeros_like(candidates).scatter_(1, top, True)
    return picked & candidates


class GatedFusion(nn.Module):
    """Eq. 5: v_o = w·E_o + b (one scalar score per input, shared w), alpha = softmax_o(v), sum_o alpha_o E_o.

    Inputs are ``delta`` tensors of the same shape (..., d); the result has shape (..., d).
    Eq. 5 is blind to the order of its inputs: a relation tuple <e1, e2> and <e2, e1> would get the
    same representation, so direction could not be learned. ``ordered=True`` first passes each input
    slot through its own linear map (W_o E_o), which keeps the gate of Eq. 5 but lets the sum depend
    on which entity is the head (relx's deviation, used for relation tuples only).
    """

    def __init__(self, dim: int, n_parts: int = 0, ordered: bool = False):
        super().__init__()
        self.score = nn.Linear(dim, 1)
        self.slots = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_parts)) if ordered else None

    def forward(self, parts: list[torch.Tensor]) -> torch.Tensor:
        if self.slots is not None:
            parts = [proj(x) for proj, x in zip(self.slots, parts)]
        stacked = torch.stack(parts, dim=-2)  # (..., delta, d)
        alpha = self.score(stacked).softmax(dim=-2)  # (..., delta, 1)
        return (alpha * stacked).sum(dim=-2)  # (..., d)


class Fusion(nn.Module):
    """Gated fusion (Eq. 5, optionally slot-ordered) or plain concatenation (the paper's "w/o gated" and SpERT)."""

    def __init__(self, dims: list[int], gated: bool, ordered: bool = False, slot_norm: bool = False):
        super().__init__()
        self.gated = gated
        if gated and len(set(dims)) != 1:
            raise ValueError(f"gated fusion needs inputs of one size, got {dims}")
        self.out_dim = dims[0] if gated else sum(dims)
        self.gate = GatedFusion(dims[0], len(dims), ordered) if gated else None
        # slot_norm: LayerNorm on each input first, so no slot dominates the gate by its scale alone (relx option)
        self.norms = nn.ModuleList(nn.LayerNorm(d) for d in dims) if slot_norm else None

    def forward(self, parts: list[torch.Tensor]) -> torch.Tensor:
        if self.norms is not None:
            parts = [norm(x) for norm, x in zip(self.norms, parts)]
        return self.gate(parts) if self.gate is not None else torch.cat(parts, dim=-1)


def compact(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Indexes of the True entries of each row of ``mask`` (B, N), moved to the front.

    Returns idx (B, P) and ok (B, P) with P = the largest row count; padded entries have ok False.
    """
    p = int(mask.sum(1).max()) if mask.numel() else 0
    order = torch.sort((~mask).to(torch.int8), dim=1, stable=True).indices[:, :p]  # (B, P) True entries first
    return order, mask.gather(1, order)


def feature_embedding(n: int, dim: int, std: float | None) -> nn.Embedding:
    """Width / distance / global-feature embedding of the span models. Gated fusion averages it with
    encoder states (norm ~9 for MiniLM), so it then starts like the encoder's own embeddings (``std`` =
    the encoder's initializer_range) instead of N(0, 1) (norm ~19 at d = 384, which would drown the span
    content at the start); concatenated (SpERT, ``gated: false``; ``std`` None) it keeps torch's N(0, 1)."""
    emb = nn.Embedding(n, dim)
    if std is not None:
        nn.init.normal_(emb.weight, std=std)
    return emb


class SampleCounts:
    """Mixin of the span models: class counts of the sampled training instances (Table 6); reads the
    model's ``entity_types`` and ``relation_types``. Class 0 is Not-Entity / Not-Relation."""

    def count_samples(self, kind: str, labels: torch.Tensor) -> None:
        """Accumulate class counts of the training instances (0 = Not-Entity / Not-Relation)."""
        n = 1 + (len(self.entity_types) if kind == "entity" else len(self.relation_types))
        counts = torch.bincount(labels.detach().flatten(), minlength=n)
        prev = self._sample_counts.get(kind)
        self._sample_counts[kind] = counts if prev is None else prev + counts

    @property
    def _sample_counts(self) -> dict[str, torch.Tensor]:
        if "_counts" not in self.__dict__:
            self.__dict__["_counts"] = {}
        return self.__dict__["_counts"]

    def sample_counts(self) -> dict[str, dict[str, int]]:
        """Training instances seen so far per class, e.g. {"entity": {"Not-Entity": .., "Per": ..}, "relation": {...}}."""
        names = {"entity": ["Not-Entity", *self.entity_types], "relation": ["Not-Relation", *self.relation_types]}
        return {k: dict(zip(names[k], v.tolist())) for k, v in self._sample_counts.items()}


def gather_rows(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` (B, N, ...) at indexes ``idx`` (B, P) along dim 1 -> (B, P, ...)."""
    return x.gather(1, idx.view(*idx.shape, *([1] * (x.dim() - 2))).expand(*idx.shape, *x.shape[2:]))
