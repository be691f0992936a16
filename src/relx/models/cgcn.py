"""``cgcn``: contextualized GCN over pruned dependency trees (Zhang, Qi & Manning 2018), the base encoder of the
soft-label distillation paper (``soft-label-distillation-cgcn.txt``, Eq. 4-7).

Word (+ POS, + NER, + entity-type channel) embeddings -> BiLSTM -> ``gcn_layers`` graph convolutions over the
dependency tree made undirected, with self-loops and degree normalisation, pruned to the tokens within
``prune_k`` of the subject-object path (:mod:`relx.nn.gcn`, batched in ``forward``) -> max-pooled sentence
(over the kept tokens), subject and object -> [h_sent; h_s; h_o] -> ``mlp_layers`` ReLU layers = h_base ->
linear + softmax (:class:`relx.models.pair.PairClassifier`).

Trees, POS and NER come from the documents (TACRED fields or ``relx data annotate``); documents without
heads are parsed with spaCy on the fly (the same annotation ``relx data annotate`` writes). The paper's
entity masking (subject / object words replaced by SUBJ-<type> / OBJ-<type>) is the entity-type channel
here (``type_dim``), added to the word embedding instead of replacing it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from relx.data.schema import Document
from relx.errors import RelxConfigError
from relx.models.base import register
from relx.models.pair import PairClassifier
from relx.nn.gcn import GCN, pruned_adjacency
from relx.nn.sequence import masked_max, pad_ids, span_mask
from relx.nn.token_bilstm import TokenBiLSTM, TokenChannelsConfig


@dataclass
class CGCNConfig(TokenChannelsConfig):
    """Token channels + BiLSTM (TokenChannelsConfig; C-GCN uses no position channel) and the GCN / MLP sizes."""

    position_dim: int = 0
    word_dropout: float = 0.04
    dropout: float = 0.3  # input and BiLSTM output dropout (C-GCN: 0.5; 0.3 learned faster on SemEval dev)
    gcn_layers: int = 2
    gcn_dim: int = 200
    gcn_dropout: float = 0.3
    prune_k: int = 1  # keep tokens within K of the subject-object dependency path; < 0: the whole tree
    mlp_layers: int = 2
    class_weight_power: float = 0.0
    label_smoothing: float = 0.0

    def __post_init__(self) -> None:
        if self.gcn_layers < 1 or self.mlp_layers < 1:
            raise RelxConfigError(f"gcn_layers and mlp_layers must be >= 1 (got {self.gcn_layers} and {self.mlp_layers})")


@register("cgcn")
class CGCNModel(PairClassifier):
    """C-GCN relation classifier; subclasses (teachers, students) reuse :meth:`encode`."""

    Config = CGCNConfig
    built_from_data = True

    # --- layers built from the training data --------------------------------------------
    def prepare(self, train: list[Document]) -> None:
        train = with_trees(train)
        self._build(TokenBiLSTM.from_training(self.config, train))
        self.build_extra(train)
        super().prepare(train)

    def build_extra(self, train: list[Document]) -> None:
        """Data-dependent layers of subclasses (soft rules...)."""

    def _build(self, tokens: TokenBiLSTM) -> None:
        cfg = self.config
        self.tokens = tokens
        self.gcn = GCN(tokens.output_dim, cfg.gcn_dim, cfg.gcn_layers, cfg.gcn_dropout)
        self.rnn_dropout = nn.Dropout(cfg.dropout)
        dims = [3 * cfg.gcn_dim] + [cfg.gcn_dim] * cfg.mlp_layers
        self.mlp = nn.Sequential(*[m for a, b in zip(dims, dims[1:]) for m in (nn.Linear(a, b), nn.ReLU())])
        self.base_dim = cfg.gcn_dim
        self.init_head(cfg.gcn_dim, 0.0)  # C-GCN: no dropout between the MLP and the classifier
        self.build_layers()
        self.built = True
        self.to(self.class_weights.device)

    def build_layers(self) -> None:
        """Extra layers of subclasses that depend only on the config and labels (built with the encoder)."""

    def state_json(self) -> dict:
        return {"tokens": self.tokens.state_json()}

    def load_state_json(self, state: dict) -> None:
        self._build(TokenBiLSTM.from_state(self.config, state["tokens"]))

    # --- features ----------------------------------------------------------------------------
    def featurize_many(self, docs: list[Document]) -> list[dict]:
        return super().featurize_many(with_trees(docs))

    def pair_features(self, doc: Document) -> dict:
        if doc.heads is None:
            doc = with_trees([doc])[0]
        subj, obj = doc.entities[0], doc.entities[1]
        return {**self.tokens.featurize(doc), "heads": list(doc.heads or []), "spans": [subj.start, subj.end, obj.start, obj.end]}

    def feature_length(self, feat: dict) -> int:
        return len(feat["words"])

    def collate_pair(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        return {
            **self.tokens.collate(feats),
            "heads": pad_ids([f["heads"] for f in feats], 0),  # (B, T) 1-based, 0 = root
            "spans": torch.tensor([f["spans"] for f in feats]),
        }  # (B, 4)

    # --- model ---------------------------------------------------------------------------
    def encode(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """-> h_base (B, D), GCN states (B, T, D) and the mask of real tokens (B, T)."""
        h, mask = self.tokens(batch)  # (B, T, 2H), (B, T)
        h = self.rnn_dropout(h)
        spans = batch["spans"]
        subj, obj = span_mask(spans[:, 0], spans[:, 1], mask), span_mask(spans[:, 2], spans[:, 3], mask)  # (B, T)
        adj = pruned_adjacency(batch["heads"], mask, subj, obj, self.config.prune_k)  # (B, T, T)
        g = self.gcn(h, adj)  # (B, T, D)
        in_tree = (adj.sum(1) + adj.sum(2) > 0) | subj | obj  # (B, T) tokens the pruned tree kept
        rep = torch.cat([masked_max(g, in_tree & mask), masked_max(g, subj), masked_max(g, obj)], dim=-1)  # (B, 3D)
        return self.mlp(rep), g, mask  # h_base (B, D)

    def pair_repr(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.encode(batch)[0]


def with_trees(docs: list[Document]) -> list[Document]:
    """``docs`` with dependency heads, POS and NER: documents that lack heads are annotated with spaCy."""
    missing = [i for i, d in enumerate(docs) if d.heads is None]
    if not missing:
        return docs
    from relx.data.annotate import annotate

    try:
        done = annotate([docs[i] for i in missing], progress=False)
    except OSError as exc:
        raise RelxConfigError(
            f"cgcn needs dependency trees: annotate the data with `relx data annotate` or install spaCy's model ({exc})"
        ) from None
    out = list(docs)
    for i, d in zip(missing, done):
        out[i] = d
    return out
