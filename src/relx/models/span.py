"""Span-based joint entity and relation extraction: the shared model behind ``span_base`` and ``two_phase``.

Paper: ``two-phase-span-joint-extraction.txt`` (Ji et al.); its ``base`` row is SpERT (Eberts & Ulges
2020). Every switch of the paper's Table 7 is a config flag; ``span_base`` turns them all off. Spans of
1..``max_span_width`` words are max-pooled and fused with CLS and width (Eq. 1-5); relation tuples are
ordered entity pairs [head; tail; context] (+ global features D and C). ``two_phase``: binary Phase One
(Eq. 6, 10, 11) then typing (Eq. 12-15), loss Eq. 16; otherwise SpERT's softmax / per-type sigmoid heads.
Training samples negatives as SpERT does; inference pairs the ``max_entities`` best predicted entities.
The equations and switches are walked through in docs/models/two-phase.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from relx.data.labels import LabelSet, relation_type
from relx.data.schema import Document
from relx.errors import RelxConfigError
from relx.models.base import Decoded, ModelKind, ModelOutput
from relx.models.span_decode import decode_spans, windowed_predict
from relx.models.span_features import SpanFeatures
from relx.models.transformer import TransformerModel
from relx.nn.encoder import DEFAULT_ENCODER
from relx.nn.span_rules import RELATION_RULES, phase_one_keep, reverse_of_symmetric, signature_mask, signature_table
from relx.nn.spans import (
    Fusion,
    SampleCounts,
    compact,
    context_max_pool,
    enumerate_spans,
    feature_embedding,
    gather_rows,
    pool_words,
    sample_mask,
    span_distance,
    span_max_pool,
)
from relx.training.config import FitContext
from relx.training.losses import binary_loss


@dataclass
class SpanConfig:
    encoder: str = DEFAULT_ENCODER
    max_length: int = 512  # sub-tokens incl. [CLS]/[SEP]; words past it are not predicted
    max_span_width: int = 10  # epsilon (Eq. 1)
    max_distance: int = 10  # entity distances are clipped here (the paper's Delta = {0..10})
    feature_dim: int = 25  # width / distance / global-feature embedding size when not gated (gated: hidden size)
    neg_entity_count: int = 100
    neg_relation_count: int = 100
    rel_threshold: float = 0.4  # single-phase sigmoid threshold (SpERT)
    max_entities: int = 64  # relation candidates come from at most this many predicted entities per sentence
    dropout: float = 0.1
    two_phase: bool = True
    bi_features: bool = True  # Phase One distance embedding D (needs two_phase)
    multi_features: bool = True  # (head type, tail type, distance) embedding C in relation typing
    gated: bool = True  # Eq. 5 gated fusion; False = concatenation
    slot_norm: bool = False  # LayerNorm on each relation-tuple slot (head, tail, context, D) before fusing (relx option)
    relation_rule: str = "binary"  # two_phase Phase One: binary | threshold | product (relx.nn.span_rules)
    relation_threshold: float = 0.5  # for relation_rule threshold / product
    type_signature: bool = (
        True  # drop relation types whose (head type, tail type) never occurs in training (dev: +1.0 two_phase, +0.7 span_base)
    )
    entities: str = "predicted"  # predicted | given: relations between each document's own entities (gold-entity decoding)
    symmetric_negatives: bool = False  # True: sample the reverse of a symmetric gold relation as a negative (SpERT does not)
    overlapping_entities: bool = False  # False: decode non-overlapping entities, the higher score first
    # relx variants of two_phase (design checks, not in the paper):
    relation_reject: bool = False  # Phase Two types with a Not-Relation class, trained on every sampled tuple, and may reject
    phase_one_types: bool = False  # Phase One reads the typing input (with C: head type, tail type, distance); needs multi_features


class SpanJointModel(SpanFeatures, SampleCounts, TransformerModel):
    """Joint NER + RE over enumerated spans (see the module docstring). Predicts entities too."""

    Config = SpanConfig
    kind = ModelKind.JOINT

    def __init__(self, config: SpanConfig, labels: LabelSet, saved: Path | None = None):
        super().__init__(config, labels, saved)
        if config.max_span_width < 1 or config.max_distance < 0:
            raise RelxConfigError(f"{self.registered_name}: max_span_width must be >= 1 and max_distance >= 0")
        self.relation_types = sorted({relation_type(lab) for lab in labels.labels if lab != labels.negative})
        self.entity_types: list[str] = []
        self.signatures: list[list[str]] = []  # (head type, relation type, tail type) seen in training
        self.symmetric: list[str] = []  # symmetric relation types (training only: from the trainer config)
        if config.entities not in ("predicted", "given"):
            raise RelxConfigError(f"{self.registered_name}: entities must be predicted or given, got {config.entities!r}")
        if config.relation_rule not in RELATION_RULES:
            raise RelxConfigError(f"{self.registered_name}: relation_rule must be one of {', '.join(RELATION_RULES)}")
        if config.phase_one_types and not (config.two_phase and config.multi_features):
            raise RelxConfigError(f"{self.registered_name}: phase_one_types needs two_phase and multi_features")
        if config.relation_reject and not config.two_phase:
            raise RelxConfigError(f"{self.registered_name}: relation_reject is a Phase Two setting; it needs two_phase")
        h = self.encoder.config.hidden_size
        f = h if config.gated else config.feature_dim
        self.hidden, self.fdim = h, f
        self.feature_std = getattr(self.encoder.config, "initializer_range", 0.02) if config.gated else None  # see feature_embedding
        self.width = feature_embedding(config.max_span_width + 1, f, self.feature_std)
        self.distance = feature_embedding(config.max_distance + 1, f, self.feature_std)
        self.drop = nn.Dropout(config.dropout)
        self.span_fuse = Fusion([h, h, f], config.gated)  # [pooled span; CLS; width]
        e = self.span_fuse.out_dim
        bi = config.two_phase and config.bi_features
        self.tuple_fuse = Fusion(
            [e, e, h] + ([f] if bi else []), config.gated, ordered=True, slot_norm=config.slot_norm
        )  # [head; tail; context; (D)]
        self.built = False

    # --- data-dependent layers ---------------------------------------------------------------
    def _build(self) -> None:
        cfg, n_types, n_rel = self.config, len(self.entity_types), len(self.relation_types)
        e, r = self.span_fuse.out_dim, self.tuple_fuse.out_dim
        if cfg.two_phase:
            self.entity_binary = nn.Linear(e, 2)  # Eq. 6: Entity / Not-Entity
            self.entity_typer = nn.Linear(e, n_types)  # Eq. 12
        else:
            self.entity_typer = nn.Linear(e, n_types + 1)  # type 0 = Not-Entity
        r_binary = r
        if cfg.multi_features:
            self.global_feature = feature_embedding(
                n_types * n_types * (cfg.max_distance + 1), r if cfg.gated else self.fdim, self.feature_std
            )
            self.type_fuse = Fusion([r, self.global_feature.embedding_dim], cfg.gated)  # [R_r; C_r]
            r = self.type_fuse.out_dim
        if cfg.two_phase:
            self.relation_binary = nn.Linear(r if cfg.phase_one_types else r_binary, 2)  # Eq. 10
        # Eq. 14 (softmax; column 0 = Not-Relation with relation_reject) or per-type sigmoid (single phase)
        self.relation_typer = nn.Linear(r, n_rel + int(cfg.two_phase and cfg.relation_reject))
        table = signature_table(map(tuple, self.signatures), self.entity_types, self.relation_types)
        self.register_buffer("signature", torch.tensor(table, dtype=torch.bool).view(n_types, n_types, n_rel), persistent=False)
        self.built = True
        self.to(self.encoder.device)

    def prepare(self, train: list[Document]) -> None:
        self.entity_types = sorted({e.label for d in train for e in d.entities})
        if not self.entity_types:
            raise RelxConfigError(
                f"{self.registered_name}: the training data has no entities; a joint model learns them from gold entities"
            )
        seen = {(d.entities[r.head].label, relation_type(r.label), d.entities[r.tail].label) for d in train for r in d.relations}
        self.signatures = [list(x) for x in sorted(seen)]
        self._build()

    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        self.symmetric = list(ctx.trainer.symmetric)  # negative sampling (SpERT: never the reverse of a symmetric relation)
        return super().fit_context(train, dev, ctx)

    def state_json(self) -> dict:
        return {"entity_types": self.entity_types, "signatures": [list(x) for x in self.signatures]}

    def load_state_json(self, state: dict) -> None:
        self.entity_types = list(state.get("entity_types", []))
        self.signatures = [list(x) for x in state.get("signatures", [])]  # absent in older models: type_signature needs it
        self._build()

    # --- representations ---------------------------------------------------------------------
    def encode(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Word states, the CLS state and the fused representation of every enumerated span."""
        cfg = self.config
        states = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state  # (B, T, H)
        w = int(batch["max_words"])
        words = self.drop(pool_words(states, batch["word_lo"][:, :w], batch["word_hi"][:, :w]))  # (B, W, H)
        cls = self.drop(states[:, 0])  # (B, H)
        starts, ends, valid = enumerate_spans(batch["n_words"], cfg.max_span_width, w)  # (S,), (S,), (B, S)
        pooled = span_max_pool(words, cfg.max_span_width)  # (B, S, H)
        width = self.width(ends - starts).unsqueeze(0).expand(len(words), -1, -1)  # (B, S, F)
        spans = self.span_fuse([pooled, cls.unsqueeze(1).expand_as(pooled), width])  # (B, S, E)
        return {"words": words, "spans": spans, "valid": valid, "bounds": torch.stack([starts, ends], dim=-1), "w": torch.tensor(w)}

    def span_index(self, bounds: torch.Tensor, w: int) -> torch.Tensor:
        """Enumeration index of spans given as (..., 2) [start, end)."""
        return (bounds[..., 1] - bounds[..., 0] - 1) * w + bounds[..., 0]

    def tuples(
        self, enc: dict, ent_rep: torch.Tensor, ent_bounds: torch.Tensor, ent_type: torch.Tensor, head: torch.Tensor, tail: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Relation tuple representations (Phase One input R_rb) and typing inputs (R'_r) for pairs.

        ent_rep (B, E, D), ent_bounds (B, E, 2), ent_type (B, E); head/tail (B, P) entity indexes.
        """
        cfg = self.config
        pick = gather_rows
        hb, tb = pick(ent_bounds, head), pick(ent_bounds, tail)  # (B, P, 2)
        ctx = context_max_pool(enc["words"], hb, tb)  # (B, P, H); padded words are 0 and never between
        dist = span_distance(hb, tb, cfg.max_distance)  # (B, P)
        parts = [pick(ent_rep, head), pick(ent_rep, tail), ctx]
        if cfg.two_phase and cfg.bi_features:
            parts.append(self.distance(dist))  # binary global feature D (Phase One)
        rb = self.drop(self.tuple_fuse(parts))  # (B, P, R)
        typed = rb
        if cfg.multi_features:
            n = len(self.entity_types)
            entry = (pick(ent_type, head) * n + pick(ent_type, tail)) * (cfg.max_distance + 1) + dist  # (B, P)
            typed = self.type_fuse([rb, self.global_feature(entry)])  # multi-class global feature C
        return rb, typed

    # --- forward -----------------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        if not self.built:
            raise RelxConfigError(f"{self.registered_name}: call prepare(train) (or restore a saved model) before forward")
        enc = self.encode(batch)
        return self.training_losses(batch, enc) if self.training else self.inference(batch, enc)

    def training_losses(self, batch: dict[str, torch.Tensor], enc: dict) -> ModelOutput:
        cfg, w = self.config, int(enc["w"])
        spans, valid = enc["spans"], enc["valid"]  # (B, S, E), (B, S)
        b, s = valid.shape
        gold_idx = self.span_index(batch["ent_bounds"], w).masked_fill(~batch["ent_mask"], s)  # (B, E), padding -> slot S
        span_type = torch.zeros(b, s + 1, dtype=torch.long, device=valid.device)  # 0 = Not-Entity, else type + 1
        span_type = span_type.scatter(1, gold_idx, batch["ent_type"] + 1)[:, :s]  # (B, S)
        gold_idx = gold_idx.clamp(max=s - 1)
        is_gold = span_type > 0  # (B, S)
        neg = sample_mask(valid & ~is_gold, cfg.neg_entity_count)  # (B, S)
        inst = is_gold | neg
        extras: dict[str, torch.Tensor] = {}
        self.count_samples("entity", span_type[inst])
        if cfg.two_phase:
            ent_bin = self.entity_binary(spans)  # (B, S, 2)
            extras["loss_entity_binary"] = binary_loss(ent_bin[inst], is_gold[inst])
            extras["loss_entity_type"] = (
                F.cross_entropy(self.entity_typer(spans[is_gold]), span_type[is_gold] - 1) if is_gold.any() else spans.sum() * 0
            )
        else:
            extras["loss_entity"] = F.cross_entropy(self.entity_typer(spans[inst]), span_type[inst])
        ent_rep = spans.gather(1, gold_idx.unsqueeze(-1).expand(-1, -1, spans.size(-1)))  # (B, E, D)
        extras.update(self.relation_losses(batch, enc, ent_rep))
        loss = torch.stack(list(extras.values())).sum()  # Eq. 16: plain sum
        return ModelOutput(loss=loss, logits=spans.new_zeros(b, 1), extras={k: v.detach() for k, v in extras.items()})

    def relation_losses(self, batch: dict[str, torch.Tensor], enc: dict, ent_rep: torch.Tensor) -> dict[str, torch.Tensor]:
        """Gold relations + sampled unrelated ordered pairs of gold entities -> relation losses."""
        cfg, n_rel = self.config, len(self.relation_types)
        mask = batch["ent_mask"]  # (B, E)
        b, e = mask.shape
        target = torch.zeros(b, e * e, n_rel, device=mask.device)  # multi-hot over ordered pairs
        pair = batch["rel_head"] * e + batch["rel_tail"]  # (B, R)
        onehot = F.one_hot(batch["rel_type"], n_rel).float() * batch["rel_mask"].unsqueeze(-1)  # (B, R, n_rel)
        target.scatter_add_(1, pair.unsqueeze(-1).expand(-1, -1, n_rel), onehot)
        target = target.clamp(max=1.0)
        related = target.sum(-1) > 0  # (B, E*E)
        possible = (mask.unsqueeze(2) & mask.unsqueeze(1) & ~torch.eye(e, dtype=torch.bool, device=mask.device)).view(b, e * e)
        if not cfg.symmetric_negatives:  # SpERT: <b, a> of a gold symmetric <a, b> is not a negative
            sym = [i for i, t in enumerate(self.relation_types) if t in self.symmetric]
            possible = possible & ~reverse_of_symmetric(target, sym, e)
        inst = related | sample_mask(possible & ~related, cfg.neg_relation_count)  # (B, E*E)
        idx, ok = compact(inst)  # (B, P)
        zero = ent_rep.sum() * 0
        if idx.size(1) == 0:
            return {"loss_relation": zero}
        rb, typed = self.tuples(enc, ent_rep, batch["ent_bounds"], batch["ent_type"], idx // e, idx % e)
        tgt = target.gather(1, idx.unsqueeze(-1).expand(-1, -1, n_rel))  # (B, P, n_rel)
        has = tgt.sum(-1) > 0  # (B, P)
        self.count_samples("relation", torch.where(has, tgt.argmax(-1) + 1, 0)[ok])
        if not cfg.two_phase:  # SpERT: one sigmoid per type, BCE averaged over types and tuples
            bce = F.binary_cross_entropy_with_logits(self.relation_typer(typed[ok]), tgt[ok], reduction="none")
            return {"loss_relation": bce.mean()}
        out = {"loss_relation_binary": binary_loss(self.relation_binary((typed if cfg.phase_one_types else rb)[ok]), has[ok])}
        if cfg.relation_reject:  # Phase Two over every sampled tuple: Not-Relation (column 0) or its gold types
            full = torch.cat([(~has).float().unsqueeze(-1), tgt], dim=-1)[ok]  # (N, 1 + n_rel)
            logp = self.relation_typer(typed[ok]).log_softmax(-1)  # (N, 1 + n_rel)
            out["loss_relation_type"] = -(logp * full).sum() / full.sum()
            return out
        pos = ok & has
        if pos.any():  # Phase Two: softmax over relation types for every (gold tuple, gold type)
            logp = self.relation_typer(typed[pos]).log_softmax(-1)  # (N, n_rel)
            out["loss_relation_type"] = -(logp * tgt[pos]).sum() / tgt[pos].sum()
        else:
            out["loss_relation_type"] = zero
        return out

    # --- inference ---------------------------------------------------------------------------
    def entity_scores(self, spans: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per span: predicted type id (-1 = Not-Entity) and its probability. spans (B, S, E) -> (B, S), (B, S)."""
        if self.config.two_phase:
            p_ent = self.entity_binary(spans).sigmoid()  # (B, S, 2) Eq. 6
            is_ent = p_ent[..., 1] > p_ent[..., 0]
            prob, typ = self.entity_typer(spans).softmax(-1).max(-1)  # (B, S)
            return torch.where(is_ent, typ, -1), p_ent[..., 1] * prob
        prob, typ = self.entity_typer(spans).softmax(-1).max(-1)  # (B, S)
        return typ - 1, prob

    def inference(self, batch: dict[str, torch.Tensor], enc: dict) -> ModelOutput:
        cfg = self.config
        typ, prob = self.entity_scores(enc["spans"])  # (B, S)
        if cfg.entities == "given":  # the documents' own entities (isolates the relation decision from NER)
            ent_ok, ent_bounds, ent_type = batch["ent_mask"], batch["ent_bounds"], batch["ent_type"]  # (B, N), (B, N, 2), (B, N)
            ent_idx, n_ent = self.span_index(ent_bounds, int(enc["w"])).clamp(max=prob.size(1) - 1), ent_ok.size(1)
        else:
            score = torch.where((typ >= 0) & enc["valid"], prob, -1.0)  # (B, S)
            top = score.topk(min(cfg.max_entities, score.size(1)), dim=1)  # (B, k) best entities first
            ent_idx, ent_ok = top.indices, top.values >= 0  # (B, k)
            n_ent = int(ent_ok.sum(1).max()) if ent_ok.any() else 0
            ent_idx, ent_ok = ent_idx[:, :n_ent], ent_ok[:, :n_ent]  # (B, N)
            ent_bounds = enc["bounds"][ent_idx]  # (B, N, 2)
            ent_type = typ.gather(1, ent_idx).clamp(min=0)  # (B, N)
        ent_rep = enc["spans"].gather(1, ent_idx.unsqueeze(-1).expand(-1, -1, enc["spans"].size(-1)))  # (B, N, D)
        out = {"ent_bounds": ent_bounds, "ent_type": ent_type, "ent_ok": ent_ok, "ent_score": prob.gather(1, ent_idx)}
        b = ent_ok.size(0)
        possible = (ent_ok.unsqueeze(2) & ent_ok.unsqueeze(1) & ~torch.eye(n_ent, dtype=torch.bool, device=ent_ok.device)).view(b, -1)
        pair_idx, pair_ok = compact(possible)  # (B, P)
        head, tail = pair_idx // max(n_ent, 1), pair_idx % max(n_ent, 1)
        if pair_idx.size(1):
            rb, typed = self.tuples(enc, ent_rep, ent_bounds, ent_type, head, tail)
            logits = self.relation_typer(typed)  # (B, P, n_rel), or (B, P, 1 + n_rel) with relation_reject
            reject = None
            if cfg.two_phase and cfg.relation_reject:
                reject, logits = logits[..., :1], logits[..., 1:]  # (B, P, 1), (B, P, n_rel)
            if cfg.type_signature and self.signatures:  # types never seen between these entity types: out
                allowed = signature_mask(self.signature, gather_rows(ent_type, head), gather_rows(ent_type, tail))  # (B, P, n_rel)
                logits = logits.masked_fill(~allowed, float("-inf"))
                pair_ok = pair_ok & allowed.any(-1)
            if cfg.two_phase:
                p_rel = self.relation_binary(typed if cfg.phase_one_types else rb).sigmoid()  # (B, P, 2)
                if reject is None:
                    prob_t, rtype = logits.softmax(-1).nan_to_num(0.0).max(-1)  # (B, P)
                else:  # the softmax includes Not-Relation; Phase Two keeps a tuple when a type beats it
                    probs = torch.cat([reject, logits], dim=-1).softmax(-1)  # (B, P, 1 + n_rel)
                    prob_t, rtype = probs[..., 1:].max(-1)  # (B, P)
                    pair_ok = pair_ok & (prob_t > probs[..., 0])
                keep = phase_one_keep(p_rel, prob_t, cfg.relation_rule, cfg.relation_threshold) & pair_ok
                rel_prob = F.one_hot(rtype, len(self.relation_types)) * (p_rel[..., 1] * prob_t).unsqueeze(-1)
                rel_on = F.one_hot(rtype, len(self.relation_types)).bool() & keep.unsqueeze(-1)  # (B, P, n_rel)
            else:
                rel_prob = logits.sigmoid()  # (B, P, n_rel)
                rel_on = (rel_prob >= cfg.rel_threshold) & pair_ok.unsqueeze(-1)
        else:
            rel_prob = ent_rep.new_zeros(b, 0, len(self.relation_types))
            rel_on = rel_prob.bool()
        out.update({"head": head, "tail": tail, "rel_prob": rel_prob, "rel_on": rel_on})
        return ModelOutput(loss=None, logits=rel_prob, extras=out)

    def decode(self, batch: dict[str, torch.Tensor], out: ModelOutput) -> list[Decoded]:
        """Entities sorted by position (``meta['entity_scores']``; non-overlapping unless ``overlapping_entities``), relations."""
        x = {k: v.tolist() for k, v in out.extras.items()}
        return decode_spans(x, self.entity_types, self.relation_types, self.config.overlapping_entities)

    def predict(self, docs: list[Document], batch_size: int = 64, feats: list[dict] | None = None, engine=None) -> list[Document]:
        """As every model; a sentence over ``max_length`` word pieces goes as overlapping windows, merged (span_decode)."""
        if feats is not None:
            return super().predict(docs, batch_size, feats, engine)
        run = lambda ds, fs: super(SpanJointModel, self).predict(ds, batch_size, fs, engine)  # noqa: E731
        return windowed_predict(self, list(docs), run, self.config.overlapping_entities)
