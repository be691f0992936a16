"""``kernel``: per-relation asymmetric kernel matrices with sigmoid scoring (multi-label, overlapping triples).

Paper: ``kernel-matrix-plm-downstream.txt`` (Li & Tian), Section 3.

* Encoder (3.1): E_w = the penultimate hidden layer; E_p = the encoder's last block applied to E_w,
  which is the encoder's ordinary last hidden layer, so one forward pass gives both (Eq. 1);
  E_a = the last layer's CLS state broadcast to every token; E_b = E_w + E_a (Eq. 2).
* Relation computing layer (3.2): S_i = (E_b W_hi)(E_p W_ti)^T for every relation i in one batched
  einsum (:class:`relx.nn.kernel.RelationKernels`; ``rank`` < h gives low-rank W in R^{h x k}),
  P_i = sigmoid(S_i) (Eq. 3-5). Only the tokens of the given entities are scored: every other row and
  column of S_i is masked out by M anyway (Eq. 6), so they are never computed.
* Loss (3.3): :func:`relx.training.losses.kernel_bce` (Eq. 8-10; ``loss_norm`` says how it averages:
  per sentence as printed, or over the batch).
* Nested entities (``pair_cells``): with ``block`` (Eq. 6-7 as printed) a pair's cells are its whole token block,
  so a pair nested inside a gold pair's block (both entities within the gold ones) is labelled positive on
  every cell and scored on the gold pair's cells. ``own`` gives each pair the cells of its block that no
  nested candidate pair's block covers (its whole block when that leaves none): labels and block means
  use those, so the nested pair and the pair around it are told apart.
* Prediction: triple (i, x, y) holds when the mean of P_i over the block of entity pair (x, y) is at
  least ``threshold`` (default 0.5); after training, ``tune_threshold`` picks it on dev. Every ordered
  pair of distinct given entities is a candidate (``self_pairs``: also (x, x)), each may get several relations. ``single_label``
  keeps only the best relation of a document (sentence-level data such as SemEval).

Directed pair labels ``T(e2,e1)`` become relation T from entities[1] to entities[0], so SemEval trains
on its 9 relation types with the direction carried by the argument order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from relx.data.labels import LabelSet, split_directed
from relx.data.schema import Document, Relation
from relx.errors import RelxConfigError
from relx.models.base import Decoded, ModelKind, ModelOutput, register
from relx.models.transformer import TransformerModel
from relx.nn.encoder import DEFAULT_ENCODER
from relx.nn.kernel import RelationKernels, block_mean, block_union
from relx.nn.sequence import pad_ids
from relx.training.config import FitContext
from relx.training.losses import KERNEL_NORMS, kernel_bce

PAIR_CELLS = ("block", "own")


@dataclass
class KernelConfig:
    encoder: str = DEFAULT_ENCODER
    max_length: int = 128  # sub-tokens incl. [CLS]/[SEP]; entities past it get no predictions (counted in meta)
    rank: int | None = None  # k of W_hi, W_ti in R^{h x k}; None = h (the paper's full kernels)
    dropout: float = 0.1  # on E_b and E_p before the kernels
    loss_norm: str = "positives"  # positives (Eq. 9 as printed) | mask (average over masked token pairs)
    threshold: float = 0.5
    tune_threshold: bool = True  # after training pick the threshold that maximises the dev metric
    single_label: bool = False  # keep at most the best relation per document
    self_pairs: bool = False  # also score (x, x): CasRel data names one located span as head and tail (WebNLG* 334 train triples)
    pair_cells: str = "block"  # block: a pair's whole token block (Eq. 6-7) | own: minus the blocks of pairs nested in it


@register("kernel")
class KernelModel(TransformerModel):
    """Multi-label relation scoring of every ordered pair of the given entities (see the module docstring)."""

    Config = KernelConfig
    kind = ModelKind.ALL_PAIRS  # any number of given entities, every ordered pair scored at once

    def __init__(self, config: KernelConfig, labels: LabelSet, saved: Path | None = None):
        super().__init__(config, labels, saved)
        if config.loss_norm not in KERNEL_NORMS:
            raise RelxConfigError(f"kernel: loss_norm must be one of {', '.join(KERNEL_NORMS)}, got {config.loss_norm!r}")
        if config.pair_cells not in PAIR_CELLS:
            raise RelxConfigError(f"kernel: pair_cells must be one of {', '.join(PAIR_CELLS)}, got {config.pair_cells!r}")
        if config.rank is not None and config.rank < 1:
            raise RelxConfigError(f"kernel: rank must be >= 1 (or null for full h x h kernels), got {config.rank}")
        if not 0.0 <= config.threshold <= 1.0:
            raise RelxConfigError(f"kernel: threshold must be in [0, 1], got {config.threshold}")
        self.relation_types = sorted({split_directed(lab)[0] for lab in labels.labels if lab != labels.negative})
        if not self.relation_types:
            raise RelxConfigError("kernel: the label set has no relation types besides the negative one")
        h = self.encoder.config.hidden_size
        self.kernels = RelationKernels(h, len(self.relation_types), config.rank)
        self.drop = nn.Dropout(config.dropout)

    # --- features ----------------------------------------------------------------------------
    def featurize(self, doc: Document) -> dict:
        """Sub-token ids, the entity tokens (their union, and which entity covers which), gold triples."""
        enc = self.tokenizer(list(doc.tokens), is_split_into_words=True, add_special_tokens=False)
        limit = self.config.max_length - 2
        words = enc.word_ids()[:limit]
        pieces: dict[int, list[int]] = {}
        for pos, w in enumerate(words):
            if w is not None:
                pieces.setdefault(w, []).append(pos + 1)  # +1 for [CLS]
        kept: list[int] = []  # doc entity index of each kept entity
        ent_tokens: list[list[int]] = []
        for k, e in enumerate(doc.entities):
            toks = [p for w in range(e.start, e.end) for p in pieces.get(w, [])]
            if toks and e.end <= (words[-1] + 1 if words else 0):
                kept.append(k)
                ent_tokens.append(toks)
        tokens = sorted({p for toks in ent_tokens for p in toks})
        col = {p: i for i, p in enumerate(tokens)}
        index = {k: i for i, k in enumerate(kept)}
        rel_id = {t: i for i, t in enumerate(self.relation_types)}
        triples = []
        for r in doc.relations:
            if r.label == self.labels.negative:
                continue
            rtype, reverse = split_directed(r.label)
            head, tail = (r.tail, r.head) if reverse else (r.head, r.tail)
            if head in index and tail in index and (head != tail or self.config.self_pairs) and rtype in rel_id:
                triples.append((index[head], index[tail], rel_id[rtype]))
        return {
            "input_ids": [self.tokenizer.cls_token_id, *enc["input_ids"][:limit], self.tokenizer.sep_token_id],
            "tokens": tokens,
            "members": [[col[p] for p in toks] for toks in ent_tokens],
            "entities": kept,
            "triples": triples,
            "unscored_entities": len(doc.entities) - len(kept),
            "own": own_cells([[col[p] for p in toks] for toks in ent_tokens], self.config.self_pairs)
            if self.config.pair_cells == "own"
            else [],
        }

    def feature_length(self, feat: dict) -> int:
        return len(feat["input_ids"])

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        b = len(feats)
        n = max(max((len(f["tokens"]) for f in feats), default=0), 1)
        e = max(max((len(f["members"]) for f in feats), default=0), 1)
        member = torch.zeros(b, e, n)  # (B, E, N) entity x covers entity token n
        labels = torch.zeros(b, len(self.relation_types), e, e)  # (B, R, E, E) gold triples
        for i, f in enumerate(feats):
            for x, cols in enumerate(f["members"]):
                member[i, x, cols] = 1.0
            for h, t, r in f["triples"]:
                labels[i, r, h, t] = 1.0
        own = [(i, x, y, cells) for i, f in enumerate(feats) for x, y, cells in f.get("own", [])]
        own_cells = torch.zeros(len(own), n, n)  # (K, N, N) the cells of each pair that holds nested pairs
        for k, (_, _, _, cells) in enumerate(own):
            own_cells[k, [c[0] for c in cells], [c[1] for c in cells]] = 1.0
        n_ent = torch.tensor([len(f["members"]) for f in feats])
        ent_mask = torch.arange(e).unsqueeze(0) < n_ent.unsqueeze(1)  # (B, E)
        return {
            "input_ids": pad_ids([f["input_ids"] for f in feats], self.tokenizer.pad_token_id or 0),  # (B, T)
            "attention_mask": pad_ids([[1] * len(f["input_ids"]) for f in feats], 0),  # (B, T)
            "tokens": pad_ids([f["tokens"] for f in feats], 0),  # (B, N) positions of the entity tokens
            "token_mask": pad_ids([[1] * len(f["tokens"]) for f in feats], 0).bool(),  # (B, N)
            "member": member,
            "labels": labels,
            "entity_index": pad_ids([f["entities"] for f in feats], 0),  # (B, E) input-document index of each scored entity
            "unscored": torch.tensor([f["unscored_entities"] for f in feats]),  # (B,) entities past max_length
            "own_index": torch.tensor([o[:3] for o in own], dtype=torch.long).view(-1, 3),  # (K, 3) b, x, y
            "own_cells": own_cells,
            "pair_mask": ent_mask.unsqueeze(2)
            & ent_mask.unsqueeze(1)
            & (torch.ones(e, e, dtype=torch.bool) if self.config.self_pairs else ~torch.eye(e, dtype=torch.bool)),  # (B, E, E) x != y
        }

    # --- model -------------------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        out = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True)
        e_w, e_p = out.hidden_states[-2], out.hidden_states[-1]  # (B, T, H) each: E_p = last block(E_w)
        e_b = e_w + e_p[:, :1]  # (B, T, H) Eq. 2: E_a = CLS, broadcast
        idx = batch["tokens"].unsqueeze(-1).expand(-1, -1, e_w.size(-1))  # (B, N, H)
        heads, tails = self.drop(e_b.gather(1, idx)), self.drop(e_p.gather(1, idx))  # (B, N, H) entity tokens only
        scores = self.kernels(heads, tails, batch["token_mask"])  # (B, R, N, N)
        member, pair_mask = batch["member"], batch["pair_mask"].to(scores.dtype)  # (B, E, N), (B, E, E)
        mask = block_union(pair_mask, member)  # (B, N, N) M, Eq. 6
        own_index, own = batch.get("own_index"), batch.get("own_cells")
        has_own = own_index is not None and own_index.numel() > 0
        gold = batch["labels"]  # (B, R, E, E)
        if has_own:  # pairs with nested pairs contribute their own cells only
            b, x, y = own_index.unbind(-1)  # (K,) each
            plain = gold.clone()
            plain[b, :, x, y] = 0.0
            labels = block_union(plain, member)  # (B, R, N, N)
            extra = gold[b, :, x, y].unsqueeze(-1).unsqueeze(-1) * own.unsqueeze(1)  # (K, R, N, N)
            labels = labels.index_add(0, b, extra.to(labels.dtype)).clamp(max=1.0)
        else:
            labels = block_union(gold, member)  # (B, R, N, N) Y_i, Eq. 7
        loss = kernel_bce(scores, mask, labels, self.config.loss_norm)
        probs = scores.float().sigmoid()  # (B, R, N, N)
        pair_probs = block_mean(probs, member)  # (B, R, E, E) mean P_i over each pair's block
        if has_own:
            own_mean = (probs[b] * own.unsqueeze(1)).sum((-1, -2)) / own.sum((-1, -2)).clamp(min=1).unsqueeze(1)  # (K, R)
            pair_probs = pair_probs.clone()
            pair_probs[b, :, x, y] = own_mean
        return ModelOutput(loss=loss, logits=pair_probs, extras={"loss_kernel": loss.detach()})

    def decode(self, batch: dict[str, torch.Tensor], out: ModelOutput) -> list[Decoded]:
        """Relations (entity indexes of the input document) whose block-mean probability >= threshold;
        ``meta['unscored_entities']`` counts entities past ``max_length`` (no relation is predicted for them)."""
        probs = out.logits  # (B, R, E, E)
        on = (probs >= self.config.threshold) & batch["pair_mask"].unsqueeze(1)  # (B, R, E, E)
        hits = on.nonzero().tolist()  # [b, r, x, y] rows
        scores = probs[on].tolist()
        index = batch["entity_index"].tolist()  # x, y index the scored entities; index[b][x] is their input index
        found: list[list[Relation]] = [[] for _ in range(probs.size(0))]
        for (b, r, x, y), s in zip(hits, scores):
            found[b].append(Relation(index[b][x], index[b][y], self.relation_types[r], s))
        if self.config.single_label:
            found = [[max(rels, key=lambda rel: rel.score or 0.0)] if rels else [] for rels in found]
        return [Decoded(rels, meta={"unscored_entities": n} if n else {}) for rels, n in zip(found, batch["unscored"].tolist())]

    # --- threshold on dev --------------------------------------------------------------------
    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        history = super().fit_context(train, dev, ctx)
        if dev and self.config.tune_threshold:
            history["threshold"] = self.tune_threshold(dev, ctx)
        return history

    def tune_threshold(self, dev: list[Document], ctx: FitContext, grid: tuple[float, ...] | None = None) -> dict:
        """Set ``config.threshold`` to the grid value with the best dev ``ctx.metric`` (ties: closest to 0.5)."""
        from relx.training.trainer import dev_metrics

        grid = grid or tuple(round(0.05 * k, 2) for k in range(1, 20))
        saved = self.config.threshold
        self.config.threshold = min(grid)
        low = self.predict(dev, batch_size=ctx.trainer.eval_batch_size)
        self.config.threshold = saved
        results = {}
        for t in grid:
            preds = [_keep_above(p, t) for p in low]
            results[t] = float(dev_metrics(dev, preds, self.labels, ctx.trainer)[ctx.metric])
        best = max(grid, key=lambda t: (results[t], -abs(t - 0.5)))
        self.config.threshold = best
        return {"threshold": best, "metric": ctx.metric, "dev": results}


def _keep_above(doc: Document, threshold: float) -> Document:
    import copy

    out = copy.copy(doc)
    out.relations = [r for r in doc.relations if r.score is None or r.score >= threshold]
    return out


def own_cells(members: list[list[int]], self_pairs: bool = False) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """For each candidate pair (x, y) with pairs nested in it ((u, v) != (x, y), u's tokens within x's and v's
    within y's): (x, y, the cells of its block that no nested pair's block covers). Pairs without nested pairs
    (the usual case) and pairs every cell of which is covered keep their whole block and are not listed."""
    sets = [set(m) for m in members]
    pairs = [(x, y) for x in range(len(members)) for y in range(len(members)) if (x != y or self_pairs) and members[x] and members[y]]
    out = []
    for x, y in pairs:
        nested = [(u, v) for u, v in pairs if (u, v) != (x, y) and sets[u] <= sets[x] and sets[v] <= sets[y]]
        if not nested:
            continue
        covered = {(m, n) for u, v in nested for m in members[u] for n in members[v]}
        cells = [(m, n) for m in members[x] for n in members[y] if (m, n) not in covered]
        if cells:
            out.append((x, y, cells))
    return out
