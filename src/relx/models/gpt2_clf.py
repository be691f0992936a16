"""GPT-2 sequence classifier (decoder-only; the GPT-2 system of ``lstm-bert-gpt2-svm_tacred.txt``).

The sentence with entity markers (added to the vocabulary as new special tokens by default, and the
embedding matrix resized) runs through a local GPT-2; as the model attends only to the left, the
pair is represented by the hidden state of the last non-padding token (an end-of-text token is
appended by default, so that position is always the same token). Dropout and one linear layer give
the logits; the loss can be weighted by 1/sqrt(N_i) as in the paper.

relx ships no GPT-2 weights and never downloads: ``encoder`` must name a local directory with a
GPT-2 ``config.json`` (``model_type: gpt2``), the tokenizer files and the weights. Decoding and
persistence are those of the ``marker`` model, which this class subclasses.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxConfigError, RelxInputError
from relx.models.base import ModelOutput, NeuralREModel, register
from relx.models.bert_extra import class_weight_buffer, fill_class_weights
from relx.models.marker import MarkerModel
from relx.nn.encoder import load_encoder
from relx.nn.heads import gather_positions
from relx.nn.markers import insert_markers, keep_window

GPT2_TYPES = ("gpt2",)


@dataclass
class GPT2ClfConfig:
    encoder: str = ""  # local GPT-2 directory (required; none ships with relx)
    marker_style: str = "plain"  # plain / typed: new special tokens; punct / typed_punct: existing words
    max_length: int = 128
    append_eos: bool = True  # end every input with the end-of-text token, whose state is classified
    dropout: float = 0.1
    class_weights: str = "inverse_sqrt"  # inverse_sqrt (1/sqrt(N_i)) | none
    label_smoothing: float = 0.0


def resolve_gpt2(name: str) -> Path:
    """The local GPT-2 directory named by ``encoder``, or a RelxConfigError saying how to supply one."""
    how = ("relx ships no GPT-2 weights and never downloads: set model.encoder to a local directory holding a GPT-2 "
           "config.json (model_type gpt2), its tokenizer files and weights (e.g. a copy of openai-community/gpt2)")
    if not name:
        raise RelxConfigError(f"gpt2_clf: model.encoder is not set; {how}")
    path = Path(os.path.expanduser(name))
    if not (path / "config.json").is_file():
        raise RelxConfigError(f"gpt2_clf: encoder {name!r} is not a local model directory (no config.json there); {how}")
    model_type = json.loads((path / "config.json").read_text(encoding="utf-8")).get("model_type")
    if model_type not in GPT2_TYPES:
        raise RelxConfigError(f"gpt2_clf: encoder {name!r} is a {model_type!r} model, not GPT-2; {how}")
    return path


def load_gpt2_tokenizer(path: str | Path) -> Any:
    """Fast byte-level BPE tokenizer that accepts pre-split words; pad = end-of-text when missing."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True, add_prefix_space=True)
    except (OSError, ValueError) as exc:
        raise RelxConfigError(f"gpt2_clf: no usable tokenizer files in {path} ({exc})") from None
    if tok.eos_token is None:
        raise RelxConfigError(f"gpt2_clf: the tokenizer in {path} has no end-of-text (eos) token")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    return tok


def last_token_index(mask: torch.Tensor) -> torch.Tensor:
    """Position of the last non-padding token per row: mask (B, T) -> (B,). Works for either padding side."""
    return mask.long().cumsum(1).argmax(1)  # first position where the running count reaches its maximum


@register("gpt2_clf")
class GPT2ClfModel(MarkerModel):
    """Local GPT-2 -> state of the last non-pad token -> dropout -> linear -> logits."""

    Config = GPT2ClfConfig

    def __init__(self, config: GPT2ClfConfig, labels: LabelSet, encoder: nn.Module | None = None, tokenizer=None):
        NeuralREModel.__init__(self, config, labels)  # MarkerModel's own layers are not built
        if encoder is None:
            path = resolve_gpt2(config.encoder)
            tokenizer = load_gpt2_tokenizer(path)
            try:
                encoder = load_encoder(path)
            except OSError as exc:
                raise RelxConfigError(f"gpt2_clf: cannot load GPT-2 weights from {path} ({exc})") from None
        self.encoder, self.tokenizer = encoder, tokenizer
        self.entity_types: list[str] = []
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, len(labels))
        self.register_buffer("class_weights", class_weight_buffer(config.class_weights, len(labels)))
        self._add_marker_tokens()

    @classmethod
    def tiny_config(cls, resources: dict | None = None, **overrides) -> GPT2ClfConfig:
        base: dict[str, Any] = {"max_length": 32, "dropout": 0.0}
        if resources and "gpt2" in resources:
            base["encoder"] = resources["gpt2"]
        return GPT2ClfConfig(**{**base, **overrides})

    def prepare(self, train: list[Document]) -> None:
        """Entity types for typed markers, and class weights 1/sqrt(N_i) from the training labels."""
        super().prepare(train)
        fill_class_weights(self.class_weights, self.config.class_weights, self.labels, train)

    def featurize(self, doc: Document) -> dict:
        """Marked BPE ids (truncated around the markers, end-of-text appended) and the gold label id."""
        if len(doc.entities) < 2:
            raise RelxInputError(f"document {doc.id!r} needs two entities (subject, object) for pair classification")
        marked = insert_markers(doc, self.config.marker_style, self._types(doc))
        enc = self.tokenizer(marked.words, is_split_into_words=True, add_special_tokens=False)
        ids, word_ids = enc["input_ids"], enc.word_ids()
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for pos, w in enumerate(word_ids):
            first.setdefault(w, pos)
            last[w] = pos
        (s0, s1), (o0, o1) = marked.spans
        must = [first[marked.anchors[0]], first[marked.anchors[1]], first[s1], first[o1], first[s0], last[s1 - 1], first[o0], last[o1 - 1]]
        eos = [self.tokenizer.eos_token_id] if self.config.append_eos else []
        keep = keep_window(len(ids), must, self.config.max_length - len(eos))
        label = self.labels.pair_label(doc)
        return {"input_ids": [ids[k] for k in keep] + eos, "label": self.labels.id(label) if label in self.labels else 0}

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in feats)
        ids = torch.full((len(feats), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(feats), width), dtype=torch.long)
        for i, f in enumerate(feats):  # right padding
            ids[i, : len(f["input_ids"])] = torch.tensor(f["input_ids"])
            mask[i, : len(f["input_ids"])] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": torch.tensor([f["label"] for f in feats])}  # (B, T) (B, T) (B,)

    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        mask = batch["attention_mask"]  # (B, T)
        states = self.encoder(input_ids=batch["input_ids"], attention_mask=mask).last_hidden_state  # (B, T, H)
        rep = gather_positions(states, last_token_index(mask))  # (B, H)
        logits = self.classifier(self.dropout(rep))  # (B, C)
        loss = F.cross_entropy(logits.float(), batch["labels"], weight=self.class_weights, label_smoothing=self.config.label_smoothing)
        return ModelOutput(loss=loss, logits=logits, extras={"loss_re": loss.detach()})

    @classmethod
    def from_saved(cls, directory: Path, config: GPT2ClfConfig, labels: LabelSet, state: dict) -> GPT2ClfModel:
        sub = directory / "encoder"
        model = cls(config, labels, encoder=load_encoder(sub, pretrained=False), tokenizer=load_gpt2_tokenizer(sub))
        model.entity_types = list(state.get("entity_types", []))
        model._add_marker_tokens()
        model.load_weights(directory)
        return model
