"""Multi-aspect attention (soft-label distillation paper, Eq. 9-12)."""

from __future__ import annotations

import torch
from torch import nn


class MultiAspectAttention(nn.Module):
    """u_i = v . tanh(W_h h_i + W_p p_i + W_n ner_i + W_q q); a = masked softmax(u); out = sum_i a_i h_i."""

    def __init__(self, dim: int, pos_dim: int, ner_dim: int, query_dim: int):
        super().__init__()
        self.w_h = nn.Linear(dim, dim)
        self.w_p = nn.Linear(pos_dim, dim, bias=False)
        self.w_n = nn.Linear(ner_dim, dim, bias=False)
        self.w_q = nn.Linear(query_dim, dim, bias=False)
        self.v = nn.Linear(dim, 1, bias=False)

    def forward(
        self, h: torch.Tensor, pos: torch.Tensor, ner: torch.Tensor, q: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """h (B, T, D), pos (B, T, 2P), ner (B, T, N), q (B, Q), mask (B, T) -> (B, D) and weights (B, T)."""
        u = self.v(torch.tanh(self.w_h(h) + self.w_p(pos) + self.w_n(ner) + self.w_q(q).unsqueeze(1))).squeeze(-1)  # (B, T)
        u = u.masked_fill(~mask, torch.finfo(u.dtype).min)
        a = torch.softmax(u, dim=-1) * mask  # (B, T)
        return torch.bmm(a.unsqueeze(1), h).squeeze(1), a  # (B, D)
