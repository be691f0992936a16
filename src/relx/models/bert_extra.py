"""BERT + one extra transformer layer + FFN head, class weights 1/sqrt(N_i).

Section 3.2 of ``lstm-bert-gpt2-svm_tacred.txt`` (architecture in its appendix A.3): the encoder's
token states go through one more ``nn.TransformerEncoderLayer`` (12 heads, feed-forward 4 x hidden,
dropout 0.2, padding masked); the pooled vector passes dropout 0.2 -> Linear(256) -> ReLU -> Linear(C).
The loss is cross-entropy weighted by 1/sqrt(N_i) (``class_weight_power: 0.5``). The paper feeds the
plain sentence with the entity indices (``marker_style: none``) and pools one hidden-size vector
(its head starts with Linear(768, 256)), i.e. the first ([CLS]) token, the default ``pooling: cls``;
``entity_start`` / ``cls_entity`` read the entity anchors (markers, or the entity start tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.base import register
from relx.models.pair import TransformerPairClassifier
from relx.nn.encoder import DEFAULT_ENCODER
from relx.nn.heads import pair_representation

POOLINGS = ("cls", "entity_start", "cls_entity")


@dataclass
class BertExtraConfig:
    encoder: str = DEFAULT_ENCODER
    marker_style: str = "typed_punct"  # plain | typed | punct | typed_punct | none (the paper)
    pooling: str = "cls"  # cls (paper) | entity_start | cls_entity
    max_length: int = 128
    n_heads: int = 12  # extra layer's attention heads; must divide the encoder's hidden size
    layer_ffn: int | None = None  # extra layer's feed-forward size (None = 4 x hidden, as in BERT)
    layer_activation: str = "relu"  # relu (torch default) | gelu
    dropout: float = 0.2  # inside the extra layer and before the FFN head
    ffn_hidden: int = 256
    class_weight_power: float = 0.5  # CE weights 1/N_i^power (0.5 = the paper's 1/sqrt(N_i); 0 = unweighted)
    label_smoothing: float = 0.0


@register("bert_extra")
class BertExtraModel(TransformerPairClassifier):
    """Encoder -> extra TransformerEncoderLayer -> pooled vector -> dropout -> Linear(256) -> ReLU -> logits."""

    Config = BertExtraConfig

    def __init__(self, config: BertExtraConfig, labels: LabelSet, saved: Path | None = None):
        if config.pooling not in POOLINGS:
            raise RelxConfigError(f"bert_extra: pooling must be one of {', '.join(POOLINGS)}, got {config.pooling!r}")
        super().__init__(config, labels, saved)
        hidden = self.front_end.hidden_size
        if config.n_heads < 1 or hidden % config.n_heads:
            raise RelxConfigError(
                f"bert_extra: encoder hidden size {hidden} is not divisible by n_heads={config.n_heads}; "
                f"pick a divisor of {hidden} (e.g. {', '.join(str(h) for h in (1, 2, 4, 6, 8, 12, 16) if hidden % h == 0)})"
            )
        self.extra_layer = nn.TransformerEncoderLayer(
            d_model=hidden,
            nhead=config.n_heads,
            dim_feedforward=config.layer_ffn or 4 * hidden,
            dropout=config.dropout,
            activation=config.layer_activation,
            batch_first=True,
        )
        rep = hidden * {"cls": 1, "entity_start": 2, "cls_entity": 3}[config.pooling]
        self.ffn = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(rep, config.ffn_hidden), nn.ReLU())
        self.init_head(config.ffn_hidden, 0.0)

    def pair_repr(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        enc = self.front_end(batch)
        states = self.extra_layer(enc.states, src_key_padding_mask=~enc.mask.bool())  # (B, T, H)
        if self.config.pooling == "cls":
            pooled = states[:, 0]  # (B, H)
        else:
            pooled = pair_representation(states, enc.anchors[:, 0], enc.anchors[:, 1], self.config.pooling == "cls_entity")  # (B, 2H|3H)
        return self.ffn(pooled)  # (B, F)
