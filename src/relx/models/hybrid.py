"""Unified hybrid model (Method 1 of ``hybrid-and-bert-mld-mse_tacred.txt``).

Three branches, concatenated and classified by a feed-forward network:

(a) ``use_lstm``: word embeddings (+ relative-position embeddings to subject and object; optionally
    the feature BiLSTM's POS / NER / entity-type channels, ``pos_dim`` / ``ner_dim`` / ``type_dim`` > 0)
    -> packed BiLSTM -> additive attention pooling (optionally also max-pooled subject / object span
    states, ``entity_pool``, and the sentence max, ``max_pool``).
    Word vectors (``word_vectors``): ``encoder`` (default: the bundled encoder's input word-piece table,
    each word = mean of its pieces), ``encoder:/path/to/hf/model``, a GloVe/word2vec text file
    (``.txt``/``.txt.gz``), or ``random`` (``word_dim`` columns).
(b) ``use_rules``: regex cue patterns (:mod:`relx.rules`) -> multi-hot vector over the patterns
    (``rules_level: pattern``) or over their relations (``rules_level: relation``, the paper's one-hot
    of the cued relation). ``rules``: ``semeval`` / ``tacred`` (hand-written, shipped), ``mined``
    (mined from the training documents in :meth:`prepare`, see :mod:`relx.rules.mine`) or a YAML path.
(c) ``use_tfidf``: TF-IDF over the subject / between / object segments
    (:class:`relx.features.SegmentTfidf`, fit on train) -> linear projection to ``tfidf_dim``
    (an ``EmbeddingBag`` weighted by the TF-IDF values, i.e. a sparse matrix product).

Branch (a) is :class:`relx.nn.token_bilstm.TokenBiLSTM` (shared with ``feature_bilstm``); head, loss
and decoding are :class:`relx.models.pair.PairClassifier`'s. Loss: cross-entropy with
``label_smoothing`` (optionally class-weighted). Gradient clipping and
accumulation are Trainer options (``trainer.grad_clip``, ``trainer.grad_accum``). Documents come
already tokenized by the readers (SemEval text with spaCy's rule tokenizer, TACRED as released), so
the vocabulary is built from ``Document.tokens``. Everything learned outside the weights (vocabulary,
TF-IDF vocabularies and idf, the pattern file's text) is saved in ``config.json`` state; the weights
in ``model.safetensors``; a saved model needs neither the training data nor the pattern file.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxConfigError
from relx.features.tfidf import SegmentTfidf
from relx.models.base import register
from relx.models.pair import PairClassifier
from relx.nn.bilstm import AttentionPool
from relx.nn.sequence import masked_max, span_mask
from relx.nn.token_bilstm import TokenBiLSTM, TokenChannelsConfig
from relx.rules import LEVELS, RuleSet, mine_ruleset


@dataclass
class HybridConfig(TokenChannelsConfig):
    use_lstm: bool = True  # branch (a): BiLSTM + attention over word (+ position) embeddings
    use_rules: bool = True  # branch (b): regex cue multi-hot vector
    use_tfidf: bool = True  # branch (c): segment TF-IDF -> dense projection
    # (a): the word-level channels of TokenChannelsConfig, with these defaults
    freeze_words: bool | None = False
    position_dim: int = 20  # 0 = no position embeddings
    hidden_size: int = 128
    pos_dim: int = 0
    ner_dim: int = 0
    type_dim: int = 0
    entity_pool: bool = False  # also max-pool the BiLSTM states over the subject and object spans
    max_pool: bool = False  # also max-pool the BiLSTM states over the sentence
    # (b)
    rules: str = "semeval"  # semeval | tacred | mined | path/to/rules.yaml
    rules_level: str = "pattern"  # pattern | relation
    mine_min_precision: float = 0.5  # rules: mined
    mine_min_support: int = 5
    mine_max_n: int = 3
    mine_max_per_relation: int | None = 30
    # (c)
    tfidf_ngram_max: int = 2
    tfidf_min_df: int = 2
    tfidf_max_features: int | None = None  # per segment
    tfidf_dim: int = 128
    # head
    ffn_dim: int = 256
    dropout: float = 0.5
    label_smoothing: float = 0.1
    class_weight_power: float = 0.0  # CE weights 1/N_i^power (0 = unweighted)


@register("hybrid")
class HybridModel(PairClassifier):
    """BiLSTM+attention, regex-cue and segment TF-IDF branches, concatenated -> FFN (paper Method 1)."""

    Config = HybridConfig
    built_from_data = True

    def __init__(self, config: HybridConfig, labels: LabelSet):
        super().__init__(config, labels)
        if not (config.use_lstm or config.use_rules or config.use_tfidf):
            raise RelxConfigError("hybrid: use_lstm, use_rules and use_tfidf are all false; switch on at least one branch")
        if config.rules_level not in LEVELS:
            raise RelxConfigError(f"hybrid: rules_level must be one of {', '.join(LEVELS)}, got {config.rules_level!r}")
        self.tokens: TokenBiLSTM | None = None
        self.rules: RuleSet | None = None
        self.tfidf: SegmentTfidf | None = None

    # --- data-dependent state and layers -----------------------------------------------
    def prepare(self, train: list[Document]) -> None:
        """Fit what the branches learn from data (vocabulary + vectors, rules, TF-IDF), then build the layers."""
        cfg = self.config
        if cfg.use_rules:
            if cfg.rules == "mined":
                self.rules, _ = mine_ruleset(
                    train,
                    self.labels.negative,
                    origin="training documents (hybrid prepare)",
                    min_precision=cfg.mine_min_precision,
                    min_support=cfg.mine_min_support,
                    max_n=cfg.mine_max_n,
                    max_per_relation=cfg.mine_max_per_relation,
                )
            else:
                self.rules = RuleSet.load(cfg.rules)
        if cfg.use_tfidf:
            self.tfidf = SegmentTfidf((1, cfg.tfidf_ngram_max), cfg.tfidf_min_df, max_features=cfg.tfidf_max_features).fit(train)
        self._build(TokenBiLSTM.from_training(cfg, train) if cfg.use_lstm else None)
        super().prepare(train)

    def _build(self, tokens: TokenBiLSTM | None) -> None:
        """Create the layers once vocabulary, pattern and TF-IDF sizes are known."""
        cfg = self.config
        self.tokens = tokens
        rep = 0
        if tokens is not None:
            self.attention = AttentionPool(tokens.output_dim)
            rep += tokens.output_dim * (1 + 2 * cfg.entity_pool + cfg.max_pool)
        if cfg.use_rules:
            rep += self.rules.dim(cfg.rules_level)  # type: ignore[union-attr]
        if cfg.use_tfidf:
            self.tfidf_proj = nn.EmbeddingBag(max(self.tfidf.n_features, 1), cfg.tfidf_dim, mode="sum")  # type: ignore[union-attr]
            nn.init.normal_(self.tfidf_proj.weight, std=0.1)
            self.tfidf_bias = nn.Parameter(torch.zeros(cfg.tfidf_dim))
            rep += cfg.tfidf_dim
        self.rep_dropout = nn.Dropout(cfg.dropout)
        self.ffn = nn.Linear(rep, cfg.ffn_dim)
        self.init_head(cfg.ffn_dim, cfg.dropout)
        self.built = True
        self.to(self.class_weights.device)

    def state_json(self) -> dict:
        return {
            "tokens": None if self.tokens is None else self.tokens.state_json(),
            "rules_yaml": None if self.rules is None else self.rules.text,
            "tfidf": None if self.tfidf is None else self.tfidf.to_json(),
        }

    def load_state_json(self, state: dict) -> None:
        text = state.get("rules_yaml")
        self.rules = RuleSet.from_yaml(text, "saved hybrid model (rules_yaml)", allow_empty=True) if text is not None else None
        self.tfidf = SegmentTfidf.from_json(state["tfidf"]) if state.get("tfidf") else None
        self._build(TokenBiLSTM.from_state(self.config, state["tokens"]) if state.get("tokens") else None)

    # --- features -----------------------------------------------------------------------
    def pair_features(self, doc: Document) -> dict:
        """Branch inputs except TF-IDF (added for a whole batch of documents in featurize_many)."""
        subj, obj = doc.entities[0], doc.entities[1]
        feat: dict = {"n": len(doc.tokens), "spans": [subj.start, subj.end, obj.start, obj.end]}
        if self.tokens is not None:
            feat.update(self.tokens.featurize(doc))
        if self.config.use_rules:
            vec = self.rules.vector(doc, self.config.rules_level)  # type: ignore[union-attr]
            feat["rules"] = [i for i, v in enumerate(vec) if v]
        return feat

    def featurize(self, doc: Document) -> dict:
        return self.featurize_many([doc])[0]

    def featurize_many(self, docs: list[Document]) -> list[dict]:
        """Per-document features, then one sparse TF-IDF transform for all ``docs``."""
        feats = [PairClassifier.featurize(self, d) for d in docs]
        if self.config.use_tfidf and docs:
            rows = self.tfidf.transform(docs)  # type: ignore[union-attr]  # (N, F) CSR
            for i, f in enumerate(feats):
                lo, hi = rows.indptr[i], rows.indptr[i + 1]
                f["tfidf_idx"], f["tfidf_val"] = rows.indices[lo:hi].tolist(), rows.data[lo:hi].tolist()
        return feats

    def feature_length(self, feat: dict) -> int:
        return feat["n"]

    def collate_pair(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        cfg, b = self.config, len(feats)
        batch = {"spans": torch.tensor([f["spans"] for f in feats])}  # (B, 4)
        if self.tokens is not None:
            batch.update(self.tokens.collate(feats))
        if cfg.use_rules:
            multi_hot = torch.zeros((b, self.rules.dim(cfg.rules_level)))  # type: ignore[union-attr]  # (B, R)
            for i, f in enumerate(feats):
                multi_hot[i, f["rules"]] = 1.0
            batch["rules"] = multi_hot
        if cfg.use_tfidf:
            batch["tfidf_idx"] = torch.tensor([j for f in feats for j in f["tfidf_idx"]], dtype=torch.long)  # (N,)
            batch["tfidf_val"] = torch.tensor([v for f in feats for v in f["tfidf_val"]], dtype=torch.float)  # (N,)
            sizes = torch.tensor([0] + [len(f["tfidf_idx"]) for f in feats[:-1]], dtype=torch.long)
            batch["tfidf_off"] = torch.cumsum(sizes, 0)  # (B,) start of each document's entries
        return batch

    # --- model --------------------------------------------------------------------------
    def pair_repr(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = []
        if self.tokens is not None:
            parts.append(self._lstm_branch(batch))  # (B, 2H x pooled views)
        if self.config.use_rules:
            parts.append(batch["rules"])  # (B, R)
        if self.config.use_tfidf:
            proj = self.tfidf_proj(batch["tfidf_idx"], batch["tfidf_off"], per_sample_weights=batch["tfidf_val"])  # (B, P)
            parts.append(torch.tanh(proj + self.tfidf_bias))  # (B, P)
        return torch.relu(self.ffn(self.rep_dropout(torch.cat(parts, dim=-1))))  # (B, F)

    def _lstm_branch(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Token channels -> BiLSTM -> attention pooling (+ sentence max, + subject/object span max)."""
        h, mask = self.tokens(batch)  # type: ignore[misc]  # (B, T, 2H), (B, T)
        pooled = [self.attention(h, mask)[0]]  # (B, 2H)
        if self.config.max_pool:
            pooled.append(masked_max(h, mask))  # (B, 2H)
        if self.config.entity_pool:
            spans = batch["spans"]
            pooled += [masked_max(h, span_mask(spans[:, a], spans[:, a + 1], mask)) for a in (0, 2)]  # (B, 2H) each
        return torch.cat(pooled, dim=-1)
