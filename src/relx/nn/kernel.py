"""Per-relation asymmetric kernel scores (kernel-matrix paper, Eq. 3-7) and entity-block pooling.

``RelationKernels`` scores every (head token, tail token, relation) at once:
S_i = (X W_hi)(Y W_ti)^T for all relations i in one projection matmul and one batched einsum.
``block_mean`` averages a (token x token) matrix over each entity pair's block (the prediction rule of
Section 3.3); ``block_union`` builds the token-level mask M / label matrices Y_i (Eq. 6-7) from
entity-level ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class RelationKernels(nn.Module):
    """W_hi, W_ti in R^{h x k} for every relation i (k = h: the paper's full kernels; k < h: low rank).

    The weights are stored as one (h, R*k) matrix per side, so projecting every token for every
    relation is a single matmul. They start at N(0, 1/(h*sqrt(k))): for unit-variance token states the
    initial scores then have unit variance whatever h and k are (no sigmoid saturation at step 0).
    """

    def __init__(self, hidden: int, n_relations: int, rank: int | None = None):
        super().__init__()
        self.hidden, self.n_relations, self.rank = hidden, n_relations, rank or hidden
        std = 1.0 / math.sqrt(hidden * math.sqrt(self.rank))
        self.w_head = nn.Parameter(torch.randn(hidden, n_relations * self.rank) * std)
        self.w_tail = nn.Parameter(torch.randn(hidden, n_relations * self.rank) * std)

    def project(self, x: torch.Tensor, weight: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """x (B, N, h) -> (B, N, R, k); with ``mask`` (B, N) only the real rows are multiplied (padding stays 0)."""
        b, n, h = x.shape
        if mask is None:
            return (x @ weight).view(b, n, self.n_relations, self.rank)
        flat = mask.reshape(-1).nonzero().squeeze(1)  # (M,) real rows
        out = x.new_zeros(b * n, weight.size(1))
        out = out.index_copy(0, flat, x.reshape(b * n, h).index_select(0, flat) @ weight)  # (B*N, R*k)
        return out.view(b, n, self.n_relations, self.rank)

    def forward(self, heads: torch.Tensor, tails: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """heads (B, N, h) = E_b rows, tails (B, N, h) = E_p rows, mask (B, N) real rows ->
        scores S (B, R, N, N), S[b, i, m, n] = F_i(x_m, y_n) (0 where a row or column is padding)."""
        hk = self.project(heads, self.w_head, mask)  # (B, N, R, k)
        tk = self.project(tails, self.w_tail, mask)  # (B, N, R, k)
        return torch.einsum("bmrk,bnrk->brmn", hk, tk)  # (B, R, N, N)


def block_mean(matrix: torch.Tensor, member: torch.Tensor) -> torch.Tensor:
    """Mean of ``matrix`` over each ordered entity pair's token block.

    matrix (B, R, N, N) token x token values; member (B, E, N) 1 where entity x covers token n.
    -> (B, R, E, E): out[b, i, x, y] = mean over m in x, n in y of matrix[b, i, m, n] (0 for empty entities).
    """
    m = member.to(matrix.dtype).unsqueeze(1)  # (B, 1, E, N)
    sums = m @ matrix @ m.transpose(-1, -2)  # (B, R, E, E)
    size = member.sum(-1).to(matrix.dtype)  # (B, E)
    return sums / (size.unsqueeze(-1) * size.unsqueeze(-2)).clamp(min=1).unsqueeze(1)


def block_union(pairs: torch.Tensor, member: torch.Tensor) -> torch.Tensor:
    """Token-level indicator of the blocks of the marked entity pairs (Eq. 6 for M, Eq. 7 for each Y_i).

    pairs (B, [R,] E, E) 0/1 per ordered entity pair; member (B, E, N) -> (B, [R,] N, N) 0/1.
    """
    m = member.to(pairs.dtype)
    if pairs.dim() == 4:
        m = m.unsqueeze(1)  # (B, 1, E, N)
    return (m.transpose(-1, -2) @ pairs @ m).clamp(max=1.0)  # (B, [R,] N, N)
