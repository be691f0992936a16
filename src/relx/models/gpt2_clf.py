"""GPT-2 sequence classifier (decoder-only; the GPT-2 system of ``lstm-bert-gpt2-svm_tacred.txt``).

The sentence with entity markers (added to the vocabulary as new special tokens by default, and the
embedding matrix resized) runs through a local GPT-2; as the model attends only to the left, the
pair is represented by the hidden state of the last non-padding token (an end-of-text token is
appended by default, so that position is always the same token). Dropout and one linear layer give
the logits; the loss can be weighted by 1/sqrt(N_i) as in the paper.

relx ships no GPT-2 weights and never downloads: ``encoder`` must name a local directory with a
GPT-2 ``config.json`` (``model_type: gpt2``), the tokenizer files and the weights. Decoding and
persistence come from :class:`relx.models.pair.TransformerPairClassifier` (a
:class:`relx.nn.front_end.MarkerFrontEnd` with no prefix token and the end-of-text suffix).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.base import register
from relx.models.pair import TransformerPairClassifier
from relx.models.persistence import read_json_file
from relx.nn.encoder import check_encoder_dir, containment_root, load_gpt2_tokenizer, load_hf_encoder
from relx.nn.front_end import MarkerFrontEnd
from relx.nn.heads import gather_positions

GPT2_TYPES = ("gpt2",)


@dataclass
class GPT2ClfConfig:
    encoder: str = ""  # local GPT-2 directory (required; none ships with relx)
    marker_style: str = "plain"  # plain / typed: new special tokens; punct / typed_punct: existing words; none
    max_length: int = 128
    append_eos: bool = True  # end every input with the end-of-text token, whose state is classified
    dropout: float = 0.1
    class_weight_power: float = 0.5  # CE weights 1/N_i^power (0.5 = the paper's 1/sqrt(N_i); 0 = unweighted)
    label_smoothing: float = 0.0


def resolve_gpt2(name: str) -> Path:
    """The local GPT-2 directory named by ``encoder``, or a RelxConfigError saying how to supply one."""
    how = (
        "relx ships no GPT-2 weights and never downloads: set model.encoder to a local directory holding a GPT-2 "
        "config.json (model_type gpt2), its tokenizer files and weights (e.g. a copy of openai-community/gpt2)"
    )
    if not name:
        raise RelxConfigError(f"gpt2_clf: model.encoder is not set; {how}")
    path = Path(os.path.expanduser(name))
    if not (path / "config.json").is_file():
        raise RelxConfigError(f"gpt2_clf: encoder {name!r} is not a local model directory (no config.json there); {how}")
    check_encoder_dir(path)
    config = read_json_file(path / "config.json", containment_root(path))
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type not in GPT2_TYPES:
        raise RelxConfigError(f"gpt2_clf: encoder {name!r} is a {model_type!r} model, not GPT-2; {how}")
    return path


def last_token_index(mask: torch.Tensor) -> torch.Tensor:
    """Position of the last non-padding token per row: mask (B, T) -> (B,). Works for either padding side."""
    return mask.long().cumsum(1).argmax(1)  # first position where the running count reaches its maximum


@register("gpt2_clf")
class GPT2ClfModel(TransformerPairClassifier):
    """Local GPT-2 -> state of the last non-pad token -> dropout -> linear -> logits."""

    Config = GPT2ClfConfig

    def __init__(self, config: GPT2ClfConfig, labels: LabelSet, saved: Path | None = None):
        super().__init__(config, labels, saved)
        self.init_head(self.front_end.hidden_size, config.dropout)

    def make_front_end(self, saved: Path | None) -> MarkerFrontEnd:
        cfg = self.config
        try:
            model, tok = load_hf_encoder(cfg.encoder, saved, resolve=resolve_gpt2, tokenizer=load_gpt2_tokenizer)
        except OSError as exc:
            raise RelxConfigError(
                f"gpt2_clf: cannot load GPT-2 weights from {saved or Path(os.path.expanduser(cfg.encoder))} ({exc})"
            ) from None
        return MarkerFrontEnd(
            model, tok, cfg.marker_style, cfg.max_length, [], [tok.eos_token_id] if cfg.append_eos else [], tok.pad_token_id
        )

    def pair_repr(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        enc = self.front_end(batch)
        return gather_positions(enc.states, last_token_index(enc.mask))  # (B, H)
