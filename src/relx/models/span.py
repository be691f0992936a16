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
from relx.models.transformer import TransformerModel
from relx.nn.encoder import DEFAULT_ENCODER
from relx.nn.sequence import pad_ids
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
    overlapping_entities: bool = False  # False: decode non-overlapping entities, the higher score first


class SpanJointModel(SampleCounts, TransformerModel):
    """Joint NER + RE over enumerated spans (see the module docstring). Predicts entities too."""

    Config = SpanConfig
    kind = ModelKind.JOINT

    def __init__(self, config: SpanConfig, labels: LabelSet, saved: Path | None = None):
        super().__init__(config, labels, saved)
        if config.max_span_width < 1 or config.max_distance < 0:
            raise RelxConfigError(f"{self.registered_name}: max_span_width must be >= 1 and max_distance >= 0")
        self.relation_types = sorted({relation_type(lab) for lab in labels.labels if lab != labels.negative})
        self.entity_types: list[str] = []
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
        self.tuple_fuse = Fusion([e, e, h] + ([f] if bi else []), config.gated, ordered=True)  # [head; tail; context; (D)]
        self.built = False

    # --- data-dependent layers ---------------------------------------------------------------
    def _build(self) -> None:
        cfg, n_types, n_rel = self.config, len(self.entity_types), len(self.relation_types)
        e, r = self.span_fuse.out_dim, self.tuple_fuse.out_dim
        if cfg.two_phase:
            self.entity_binary = nn.Linear(e, 2)  # Eq. 6: Entity / Not-Entity
            self.entity_typer = nn.Linear(e, n_types)  # Eq. 12
            self.relation_binary = nn.Linear(r, 2)  # Eq. 10
        else:
            self.entity_typer = nn.Linear(e, n_types + 1)  # type 0 = Not-Entity
        if cfg.multi_features:
            self.global_feature = feature_embedding(
                n_types * n_types * (cfg.max_distance + 1), r if cfg.gated else self.fdim, self.feature_std
            )
            self.type_fuse = Fusion([r, self.global_feature.embedding_dim], cfg.gated)  # [R_r; C_r]
            r = self.type_fuse.out_dim
        self.relation_typer = nn.Linear(r, n_rel)  # Eq. 14 (softmax) or per-type sigmoid (single phase)
        self.built = True
        self.to(self.encoder.device)

    def prepare(self, train: list[Document]) -> None:
        self.entity_types = sorted({e.label for d in train for e in d.entities})
        if not self.entity_types:
            raise RelxConfigError(
                f"{self.registered_name}: the training data has no entities; a joint model learns them from gold entities"
            )
        self._build()

    def state_json(self) -> dict:
        return {"entity_types": self.entity_types}

    def load_state_json(self, state: dict) -> None:
        self.entity_types = list(state.get("entity_types", []))
        self._build()

    # --- features ----------------------------------------------------------------------------
    def featurize(self, doc: Document) -> dict:
        """Sub-token ids, each word's sub-token range, gold entities (width <= epsilon) and relations."""
        enc = self.tokenizer(list(doc.tokens), is_split_into_words=True, add_special_tokens=False)
        ids, words = enc["input_ids"][: self.config.max_length - 2], enc.word_ids()[: self.config.max_length - 2]
        truncated = len(ids) < len(enc["input_ids"])
        n_words = words[-1] if truncated else len(doc.tokens)  # a cut word is dropped whole
        lo, hi = [0] * n_words, [0] * n_words  # sub-token range of each word (+1 for [CLS]); empty: no sub-tokens
        for pos, w in enumerate(words):
            if w is not None and w < n_words:
                lo[w] = lo[w] if hi[w] else pos + 1
                hi[w] = pos + 2
        type_id = {t: i for i, t in enumerate(self.entity_types)}
        rel_id = {t: i for i, t in enumerate(self.relation_types)}
        keep: dict[int, int] = {}  # original entity index -> kept index
        for k, e in enumerate(doc.entities):
            if e.end <= n_words and e.end - e.start <= self.config.max_span_width and e.label in type_id:
                keep[k] = len(keep)
        ents = [(doc.entities[k].start, doc.entities[k].end, type_id[doc.entities[k].label]) for k in keep]
        rels = [
            (keep[r.head], keep[r.tail], rel_id[r.label])
            for r in doc.relations
            if r.head in keep and r.tail in keep and r.head != r.tail and r.label in rel_id
        ]
        return {
            "input_ids": [self.tokenizer.cls_token_id, *ids, self.tokenizer.sep_token_id],
            "word_lo": lo,
            "word_hi": hi,
            "n_words": n_words,
            "entities": ents,
            "relations": rels,
            "skipped": (len(doc.entities) - len(ents), len(doc.relations) - len(rels)),
        }

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        w = max(max(f["n_words"] for f in feats), 1)
        ent = pad_ids([[e[0] for e in f["entities"]] for f in feats], 0)  # (B, E)
        ent_end = pad_ids([[e[1] for e in f["entities"]] for f in feats], 1)  # (B, E)
        rel = [f["relations"] for f in feats]
        return {
            "input_ids": pad_ids([f["input_ids"] for f in feats], self.tokenizer.pad_token_id or 0),  # (B, T)
            "attention_mask": pad_ids([[1] * len(f["input_ids"]) for f in feats], 0),  # (B, T)
            "word_lo": pad_ids([f["word_lo"] for f in feats], 0),  # (B, W) first sub-token of each word
            "word_hi": pad_ids([f["word_hi"] for f in feats], 0),  # (B, W) past its last sub-token
            "n_words": torch.tensor([f["n_words"] for f in feats]),  # (B,)
            "max_words": torch.tensor(w),
            "ent_bounds": torch.stack([ent, ent_end], dim=-1),  # (B, E, 2)
            "ent_type": pad_ids([[e[2] for e in f["entities"]] for f in feats], 0),  # (B, E)
            "ent_mask": pad_ids([[1] * len(f["entities"]) for f in feats], 0).bool(),  # (B, E)
            "rel_head": pad_ids([[r[0] for r in rs] for rs in rel], 0),  # (B, R)
            "rel_tail": pad_ids([[r[1] for r in rs] for rs in rel], 0),  # (B, R)
            "rel_type": pad_ids([[r[2] for r in rs] for rs in rel], 0),  # (B, R)
            "rel_mask": pad_ids([[1] * len(rs) for rs in rel], 0).bool(),  # (B, R)
        }

    def feature_length(self, feat: dict) -> int:
        return len(feat["input_ids"])

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
        out = {"loss_relation_binary": binary_loss(self.relation_binary(rb[ok]), has[ok])}
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
        is_ent = (typ >= 0) & enc["valid"]
        score = torch.where(is_ent, prob, -1.0)
        k = min(cfg.max_entities, score.size(1))
        top = score.topk(k, dim=1)  # (B, k) best entities first
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
            if cfg.two_phase:
                p_rel = self.relation_binary(rb).sigmoid()  # (B, P, 2)
                keep = (p_rel[..., 1] > p_rel[..., 0]) & pair_ok
                prob_t, rtype = self.relation_typer(typed).softmax(-1).max(-1)  # (B, P)
                rel_prob = F.one_hot(rtype, len(self.relation_types)) * (p_rel[..., 1] * prob_t).unsqueeze(-1)
                rel_on = F.one_hot(rtype, len(self.relation_types)).bool() & keep.unsqueeze(-1)  # (B, P, n_rel)
            else:
                rel_prob = self.relation_typer(typed).sigmoid()  # (B, P, n_rel)
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
        run = lambda ds: super(SpanJointModel, self).predict(ds, batch_size, None, engine)  # noqa: E731
        return windowed_predict(self, list(docs), run, self.config.overlapping_entities)
