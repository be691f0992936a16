"""Small reusable heads: pair pooling, layer mixing, span-boundary scorer."""

from __future__ import annotations

import torch
from torch import nn


def gather_positions(hidden: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """hidden (B, T, H), positions (B,) -> (B, H)."""
    idx = positions.view(-1, 1, 1).expand(-1, 1, hidden.size(-1))  # (B, 1, H)
    return hidden.gather(1, idx).squeeze(1)


def pair_representation(hidden: torch.Tensor, e1_pos: torch.Tensor, e2_pos: torch.Tensor, use_cls: bool) -> torch.Tensor:
    """Concatenate the states at the two marker positions (and CLS): (B, 2H) or (B, 3H)."""
    parts = [gather_positions(hidden, e1_pos), gather_positions(hidden, e2_pos)]
    if use_cls:
        parts.insert(0, hidden[:, 0])
    return torch.cat(parts, dim=-1)


class ScalarMix(nn.Module):
    """Softmax-weighted sum of several layers' hidden states, times a learned scale."""

    def __init__(self, n_layers: int):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(n_layers))
        self.gamma = nn.Parameter(torch.ones(()))

    def forward(self, layers: list[torch.Tensor]) -> torch.Tensor:
        w = torch.softmax(self.weights, dim=0)  # (L,)
        stacked = torch.stack(layers, dim=0)  # (L, B, T, H)
        return self.gamma * (w.view(-1, 1, 1, 1) * stacked).sum(0)  # (B, T, H)


class SpanBoundaryHead(nn.Module):
    """Scores every token as start/end of subject/object: (B, T, H) -> (B, 4, T) logits."""

    def __init__(self, hidden: int, n_boundaries: int = 4):
        super().__init__()
        self.proj = nn.Linear(hidden, n_boundaries)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = self.proj(hidden).transpose(1, 2)  # (B, 4, T)
        return logits.masked_fill(~mask.bool().unsqueeze(1), torch.finfo(logits.dtype).min)
