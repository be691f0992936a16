"""Entity-marker transformer classifier with Multi-Level Distillation (MLD) and Mention-Span Enhancement (MSE).

Method 2 of the hybrid/MLD paper (`hybrid-and-bert-mld-mse_tacred.txt`):

* Markers around subject and object (plain ``[E1]..[/E1]``, typed ``[S:PERSON]..[/S:PERSON]``,
  punctuation ``@ .. @`` / ``# .. #`` or typed punctuation ``@ * person * .. @``); the pair
  representation concatenates the hidden states at the two opening markers (optionally CLS).
* MLD: hidden states of ``mld_layers`` are combined with learned softmax weights (ScalarMix) and the
  main classifier reads the mix. Self-distillation: every lower tapped layer gets its own linear head
  on its own pair representation and is trained to match the main (top) prediction, detached, by
  T^2-scaled KL (``mld_mode: logits``, the Hinton et al. form the paper cites), or to match the top
  layer's pair representation by cosine distance (``mld_mode: hidden``). The auxiliary heads are
  not used at inference.
* MSE: a token-level head predicts the start and end subword of subject and object; cross-entropy
  over positions, added with weight ``mse_weight``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document, Relation
from relx.errors import RelxInputError
from relx.models.base import ModelOutput, NeuralREModel, register
from relx.nn.encoder import DEFAULT_ENCODER, load_encoder, load_tokenizer, resolve_encoder, save_encoder_files
from relx.nn.heads import ScalarMix, SpanBoundaryHead, pair_representation
from relx.nn.markers import insert_markers, keep_window, marker_words, type_token
from relx.training.losses import boundary_ce, kd_kl


@dataclass
class MarkerConfig:
    encoder: str = DEFAULT_ENCODER
    marker_style: str = "typed_punct"  # plain | typed | punct | typed_punct
    use_cls: bool = False
    max_length: int = 128
    dropout: float = 0.1
    label_smoothing: float = 0.0
    mld: bool = False
    mld_layers: list[int] = field(default_factory=lambda: [-3, -2, -1])  # hidden_states indexes (0 = embeddings)
    mld_mode: str = "logits"  # logits (KL to top prediction) | hidden (cosine to top representation)
    mld_weight: float = 1.0
    mld_temperature: float = 2.0
    mse: bool = False
    mse_weight: float = 0.5


@register("marker")
class MarkerModel(NeuralREModel):
    """Entity-marker transformer (BERT-style encoder), optional MLD and MSE auxiliary losses."""

    Config = MarkerConfig

    def __init__(self, config: MarkerConfig, labels: LabelSet, encoder: nn.Module | None = None, tokenizer=None):
        super().__init__(config, labels)
        if encoder is None:
            path = resolve_encoder(config.encoder)
            encoder, tokenizer = load_encoder(path), load_tokenizer(path)
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.entity_types: list[str] = []
        hidden = encoder.config.hidden_size
        rep = hidden * (3 if config.use_cls else 2)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(rep, len(labels))
        n_layers = encoder.config.num_hidden_layers
        self.taps = sorted({i % (n_layers + 1) for i in config.mld_layers}) if config.mld else []
        if config.mld:
            self.mix = ScalarMix(len(self.taps))
            self.mld_heads = nn.ModuleList(nn.Linear(rep, len(labels)) for _ in self.taps[:-1])
        if config.mse:
            self.span_head = SpanBoundaryHead(hidden)
        self._add_marker_tokens()

    @classmethod
    def tiny_config(cls, resources: dict | None = None, **overrides) -> MarkerConfig:
        base = {"max_length": 32, "dropout": 0.0}
        if resources and "bert" in resources:
            base["encoder"] = resources["bert"]
        return MarkerConfig(**{**base, **overrides})

    # --- markers / vocabulary ---------------------------------------------------
    def prepare(self, train: list[Document]) -> None:
        """Collect entity types for typed markers."""
        types = sorted({e.label for d in train for e in d.entities[:2]} | {"ENTITY", "O"})
        self.entity_types = types
        self._add_marker_tokens()

    def _add_marker_tokens(self) -> None:
        style = self.config.marker_style
        marker_words(style, "S", "X")  # validates the style
        if style == "plain":
            new = ["[E1]", "[/E1]", "[E2]", "[/E2]"]
        elif style == "typed":
            new = [type_token(s, t, c) for t in self.entity_types for s in "SO" for c in (False, True)]
        else:
            return
        missing = [t for t in new if t not in self.tokenizer.get_vocab()]
        if missing:
            self.tokenizer.add_tokens(missing, special_tokens=True)
            self.encoder.resize_token_embeddings(len(self.tokenizer), mean_resizing=True)

    def _types(self, doc: Document) -> tuple[str, str]:
        if self.config.marker_style != "typed":
            return doc.entities[0].label, doc.entities[1].label
        known = set(self.entity_types)
        return tuple(e.label if e.label in known else "ENTITY" for e in doc.entities[:2])  # type: ignore[return-value]

    # --- features ---------------------------------------------------------------
    def featurize(self, doc: Document) -> dict:
        """Marked subword ids, anchor positions, subject/object boundary positions and the gold label id."""
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
        # anchors, closing markers and entity boundaries always stay; then the nearest context
        must = [first[marked.anchors[0]], first[marked.anchors[1]], first[s1], first[o1], first[s0], last[s1 - 1], first[o0], last[o1 - 1]]
        keep = keep_window(len(ids), must, self.config.max_length - 2)
        new_pos = {old: i + 1 for i, old in enumerate(keep)}  # +1 for [CLS]

        def moved(old: int) -> int:  # nearest kept position
            return new_pos[min(keep, key=lambda k: abs(k - old))]

        bounds = [moved(first[s0]), moved(last[s1 - 1]), moved(first[o0]), moved(last[o1 - 1])]
        label = self.labels.pair_label(doc)
        return {
            "input_ids": [self.tokenizer.cls_token_id] + [ids[k] for k in keep] + [self.tokenizer.sep_token_id],
            "e1": moved(first[marked.anchors[0]]),
            "e2": moved(first[marked.anchors[1]]),
            "bounds": bounds,
            "label": self.labels.id(label) if label in self.labels else 0,
        }

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in feats)
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.full((len(feats), width), pad, dtype=torch.long)
        mask = torch.zeros((len(feats), width), dtype=torch.long)
        for i, f in enumerate(feats):
            ids[i, : len(f["input_ids"])] = torch.tensor(f["input_ids"])
            mask[i, : len(f["input_ids"])] = 1
        return {
            "input_ids": ids,  # (B, T)
            "attention_mask": mask,  # (B, T)
            "e1": torch.tensor([f["e1"] for f in feats]),  # (B,)
            "e2": torch.tensor([f["e2"] for f in feats]),  # (B,)
            "bounds": torch.tensor([f["bounds"] for f in feats]),  # (B, 4)
            "labels": torch.tensor([f["label"] for f in feats]),  # (B,)
        }

    # --- model ------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        cfg = self.config
        out = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=cfg.mld)
        top = out.last_hidden_state  # (B, T, H)
        states = self.mix([out.hidden_states[i] for i in self.taps]) if cfg.mld else top  # (B, T, H)
        rep = pair_representation(states, batch["e1"], batch["e2"], cfg.use_cls)  # (B, 2H|3H)
        logits = self.classifier(self.dropout(rep))  # (B, C)
        labels = batch["labels"]
        loss_re = F.cross_entropy(logits.float(), labels, label_smoothing=cfg.label_smoothing)
        extras = {"loss_re": loss_re.detach()}
        loss = loss_re
        if cfg.mld:
            loss_mld = self._mld_loss(out.hidden_states, batch, logits, rep)
            extras["loss_mld"] = loss_mld.detach()
            loss = loss + cfg.mld_weight * loss_mld
        if cfg.mse:
            span_logits = self.span_head(top, batch["attention_mask"])  # (B, 4, T)
            loss_mse = boundary_ce(span_logits, batch["bounds"])
            extras["loss_mse"] = loss_mse.detach()
            loss = loss + cfg.mse_weight * loss_mse
        return ModelOutput(loss=loss, logits=logits, extras=extras)

    def _mld_loss(self, hidden_states: tuple, batch: dict, top_logits: torch.Tensor, top_rep: torch.Tensor) -> torch.Tensor:
        """Lower tapped layers imitate the top prediction (KL) or representation (cosine)."""
        losses = []
        for head, layer in zip(self.mld_heads, self.taps[:-1]):
            rep_l = pair_representation(hidden_states[layer], batch["e1"], batch["e2"], self.config.use_cls)  # (B, R)
            if self.config.mld_mode == "hidden":
                losses.append((1 - F.cosine_similarity(rep_l.float(), top_rep.detach().float(), dim=-1)).mean())
            else:
                losses.append(kd_kl(head(self.dropout(rep_l)), top_logits, self.config.mld_temperature))
        return torch.stack(losses).mean()

    def decode(self, batch: dict[str, torch.Tensor], out: ModelOutput) -> tuple[list[list[Relation]], list[dict]]:
        probs = torch.softmax(out.logits.float(), dim=-1)  # (B, C)
        score, idx = probs.max(-1)
        rels, metas = [], []
        for s, i in zip(score.tolist(), idx.tolist()):
            label = self.labels.label(i)
            rel = self.labels.to_relation(label, 0, 1, score=s)
            rels.append([rel] if rel else [])
            metas.append({"pair_label": label, "pair_score": s})
        return rels, metas

    # --- persistence ------------------------------------------------------------
    def state_json(self) -> dict:
        return {"entity_types": self.entity_types}

    def save_weights(self, directory: Path) -> None:
        super().save_weights(directory)
        save_encoder_files(self.encoder, self.tokenizer, directory)

    @classmethod
    def from_saved(cls, directory: Path, config: MarkerConfig, labels: LabelSet, state: dict) -> MarkerModel:
        sub = directory / "encoder"
        model = cls(config, labels, encoder=load_encoder(sub, pretrained=False), tokenizer=load_tokenizer(sub))
        model.entity_types = list(state.get("entity_types", []))
        model._add_marker_tokens()
        model.load_weights(directory)
        return model
