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

Loss: cross-entropy with ``label_smoothing`` (optionally class-weighted). Gradient clipping and
accumulation are Trainer options (``trainer.grad_clip``, ``trainer.grad_accum``). Documents come
already tokenized by the readers (SemEval text with spaCy's rule tokenizer, TACRED as released), so
the vocabulary is built from ``Document.tokens``. Everything learned outside the weights (vocabulary,
TF-IDF vocabularies and idf, the pattern file's text) is saved in ``config.json`` state; the weights
in ``model.safetensors``; a saved model needs neither the training data nor the pattern file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document, Relation
from relx.errors import RelxConfigError, RelxInputError
from relx.features.tfidf import SegmentTfidf
from relx.models.base import ModelOutput, NeuralREModel, register
from relx.models.feature_bilstm import NONE, channel_tags, masked_max, relative_positions, type_channel
from relx.nn.bilstm import AttentionPool, BiLSTM
from relx.nn.embeddings import Vocab, word_vectors
from relx.rules import LEVELS, RuleSet, mine_ruleset
from relx.training.losses import inverse_freq_weights


@dataclass
class HybridConfig:
    use_lstm: bool = True  # branch (a): BiLSTM + attention over word (+ position) embeddings
    use_rules: bool = True  # branch (b): regex cue multi-hot vector
    use_tfidf: bool = True  # branch (c): segment TF-IDF -> dense projection
    # (a)
    word_vectors: str = "encoder"  # encoder | encoder:/path | /path/to/glove.txt[.gz] | random
    word_dim: int = 100  # only for word_vectors: random
    freeze_words: bool = False
    min_count: int = 1
    lowercase: bool = True
    max_vocab: int | None = None
    word_dropout: float = 0.0  # training: replace a word id by <unk> with this probability
    position_dim: int = 20  # 0 = no position embeddings
    max_position: int = 60
    hidden_size: int = 128
    num_layers: int = 1
    entity_pool: bool = False  # also max-pool the BiLSTM states over the subject and object spans
    max_pool: bool = False  # also max-pool the BiLSTM states over the sentence
    pos_dim: int = 0  # > 0: POS-tag embeddings (from TACRED fields or `relx data annotate`)
    ner_dim: int = 0  # > 0: NER-tag embeddings
    type_dim: int = 0  # > 0: entity-type channel (SUBJ-<type> / OBJ-<type> / O) embeddings
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
    seed: int = 0  # random word vectors


@register("hybrid")
class HybridModel(NeuralREModel):
    """BiLSTM+attention, regex-cue and segment TF-IDF branches, concatenated -> FFN (paper Method 1)."""

    Config = HybridConfig

    def __init__(self, config: HybridConfig, labels: LabelSet):
        super().__init__(config, labels)
        if not (config.use_lstm or config.use_rules or config.use_tfidf):
            raise RelxConfigError("hybrid: use_lstm, use_rules and use_tfidf are all false; switch on at least one branch")
        if config.rules_level not in LEVELS:
            raise RelxConfigError(f"hybrid: rules_level must be one of {', '.join(LEVELS)}, got {config.rules_level!r}")
        self.vocab: Vocab | None = None
        self.channel_vocabs: dict[str, Vocab] = {}  # pos / ner / type, for the channels switched on
        self.word_dim = config.word_dim
        self.rules: RuleSet | None = None
        self.tfidf: SegmentTfidf | None = None
        self.vectors_found = 0
        self.register_buffer("class_weights", torch.ones(len(labels)))
        self.built = False

    @classmethod
    def tiny_config(cls, resources: dict | None = None, **overrides) -> HybridConfig:
        base = {
            "word_vectors": (resources or {}).get("glove", "random"), "word_dim": 16, "position_dim": 4, "max_position": 8,
            "hidden_size": 16, "pos_dim": 4, "ner_dim": 4, "type_dim": 4, "max_pool": True, "rules": "semeval", "tfidf_min_df": 1, "tfidf_dim": 8, "ffn_dim": 16, "dropout": 0.0,
            "label_smoothing": 0.0,
        }
        return HybridConfig(**{**base, **overrides})

    @classmethod
    def tiny_fit_kwargs(cls) -> dict:
        return {"epochs": 40, "batch_size": 4, "lr": 1e-2, "warmup_ratio": 0.0, "progress": False, "seed": 0, "weight_decay": 0.0,
                "num_threads": 1}

    # --- data-dependent state and layers -----------------------------------------------
    def prepare(self, train: list[Document]) -> None:
        """Fit what the branches learn from data (vocabulary + vectors, rules, TF-IDF), then build the layers."""
        cfg = self.config
        train = [d for d in train if len(d.entities) >= 2]
        if cfg.use_lstm:
            self.vocab = Vocab.from_tokens((d.tokens for d in train), cfg.min_count, cfg.lowercase, cfg.max_vocab)
            vectors, self.vectors_found = word_vectors(self.vocab.words, cfg.word_vectors, dim=cfg.word_dim, seed=cfg.seed)
            for name, seqs in (("pos", lambda d: d.pos or []), ("ner", lambda d: d.ner or []), ("type", type_channel)):
                if self._channel_dim(name):
                    self.channel_vocabs[name] = Vocab.from_tokens(([*seqs(d), NONE] for d in train), lowercase=False)
            self.word_dim = vectors.shape[1]
        if cfg.use_rules:
            if cfg.rules == "mined":
                self.rules, _ = mine_ruleset(train, self.labels.negative, cfg.mine_min_precision, cfg.mine_min_support, cfg.mine_max_n,
                                             cfg.mine_max_per_relation, origin="training documents (hybrid prepare)")
            else:
                self.rules = RuleSet.load(cfg.rules)
        if cfg.use_tfidf:
            self.tfidf = SegmentTfidf((1, cfg.tfidf_ngram_max), cfg.tfidf_min_df, max_features=cfg.tfidf_max_features).fit(train)
        self._build()
        if cfg.use_lstm:
            self.word_emb.weight.data.copy_(vectors)
        if cfg.class_weight_power:
            gold = [self.labels.id(lab) if lab in self.labels else 0 for lab in (self.labels.pair_label(d) for d in train)]
            self.class_weights.copy_(inverse_freq_weights(gold, len(self.labels), cfg.class_weight_power))

    def _build(self) -> None:
        """Create the layers once vocabulary, pattern and TF-IDF sizes are known."""
        cfg = self.config
        rep = 0
        if cfg.use_lstm:
            self.word_emb = nn.Embedding(len(self.vocab), self.word_dim, padding_idx=0)  # type: ignore[arg-type]
            self.word_emb.weight.requires_grad = not cfg.freeze_words
            in_dim = self.word_dim
            self.channel_embs = nn.ModuleDict({
                f"{name}_emb": nn.Embedding(len(vocab), self._channel_dim(name), padding_idx=0) for name, vocab in self.channel_vocabs.items()
            })
            in_dim += sum(self._channel_dim(name) for name in self.channel_vocabs)
            if cfg.position_dim:
                n_pos = 2 * cfg.max_position + 2  # 0 = padding
                self.subj_pos_emb = nn.Embedding(n_pos, cfg.position_dim, padding_idx=0)
                self.obj_pos_emb = nn.Embedding(n_pos, cfg.position_dim, padding_idx=0)
                in_dim += 2 * cfg.position_dim
            self.in_dropout = nn.Dropout(cfg.dropout)
            self.lstm = BiLSTM(in_dim, cfg.hidden_size, cfg.num_layers, cfg.dropout)
            self.attention = AttentionPool(self.lstm.output_dim)
            rep += self.lstm.output_dim * (1 + 2 * cfg.entity_pool + cfg.max_pool)
        if cfg.use_rules:
            rep += self.rules.dim(cfg.rules_level)  # type: ignore[union-attr]
        if cfg.use_tfidf:
            self.tfidf_proj = nn.EmbeddingBag(max(self.tfidf.n_features, 1), cfg.tfidf_dim, mode="sum")  # type: ignore[union-attr]
            nn.init.normal_(self.tfidf_proj.weight, std=0.1)
            self.tfidf_bias = nn.Parameter(torch.zeros(cfg.tfidf_dim))
            rep += cfg.tfidf_dim
        self.rep_dropout = nn.Dropout(cfg.dropout)
        self.ffn = nn.Sequential(nn.Linear(rep, cfg.ffn_dim), nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.ffn_dim, len(self.labels)))
        self.built = True

    def _channel_dim(self, name: str) -> int:
        return {"pos": self.config.pos_dim, "ner": self.config.ner_dim, "type": self.config.type_dim}[name]

    # --- features -----------------------------------------------------------------------
    def featurize(self, doc: Document) -> dict:
        """Per-branch inputs (word / position ids, firing pattern indexes, TF-IDF entries) and the gold label id."""
        if not self.built:
            raise RelxInputError("hybrid: call prepare(train) (or load a saved model) before featurize")
        if len(doc.entities) < 2:
            raise RelxInputError(f"document {doc.id!r} needs two entities (subject, object) for pair classification")
        cfg = self.config
        n, subj, obj = len(doc.tokens), doc.entities[0], doc.entities[1]
        label = self.labels.pair_label(doc)
        feat: dict = {"n": n, "spans": [subj.start, subj.end, obj.start, obj.end], "label": self.labels.id(label) if label in self.labels else 0}
        if cfg.use_lstm:
            m = cfg.max_position
            feat["words"] = self.vocab.encode(doc.tokens)  # type: ignore[union-attr]
            feat["subj_pos"] = [c + m + 1 for c in relative_positions(n, subj.start, subj.end, m)]
            feat["obj_pos"] = [c + m + 1 for c in relative_positions(n, obj.start, obj.end, m)]
            for name, vocab in self.channel_vocabs.items():
                feat[name] = vocab.encode(channel_tags(doc, name))
        if cfg.use_rules:
            vec = self.rules.vector(doc, cfg.rules_level)  # type: ignore[union-attr]
            feat["rules"] = [i for i, v in enumerate(vec) if v]
        if cfg.use_tfidf:
            row = self.tfidf.transform([doc])  # type: ignore[union-attr]  # (1, F) CSR
            feat["tfidf_idx"], feat["tfidf_val"] = row.indices.tolist(), row.data.tolist()
        return feat

    def feature_length(self, feat: dict) -> int:
        return feat["n"]

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        cfg, b = self.config, len(feats)
        batch = {"labels": torch.tensor([f["label"] for f in feats]), "spans": torch.tensor([f["spans"] for f in feats])}  # (B,), (B, 4)
        if cfg.use_lstm:
            width = max(f["n"] for f in feats)
            for key in ("words", "subj_pos", "obj_pos", *self.channel_vocabs):
                ids = torch.zeros((b, width), dtype=torch.long)  # (B, T); 0 = padding
                for i, f in enumerate(feats):
                    ids[i, : f["n"]] = torch.tensor(f[key])
                batch[key] = ids
            batch["lengths"] = torch.tensor([f["n"] for f in feats])  # (B,)
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
    def forward(self, batch: dict[str, torch.Tensor]) -> ModelOutput:
        parts = []
        if self.config.use_lstm:
            parts.append(self._lstm_branch(batch))  # (B, 2H x pooled views)
        if self.config.use_rules:
            parts.append(batch["rules"])  # (B, R)
        if self.config.use_tfidf:
            proj = self.tfidf_proj(batch["tfidf_idx"], batch["tfidf_off"], per_sample_weights=batch["tfidf_val"])  # (B, P)
            parts.append(torch.tanh(proj + self.tfidf_bias))  # (B, P)
        rep = self.rep_dropout(torch.cat(parts, dim=-1))  # (B, D)
        logits = self.ffn(rep)  # (B, C)
        loss = F.cross_entropy(logits.float(), batch["labels"], weight=self.class_weights, label_smoothing=self.config.label_smoothing)
        return ModelOutput(loss=loss, logits=logits)

    def _lstm_branch(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Word (+ position) embeddings -> BiLSTM -> attention pooling (+ subject/object span max)."""
        cfg, words = self.config, batch["words"]  # (B, T)
        if self.training and cfg.word_dropout > 0:
            drop = (torch.rand_like(words, dtype=torch.float) < cfg.word_dropout) & (words > 0)
            words = words.masked_fill(drop, 1)  # <unk>
        x = torch.cat([self.word_emb(words), *(self.channel_embs[f"{name}_emb"](batch[name]) for name in self.channel_vocabs)], dim=-1)  # (B, T, E + F)
        if cfg.position_dim:
            x = torch.cat([x, self.subj_pos_emb(batch["subj_pos"]), self.obj_pos_emb(batch["obj_pos"])], dim=-1)  # (B, T, E + F + 2P)
        h = self.lstm(self.in_dropout(x), batch["lengths"])  # (B, T, 2H)
        t = torch.arange(h.shape[1], device=h.device)
        mask = t[None] < batch["lengths"][:, None]  # (B, T)
        pooled = [self.attention(h, mask)[0]]  # (B, 2H)
        if cfg.max_pool:
            pooled.append(masked_max(h, mask))  # (B, 2H)
        if cfg.entity_pool:
            spans = batch["spans"]
            for a, z in ((0, 1), (2, 3)):
                inside = (t[None] >= spans[:, a : a + 1]) & (t[None] < spans[:, z : z + 1]) & mask  # (B, T)
                pooled.append(masked_max(h, inside))  # (B, 2H)
        return torch.cat(pooled, dim=-1)

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

    # --- persistence --------------------------------------------------------------------
    def state_json(self) -> dict:
        return {
            "vocab": None if self.vocab is None else self.vocab.to_json(), "word_dim": self.word_dim,
            "channel_vocabs": {k: v.to_json() for k, v in self.channel_vocabs.items()},
            "rules_yaml": None if self.rules is None else self.rules.text, "tfidf": None if self.tfidf is None else self.tfidf.to_json(),
        }

    def load_state_json(self, state: dict) -> None:
        self.vocab = Vocab.from_json(state["vocab"]) if state.get("vocab") else None
        self.word_dim = int(state.get("word_dim", self.config.word_dim))
        self.channel_vocabs = {k: Vocab.from_json(v) for k, v in (state.get("channel_vocabs") or {}).items()}
        text = state.get("rules_yaml")
        self.rules = RuleSet.from_yaml(text, "saved hybrid model (rules_yaml)", allow_empty=True) if text is not None else None
        self.tfidf = SegmentTfidf.from_json(state["tfidf"]) if state.get("tfidf") else None
        self._build()

    def load_weights(self, directory: Path) -> None:
        if not self.built:  # resuming: the layers come from the checkpoint's state
            self.load_state_json(json.loads((Path(directory) / "config.json").read_text(encoding="utf-8"))["state"])
        super().load_weights(directory)

    @property
    def device(self) -> torch.device:
        return self.class_weights.device

    @classmethod
    def from_saved(cls, directory: Path, config: HybridConfig, labels: LabelSet, state: dict) -> HybridModel:
        model = cls(config, labels)
        model.load_state_json(state)
        model.load_weights(directory)
        return model
