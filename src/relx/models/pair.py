"""PairClassifier: the base of every sentence-level (subject, object) neural classifier.

A subclass gives ``pair_features(doc)`` (its inputs for one document), ``collate_pair(feats)``,
``pair_repr(batch) -> (B, R)`` and calls :meth:`init_head` once R is known. The base owns the two-entity
check, the gold label id, dropout + the output layer, class weights (``class_weight_power``: 0 none,
0.5 = 1/sqrt(N_i), 1 = 1/N_i), label smoothing, the loss, auxiliary losses and ``decode``.
Models whose layers depend on the training data build them in ``prepare`` and in ``load_state_json``
(so the saved JSON state rebuilds the same layers before the weights are loaded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxConfigError, RelxInputError
from relx.models.base import Decoded, ModelKind, ModelOutput, pair_prediction
from relx.models.neural import NeuralREModel
from relx.models.transformer import HFEncoderOwner
from relx.nn.front_end import MarkerFrontEnd
from relx.training.losses import class_weights

HOW_TO_MARK = "mark them inline as <e1>..</e1> and <e2>..</e2>, or list exactly two entities in the JSONL record"


def entity_count_problem(doc: Document) -> str | None:
    """Why a pair model cannot take ``doc`` (it needs exactly two entities: entities[0] = subject/e1,
    entities[1] = object/e2), or None."""
    n = len(doc.entities)
    if n < 2:
        return (
            f"document {doc.id!r} has {n} {'entity' if n == 1 else 'entities'}, but a pair model needs exactly two (e1, e2): {HOW_TO_MARK}"
        )
    if n > 2:
        return (
            f"document {doc.id!r} has {n} entities, but a pair model classifies exactly one pair (e1, e2): write one document per "
            f"entity pair (`relx data pairs`), pass raw text to extract every pair, or use a joint model (span_base, two_phase); {HOW_TO_MARK}"
        )
    return None


def check_pair_document(doc: Document) -> None:
    """RelxInputError unless ``doc`` has exactly two entities with spans inside the sentence."""
    problem = entity_count_problem(doc)
    if problem is not None:
        raise RelxInputError(problem)
    for k, e in enumerate(doc.entities):
        if not 0 <= e.start < e.end <= len(doc.tokens):
            raise RelxInputError(
                f"document {doc.id!r}: entity {k} span [{e.start}, {e.end}) is outside the sentence of {len(doc.tokens)} tokens"
            )


class PairClassifier(NeuralREModel):
    """Subclass gives pair_features / collate_pair / pair_repr; the base owns head, loss, weights and decoding."""

    kind = ModelKind.PAIR
    built_from_data: ClassVar[bool] = False  # True: layers are sized by prepare(train) / load_state_json

    def __init__(self, config: Any, labels: LabelSet):
        super().__init__(config, labels)
        power = getattr(config, "class_weight_power", 0.0)
        if isinstance(power, bool) or not isinstance(power, (int, float)) or power < 0:
            raise RelxConfigError(
                f"{self.registered_name}: class_weight_power must be a number >= 0 (0 none, 0.5 = 1/sqrt(N_i), 1 = 1/N_i), got {power!r}"
            )
        self.register_buffer("class_weights", torch.ones(len(labels)))  # (C,)
        self.built = not self.built_from_data

    def init_head(self, rep_dim: int, dropout: float) -> None:
        """Dropout + linear output layer over the (B, rep_dim) pair representation."""
        self.head_dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(rep_dim, len(self.labels))

    # --- subclass API --------------------------------------------------------------------
    def pair_features(self, doc: Document) -> dict:
        raise NotImplementedError

    def collate_pair(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def pair_repr(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, R) representation of each (subject, object) pair."""
        raise NotImplementedError

    def auxiliary_losses(
        self, batch: dict[str, torch.Tensor], logits: torch.Tensor, rep: torch.Tensor
    ) -> dict[str, tuple[float, torch.Tensor]]:
        """Extra named losses as (weight, loss); computed after ``pair_repr`` in the same forward pass."""
        return {}

    # --- shared behaviour ----------------------------------------------------------------
    def prepare(self, train: list[Document]) -> None:
        """Class weights from the training pair labels (``class_weight_power``)."""
        power = float(getattr(self.config, "class_weight_power", 0.0) or 0.0)
        self.class_weights.copy_(class_weights([self.labels.pair_id(d) for d in train], len(self.labels), power))

    def featurize(self, doc: Document) -> dict:
        if not self.built:
            raise RelxInputError(f"{self.registered_name}: call prepare(train) (or load a saved model) before featurize")
        check_pair_document(doc)
        return {**self.pair_features(doc), "label": self.labels.pair_id(doc)}

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        return {**self.collate_pair(feats), "labels": torch.tensor([f["label"] for f in feats])}  # labels (B,)

    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        rep = self.pair_repr(batch)  # (B, R)
        logits = self.classifier(self.head_dropout(rep))  # (B, C)
        loss_re = self._ce(logits, batch["labels"])
        extras: dict[str, torch.Tensor] = {}
        rdrop = float(getattr(self.config, "rdrop", 0.0) or 0.0)
        if rdrop and self.training:  # R-Drop: a second pass with other dropout masks, symmetric KL between the two
            logits2 = self.classifier(self.head_dropout(self.pair_repr(batch)))  # (B, C)
            loss_re = (loss_re + self._ce(logits2, batch["labels"])) / 2
            p, q = F.log_softmax(logits.float(), -1), F.log_softmax(logits2.float(), -1)  # (B, C) each
            kl = (F.kl_div(p, q, log_target=True, reduction="batchmean") + F.kl_div(q, p, log_target=True, reduction="batchmean")) / 2
            extras["loss_rdrop"], loss_re = kl.detach(), loss_re + rdrop * kl
        extras["loss_re"], loss = loss_re.detach(), loss_re
        for name, (weight, aux) in self.auxiliary_losses(batch, logits, rep).items():
            extras[name] = aux.detach()
            loss = loss + weight * aux
        return ModelOutput(loss=loss, logits=logits, extras=extras)

    def _ce(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        smoothing = float(getattr(self.config, "label_smoothing", 0.0) or 0.0)
        return F.cross_entropy(logits.float(), labels, weight=self.class_weights, label_smoothing=smoothing)

    def decode(self, batch: dict[str, torch.Tensor], out: ModelOutput) -> list[Decoded]:
        """The most probable pair label of each document (its relation, unless negative) and its probability."""
        probs = torch.softmax(out.logits.float(), dim=-1)  # (B, C)
        score, idx = probs.max(-1)
        return [pair_prediction(self.labels, self.labels.label(i), s) for s, i in zip(score.tolist(), idx.tolist())]

    @property
    def device(self) -> torch.device:
        return self.class_weights.device


class TransformerPairClassifier(HFEncoderOwner, PairClassifier):
    """A PairClassifier whose front end is a :class:`MarkerFrontEnd` (``self.front_end``, holding the
    Hugging Face encoder as ``self.front_end.encoder``; weights saved before it was named ``front_end``
    still load, see ``renamed_weights``).

    Subclasses implement ``make_front_end(saved)`` (pretrained from ``config.encoder`` when ``saved`` is
    None, else untrained from a saved ``encoder/`` folder) and ``pair_repr``.
    """

    pretrained_prefix = "front_end."
    renamed_weights = {"encoder.": "front_end."}

    def __init__(self, config: Any, labels: LabelSet, saved: Path | None = None):
        super().__init__(config, labels)
        self.front_end: MarkerFrontEnd = self.make_front_end(saved)

    def make_front_end(self, saved: Path | None) -> MarkerFrontEnd:
        return MarkerFrontEnd.bert(self.config.encoder, self.config.marker_style, self.config.max_length, saved)

    def prepare(self, train: list[Document]) -> None:
        """Entity types for typed markers, then class weights."""
        self.front_end.set_entity_types(train)
        super().prepare(train)

    def pair_features(self, doc: Document) -> dict:
        return self.front_end.featurize(doc)

    def featurize_many(self, docs: list[Document]) -> list[dict]:
        """Checked documents -> features, tokenized in one batched call."""
        for doc in docs:
            check_pair_document(doc)
        return [{**f, "label": self.labels.pair_id(d)} for f, d in zip(self.front_end.featurize_many(docs), docs)]

    def collate_pair(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        return self.front_end.collate(feats)

    def state_json(self) -> dict:
        return self.front_end.state_json()

    def load_state_json(self, state: dict) -> None:
        self.front_end.load_state(state)

    def hf_encoder(self) -> tuple[Any, Any]:
        return self.front_end.encoder, self.front_end.tokenizer
