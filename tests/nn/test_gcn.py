"""Batched dependency-tree pruning and GCN: checked against a per-sentence reference walk on random trees."""

from __future__ import annotations

import random

import torch

from relx.nn.gcn import GCN, INF, ancestors, path_distance, pruned_adjacency
from relx.nn.sequence import pad_ids


def random_tree(n: int, rng: random.Random) -> list[int]:
    """1-based heads of a random tree over n tokens (one root)."""
    order = list(range(n))
    rng.shuffle(order)
    heads = [0] * n
    for k, i in enumerate(order[1:], 1):
        heads[i] = order[rng.randrange(k)] + 1
    return heads


def reference_distance(heads: list[int], subj: list[int], obj: list[int]) -> list[int]:
    """The path of C-GCN's head_to_tree, walked token by token."""

    def chain(i):
        out = [i]
        while heads[out[-1]] > 0:
            out.append(heads[out[-1]] - 1)
        return out

    s_anc = {a for s in subj for a in chain(s)}
    o_anc = {a for o in obj for a in chain(o)}
    common = set.intersection(*[set(chain(x)) for x in subj + obj])
    lca = max(common, key=lambda a: len(chain(a)))
    path = (s_anc | o_anc) - common | {lca}
    out = []
    for i in range(len(heads)):
        c = chain(i)
        hit = next((d for d, a in enumerate(c) if a in path), None)
        out.append(INF if hit is None else hit)
    return out


def test_path_distance_and_pruning_match_the_reference_walk():
    rng = random.Random(0)
    heads, subjs, objs, refs = [], [], [], []
    for _ in range(30):
        n = rng.randint(4, 14)
        h = random_tree(n, rng)
        a = rng.randrange(n - 1)
        b = rng.randrange(a + 1, n)
        subj, obj = list(range(a, min(a + rng.randint(1, 2), b))), [b]
        heads.append(h)
        subjs.append(subj)
        objs.append(obj)
        refs.append(reference_distance(h, subj, obj))
    t = max(len(h) for h in heads)
    H = pad_ids(heads, 0)
    mask = pad_ids([[1] * len(h) for h in heads], 0).bool()
    S = torch.zeros(len(heads), t, dtype=torch.bool)
    OB = torch.zeros(len(heads), t, dtype=torch.bool)
    for i, (s, o) in enumerate(zip(subjs, objs)):
        S[i, s], OB[i, o] = True, True
    dist = path_distance(H, mask, S, OB)
    for i, ref in enumerate(refs):
        assert dist[i, : len(ref)].tolist() == ref
        assert (dist[i, len(ref) :] == INF).all()
    for k in (0, 1, 2):
        adj = pruned_adjacency(H, mask, S, OB, prune=k)
        for i, (h, ref) in enumerate(zip(heads, refs)):
            want = torch.zeros(t, t)
            for c, p in enumerate(h):
                if p > 0 and ref[c] <= k and ref[p - 1] <= k:
                    want[c, p - 1] = want[p - 1, c] = 1
            assert torch.equal(adj[i], want)
    full = pruned_adjacency(H, mask, S, OB, prune=-1)
    assert torch.equal(full.sum((1, 2)), 2 * (mask.sum(1) - 1).float())  # a tree has n - 1 edges


def test_ancestors_of_a_chain():
    heads = torch.tensor([[0, 1, 2, 3]])  # 0 <- 1 <- 2 <- 3
    anc = ancestors(heads, torch.ones(1, 4, dtype=torch.bool))
    assert anc[0, 3].tolist() == [True, True, True, True] and anc[0, 0].tolist() == [True, False, False, False]


def test_gcn_layer_by_hand():
    gcn = GCN(2, 2, layers=1, dropout=0.0)
    with torch.no_grad():
        gcn.layers[0].weight.copy_(torch.eye(2))
        gcn.layers[0].bias.zero_()
    h = torch.tensor([[[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]]])
    adj = torch.tensor([[[0.0, 1, 0], [1, 0, 0], [0, 0, 0]]])
    out = gcn(h, adj)
    assert torch.allclose(out[0], torch.tensor([[0.5, 1.0], [0.5, 1.0], [3.0, 3.0]]))  # (A h + h) / (deg + 1)
