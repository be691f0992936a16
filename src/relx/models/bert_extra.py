"""BERT + one extra transformer layer + FFN head, class weights 1/sqrt(N_i).

Section 3.2 of ``lstm-bert-gpt2-svm_tacred.txt`` (architecture in its appendix A.3): the encoder's
token states go through one more ``nn.TransformerEncoderLayer`` (12 heads, feed-forward 4 x hidden,
dropout 0.2, padding masked); the pooled vector passes dropout 0.2 -> Linear(256) -> ReLU -> Linear(C).
The loss is cross-entropy weighted by 1/sqrt(N_i) (N_i = training documents of class i). The paper
pools one hidden-size vector (its head starts with Linear(768, 256)), i.e. the first ([CLS]) token,
which is the default here; ``pooling: entity_start`` / ``cls_entity`` read the entity markers instead.

Tokenization, entity markers, truncation, decoding and persistence are those of the ``marker``
model (this class subclasses it and replaces only the layers after the encoder).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxConfigError
from relx.models.base import ModelOutput, NeuralREModel, register
from relx.models.marker import MarkerModel
from relx.nn.encoder import DEFAULT_ENCODER, load_encoder, load_tokenizer, resolve_encoder
from relx.nn.heads import pair_representation
from relx.training.losses import inverse_sqrt_weights

POOLINGS = ("cls", "entity_start", "cls_entity")
CLASS_WEIGHTS = ("inverse_sqrt", "none")


@dataclass
class BertExtraConfig:
    encoder: str = DEFAULT_ENCODER
    marker_style: str = "typed_punct"  # plain | typed | punct | typed_punct
    pooling: str = "cls"  # cls (paper) | entity_start | cls_entity
    max_length: int = 128
    n_heads: int = 12  # extra layer's attention heads; must divide the encoder's hidden size
    layer_ffn: int | None = None  # extra layer's feed-forward size (None = 4 x hidden, as in BERT)
    layer_activation: str = "relu"  # relu (torch default) | gelu
    dropout: float = 0.2  # inside the extra layer and before the FFN head
    ffn_hidden: int = 256
    class_weights: str = "inverse_sqrt"  # inverse_sqrt (1/sqrt(N_i)) | none
    label_smoothing: float = 0.0


def pair_label_ids(labels: LabelSet, docs: list[Document]) -> list[int]:
    """Pair-label id of every document (unknown labels count as the negative class, as in featurize)."""
    out = []
    for doc in docs:
        label = labels.pair_label(doc)
        out.append(labels.id(label) if label in labels else 0)
    return out


def class_weight_buffer(mode: str, n_classes: int) -> torch.Tensor:
    """Initial (uniform) class-weight vector; validates the ``class_weights`` option."""
    if mode not in CLASS_WEIGHTS:
        raise RelxConfigError(f"class_weights must be one of {', '.join(CLASS_WEIGHTS)}, got {mode!r}")
    return torch.ones(n_classes)


def fill_class_weights(weights: torch.Tensor, mode: str, labels: LabelSet, train: list[Document]) -> None:
    """Set ``weights`` (C,) in place to 1/sqrt(N_i) of the training labels (mean 1); mode ``none`` leaves it."""
    if mode == "inverse_sqrt":
        weights.copy_(inverse_sqrt_weights(pair_label_ids(labels, train), len(labels)).to(weights.device))


@register("bert_extra")
class BertExtraModel(MarkerModel):
    """Encoder -> extra TransformerEncoderLayer -> pooled vector -> FFN(256, ReLU) -> logits."""

    Config = BertExtraConfig

    def __init__(self, config: BertExtraConfig, labels: LabelSet, encoder: nn.Module | None = None, tokenizer=None):
        NeuralREModel.__init__(self, config, labels)  # MarkerModel's own layers are not built
        if config.pooling not in POOLINGS:
            raise RelxConfigError(f"bert_extra: pooling must be one of {', '.join(POOLINGS)}, got {config.pooling!r}")
        if encoder is None:
            path = resolve_encoder(config.encoder)
            encoder, tokenizer = load_encoder(path), load_tokenizer(path)
        self.encoder, self.tokenizer = encoder, tokenizer
        self.entity_types: list[str] = []
        hidden = encoder.config.hidden_size
        if config.n_heads < 1 or hidden % config.n_heads:
            raise RelxConfigError(
                f"bert_extra: encoder hidden size {hidden} is not divisible by n_heads={config.n_heads}; "
                f"pick a divisor of {hidden} (e.g. {', '.join(str(h) for h in (1, 2, 4, 6, 8, 12, 16) if hidden % h == 0)})"
            )
        self.extra_layer = nn.TransformerEncoderLayer(
            d_model=hidden, nhead=config.n_heads, dim_feedforward=config.layer_ffn or 4 * hidden,
            dropout=config.dropout, activation=config.layer_activation, batch_first=True,
        )
        rep = hidden * {"cls": 1, "entity_start": 2, "cls_entity": 3}[config.pooling]
        self.head = nn.Sequential(
            nn.Dropout(config.dropout), nn.Linear(rep, config.ffn_hidden), nn.ReLU(), nn.Linear(config.ffn_hidden, len(labels))
        )
        self.register_buffer("class_weights", class_weight_buffer(config.class_weights, len(labels)))
        self._add_marker_tokens()

    @classmethod
    def tiny_config(cls, resources: dict | None = None, **overrides) -> BertExtraConfig:
        base = {"max_length": 32, "dropout": 0.0, "n_heads": 2, "ffn_hidden": 32, "layer_ffn": 64}
        if resources and "bert" in resources:
            base["encoder"] = resources["bert"]
        return BertExtraConfig(**{**base, **overrides})

    def prepare(self, train: list[Document]) -> None:
        """Entity types for typed markers, and class weights 1/sqrt(N_i) from the training labels."""
        super().prepare(train)
        fill_class_weights(self.class_weights, self.config.class_weights, self.labels, train)

    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        cfg = self.config
        mask = batch["attention_mask"]  # (B, T)
        states = self.encoder(input_ids=batch["input_ids"], attention_mask=mask).last_hidden_state  # (B, T, H)
        states = self.extra_layer(states, src_key_padding_mask=~mask.bool())  # (B, T, H)
        if cfg.pooling == "cls":
            rep = states[:, 0]  # (B, H)
        else:
            rep = pair_representation(states, batch["e1"], batch["e2"], cfg.pooling == "cls_entity")  # (B, 2H|3H)
        logits = self.head(rep)  # (B, C)
        loss = F.cross_entropy(logits.float(), batch["labels"], weight=self.class_weights, label_smoothing=cfg.label_smoothing)
        return ModelOutput(loss=loss, logits=logits, extras={"loss_re": loss.detach()})
