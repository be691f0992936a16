"""Entity-marker transformer classifier with Multi-Level Distillation (MLD) and Mention-Span Enhancement (MSE).

Method 2 of the hybrid/MLD paper (`hybrid-and-bert-mld-mse_tacred.txt`):

* Markers around subject and object (plain ``[E1]..[/E1]``, typed ``[S:PERSON]..[/S:PERSON]``,
  punctuation ``@ .. @`` / ``# .. #`` or typed punctuation ``@ * person * .. @``); the pair
  representation concatenates the hidden states at the two opening markers (optionally CLS;
  ``pooling: start_mention`` adds the mean state of each mention). ``rdrop`` > 0 adds R-Drop.
* MLD: hidden states of ``mld_layers`` are combined with learned softmax weights (ScalarMix) and the
  main classifier reads the mix. Self-distillation: every lower tapped layer gets its own linear head
  on its own pair representation and is trained to match the main (top) prediction, detached, by
  T^2-scaled KL (``mld_mode: logits``, the Hinton et al. form the paper cites), or to match the top
  layer's pair representation by cosine distance (``mld_mode: hidden``, no extra heads). The
  auxiliary heads and losses are not used at inference.
* MSE: a token-level head predicts the start and end subword of subject and object; cross-entropy
  over positions, added with weight ``mse_weight``.

Tokenization, markers, truncation and persistence: :class:`relx.nn.front_end.MarkerFrontEnd`;
head, loss and decoding: :class:`relx.models.pair.PairClassifier`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.base import register
from relx.models.pair import TransformerPairClassifier
from relx.nn.encoder import DEFAULT_ENCODER
from relx.nn.front_end import FrontEndOutput
from relx.nn.heads import ScalarMix, SpanBoundaryHead, pair_representation
from relx.nn.sequence import masked_mean, span_mask
from relx.training.losses import boundary_ce, kd_kl

MLD_MODES = ("logits", "hidden")
POOLINGS = ("start", "start_mention")


@dataclass
class MarkerConfig:
    encoder: str = DEFAULT_ENCODER
    marker_style: str = "typed_punct"  # plain | typed | punct | typed_punct | none
    use_cls: bool = False
    pooling: str = "start"  # start: states at the two opening markers | start_mention: + mean over each mention's subwords
    max_length: int = 128
    dropout: float = 0.1
    label_smoothing: float = 0.0
    class_weight_power: float = 0.0  # CE weights 1/N_i^power (0 = unweighted)
    mld: bool = False
    mld_layers: list[int] = field(default_factory=lambda: [-3, -2, -1])  # hidden_states indexes (0 = embeddings)
    mld_mode: str = "logits"  # logits (KL to the main prediction) | hidden (cosine to the top layer's representation)
    mld_weight: float = 1.0
    mld_temperature: float = 2.0
    mse: bool = False
    mse_weight: float = 0.5
    rdrop: float = 0.0  # > 0: R-Drop (two dropout passes, symmetric KL with this weight)


@register("marker")
class MarkerModel(TransformerPairClassifier):
    """Entity-marker transformer (BERT-style encoder), optional MLD and MSE auxiliary losses."""

    Config = MarkerConfig

    def __init__(self, config: MarkerConfig, labels: LabelSet, saved: Path | None = None):
        super().__init__(config, labels, saved)
        hidden = self.front_end.hidden_size
        if config.pooling not in POOLINGS:
            raise RelxConfigError(f"marker: pooling must be one of {', '.join(POOLINGS)}, got {config.pooling!r}")
        rep = hidden * (2 + config.use_cls + 2 * (config.pooling == "start_mention"))
        self.init_head(rep, config.dropout)
        self.taps = self.front_end.layer_indexes(config.mld_layers) if config.mld else []
        if config.mld:
            if config.mld_mode not in MLD_MODES or len(self.taps) < 2:
                raise RelxConfigError(
                    f"marker: mld_mode must be one of {', '.join(MLD_MODES)} and mld_layers name >= 2 distinct layers, "
                    f"got {config.mld_mode!r} / {config.mld_layers}"
                )
            self.mix = ScalarMix(len(self.taps))
            if config.mld_mode == "logits":
                self.mld_heads = nn.ModuleList(nn.Linear(rep, len(labels)) for _ in self.taps[:-1])
        if config.mse:
            self.span_head = SpanBoundaryHead(hidden)
        self._encoding: FrontEndOutput | None = None  # the current forward pass's encoding, for the auxiliary losses

    def _rep(self, states: torch.Tensor, enc: FrontEndOutput) -> torch.Tensor:
        rep = pair_representation(states, enc.anchors[:, 0], enc.anchors[:, 1], self.config.use_cls)  # (B, 2H|3H)
        if self.config.pooling == "start_mention":
            mask, b = enc.mask.bool(), enc.bounds  # (B, T), (B, 4) first/last subword of subject and object
            mentions = [masked_mean(states, span_mask(b[:, k], b[:, k + 1] + 1, mask)) for k in (0, 2)]  # (B, H) each
            rep = torch.cat([rep, *mentions], dim=-1)  # (B, R + 2H)
        return rep

    def pair_repr(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        enc = self.front_end(batch, taps=self.config.mld)
        self._encoding = enc
        states = self.mix([enc.layers[i] for i in self.taps]) if self.config.mld else enc.states  # (B, T, H)
        return self._rep(states, enc)

    def auxiliary_losses(self, batch: dict[str, torch.Tensor], logits: torch.Tensor, rep: torch.Tensor) -> dict:
        cfg, enc = self.config, self._encoding
        self._encoding = None
        out = {}
        if cfg.mld and self.training:
            out["loss_mld"] = (cfg.mld_weight, self.mld_loss(enc, logits))
        if cfg.mse and self.training:
            span_logits = self.span_head(enc.states, enc.mask)  # (B, 4, T)
            out["loss_mse"] = (cfg.mse_weight, boundary_ce(span_logits, enc.bounds))
        return out

    def mld_loss(self, enc: FrontEndOutput, logits: torch.Tensor) -> torch.Tensor:
        """Each lower tapped layer imitates the teacher, which is detached (no gradient reaches the main
        classifier or the mix): ``logits`` mode, its own head's prediction vs the main prediction by
        T^2-scaled KL; ``hidden`` mode, its pair representation vs the top tapped layer's by cosine."""
        lower = [self._rep(enc.layers[layer], enc) for layer in self.taps[:-1]]  # each (B, R)
        if self.config.mld_mode == "hidden":
            target = self._rep(enc.layers[self.taps[-1]], enc).detach().float()  # (B, R)
            losses = [(1 - F.cosine_similarity(r.float(), target, dim=-1)).mean() for r in lower]
        else:
            losses = [kd_kl(head(self.head_dropout(r)), logits, self.config.mld_temperature) for head, r in zip(self.mld_heads, lower)]
        return torch.stack(losses).mean()
