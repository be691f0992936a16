"""Graph convolution over dependency trees with path-centric pruning (C-GCN, Zhang, Qi & Manning 2018).

Everything is batched tensor code over padded (B, T) head arrays, so it runs inside ``forward`` on the
model's device: ancestors by repeated squaring of the parent matrix, the subject-object path through
their lowest common ancestor, each token's distance (upwards) to that path, and the pruned undirected
adjacency. It follows the reference ``head_to_tree`` of the C-GCN code: the path is the union of the
subject's and the object's ancestors minus their common ancestors, plus the lowest common ancestor;
a token is kept when climbing at most K heads reaches the path (K < 0: the whole tree).
"""

from __future__ import annotations

import math

import torch
from torch import nn

INF = 10_000


def ancestors(heads: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """heads (B, T) 1-based head index (0 = root), mask (B, T) real tokens -> (B, T, T) bool,
    [b, i, j] = token j is token i or one of its ancestors."""
    b, t = heads.shape
    parent = (heads - 1).clamp(min=0)  # (B, T)
    has_parent = (heads > 0) & mask & (heads <= mask.sum(1, keepdim=True))  # heads pointing into the sentence only
    reach = torch.zeros(b, t, t, device=heads.device)
    reach.scatter_(2, parent.unsqueeze(-1), has_parent.unsqueeze(-1).float())  # (B, T, T) child -> parent
    reach = reach + torch.diag_embed(mask.float())  # self
    for _ in range(max(1, math.ceil(math.log2(max(t, 2))))):
        reach = (reach @ reach).clamp(max=1.0)  # paths of length <= 2^k
    return reach.bool() & mask.unsqueeze(1) & mask.unsqueeze(2)


def path_distance(heads: torch.Tensor, mask: torch.Tensor, subj: torch.Tensor, obj: torch.Tensor) -> torch.Tensor:
    """Upward distance of every token to the subject-object dependency path: (B, T) long, INF when the
    climb to the root never meets the path (and on padding). subj, obj (B, T) bool token masks."""
    anc = ancestors(heads, mask)  # (B, T, T)
    depth = anc.sum(-1) - 1  # (B, T)
    subj_anc = (anc & subj.unsqueeze(-1)).any(1)  # (B, T) ancestors-or-self of some subject token
    obj_anc = (anc & obj.unsqueeze(-1)).any(1)
    common = (anc | ~subj.unsqueeze(-1)).all(1) & (anc | ~obj.unsqueeze(-1)).all(1) & mask  # (B, T) common ancestors
    lca = torch.where(common, depth, -1).argmax(-1)  # (B,) the deepest common ancestor
    has_lca = common.any(-1)  # (B,)
    path = (subj_anc | obj_anc) & ~common  # (B, T)
    path = path | (torch.nn.functional.one_hot(lca, heads.size(1)).bool() & has_lca.unsqueeze(-1))
    gap = depth.unsqueeze(2) - depth.unsqueeze(1)  # (B, T, T) depth(i) - depth(j)
    gap = torch.where(anc & path.unsqueeze(1), gap, INF)  # only ancestors on the path
    return torch.where(mask, gap.min(-1).values, INF)


def pruned_adjacency(heads: torch.Tensor, mask: torch.Tensor, subj: torch.Tensor, obj: torch.Tensor, prune: int = 1) -> torch.Tensor:
    """Undirected adjacency (B, T, T) float of the dependency tree restricted to tokens within ``prune``
    of the subject-object path (``prune`` < 0: the full tree); no self-loops (the GCN adds them)."""
    b, t = heads.shape
    keep = mask if prune < 0 else path_distance(heads, mask, subj, obj) <= prune  # (B, T)
    parent = (heads - 1).clamp(min=0)
    parent_kept = keep.gather(1, parent)  # (B, T)
    edge = (heads > 0) & keep & parent_kept & mask & (heads <= mask.sum(1, keepdim=True))  # (B, T) child -> parent kept
    adj = torch.zeros(b, t, t, device=heads.device)
    adj.scatter_(2, parent.unsqueeze(-1), edge.unsqueeze(-1).float())
    return (adj + adj.transpose(1, 2)).clamp(max=1.0)


class GCN(nn.Module):
    """C-GCN's graph convolution: h' = ReLU((A h W + h W) / (deg + 1)), dropout between layers."""

    def __init__(self, in_dim: int, dim: int, layers: int = 2, dropout: float = 0.5):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(in_dim if i == 0 else dim, dim) for i in range(layers))
        self.drop = nn.Dropout(dropout)
        self.output_dim = dim

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """h (B, T, D), adj (B, T, T) -> (B, T, dim)."""
        denom = adj.sum(2, keepdim=True) + 1  # (B, T, 1) degree + self-loop
        for i, w in enumerate(self.layers):
            h = torch.relu((w(adj @ h) + w(h)) / denom)  # (B, T, dim)
            if i < len(self.layers) - 1:
                h = self.drop(h)
        return h
