"""Word-level sequence encoder shared by ``feature_bilstm`` and ``hybrid``.

Per token: the word embedding, its relative positions to the subject and object spans
(``position_dim`` > 0), and optional POS / NER / entity-type tag embeddings (``pos_dim`` /
``ner_dim`` / ``type_dim`` > 0), concatenated and read by a packed BiLSTM. The vocabularies are
learned from the training documents (:meth:`TokenBiLSTM.from_training`) and saved as JSON state
(:meth:`state_json` / :meth:`from_state`). Model configs extend :class:`TokenChannelsConfig`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from relx.data.schema import Document
from relx.nn.bilstm import BiLSTM
from relx.nn.embeddings import Vocab, word_vectors
from relx.nn.sequence import CHANNELS, NONE, channel_tags, has_channel, length_mask, pad_ids, relative_positions, word_dropout

log = logging.getLogger("relx.train")


@dataclass
class TokenChannelsConfig:
    """Settings of the word-level channels and BiLSTM; model configs extend it (and may change defaults)."""

    word_vectors: str = "encoder"  # encoder | encoder:/path | /path/to/glove.txt[.gz] | random
    word_dim: int = 100  # only for word_vectors: random
    freeze_words: bool | None = None  # keep the initial word vectors fixed (None: freeze unless word_vectors is random)
    min_count: int = 1  # training-set frequency for a word to enter the vocabulary
    lowercase: bool = True
    max_vocab: int | None = None
    word_dropout: float = 0.0  # training: replace a word id by <unk> with this probability
    position_dim: int = 30  # relative-position embeddings to subject and object (0 = none)
    max_position: int = 60
    pos_dim: int = 30  # > 0: POS-tag embeddings (TACRED fields or `relx data annotate`)
    ner_dim: int = 30  # > 0: NER-tag embeddings
    type_dim: int = 30  # > 0: entity-type channel (SUBJ-<type> / OBJ-<type> / O) embeddings
    hidden_size: int = 200  # BiLSTM units per direction
    num_layers: int = 1
    dropout: float = 0.3
    seed: int = 0  # random word vectors


def _dim(cfg: Any, channel: str) -> int:
    return int(getattr(cfg, f"{channel}_dim", 0) or 0)


class TokenBiLSTM(nn.Module):
    """Word + position (+ tag channel) embeddings -> packed BiLSTM: batch -> states (B, T, 2H) and mask (B, T)."""

    def __init__(self, cfg: Any, vocabs: dict[str, Vocab], word_dim: int):
        super().__init__()
        self.cfg, self.vocabs, self.word_dim = cfg, vocabs, word_dim
        self.channels = [c for c in CHANNELS if c in vocabs]
        self.word_emb = nn.Embedding(len(vocabs["word"]), word_dim, padding_idx=0)
        freeze = cfg.freeze_words if cfg.freeze_words is not None else cfg.word_vectors != "random"
        self.word_emb.weight.requires_grad = not freeze
        in_dim = word_dim
        if cfg.position_dim:
            n_pos = 2 * cfg.max_position + 2  # 0 = padding
            self.subj_pos_emb = nn.Embedding(n_pos, cfg.position_dim, padding_idx=0)
            self.obj_pos_emb = nn.Embedding(n_pos, cfg.position_dim, padding_idx=0)
            in_dim += 2 * cfg.position_dim
        self.channel_embs = nn.ModuleDict({f"{c}_emb": nn.Embedding(len(vocabs[c]), _dim(cfg, c), padding_idx=0) for c in self.channels})
        in_dim += sum(_dim(cfg, c) for c in self.channels)
        self.in_dropout = nn.Dropout(cfg.dropout)
        self.lstm = BiLSTM(in_dim, cfg.hidden_size, cfg.num_layers, cfg.dropout)
        self.output_dim = self.lstm.output_dim
        self._missing_warned: set[str] = set()

    # --- construction / state ---------------------------------------------------------
    @classmethod
    def from_training(cls, cfg: Any, train: list[Document]) -> TokenBiLSTM:
        """Vocabularies from ``train`` and the initial word vectors of ``cfg.word_vectors``."""
        vocabs = {"word": Vocab.from_tokens((d.tokens for d in train), cfg.min_count, cfg.lowercase, cfg.max_vocab)}
        for c in CHANNELS:
            if _dim(cfg, c):  # every vocabulary has the fallback tag: NONE (no annotation) or O (outside both entities)
                extra = "O" if c == "type" else NONE
                vocabs[c] = Vocab.from_tokens(([*channel_tags(d, c), extra] for d in train), lowercase=False)
        vectors, found = word_vectors(vocabs["word"].words, cfg.word_vectors, dim=cfg.word_dim, seed=cfg.seed)
        log.info("word vectors %s: %d of %d vocabulary words found", cfg.word_vectors, found, len(vocabs["word"]))
        module = cls(cfg, vocabs, vectors.shape[1])
        module.word_emb.weight.data.copy_(vectors)
        return module

    def state_json(self) -> dict:
        return {"vocabs": {k: v.to_json() for k, v in self.vocabs.items()}, "word_dim": self.word_dim}

    @classmethod
    def from_state(cls, cfg: Any, state: dict) -> TokenBiLSTM:
        return cls(cfg, {k: Vocab.from_json(v) for k, v in state["vocabs"].items()}, int(state["word_dim"]))

    # --- features -----------------------------------------------------------------------
    def featurize(self, doc: Document) -> dict:
        """Id sequences of the word, position and tag channels of ``doc`` (entities[0] = subject)."""
        n, subj, obj, m = len(doc.tokens), doc.entities[0], doc.entities[1], self.cfg.max_position
        feat = {"words": self.vocabs["word"].encode(doc.tokens)}
        if self.cfg.position_dim:
            feat["subj_pos"] = [c + m + 1 for c in relative_positions(n, subj.start, subj.end, m)]
            feat["obj_pos"] = [c + m + 1 for c in relative_positions(n, obj.start, obj.end, m)]
        for c in self.channels:
            self._warn_if_missing(doc, c)
            feat[c] = self.vocabs[c].encode(channel_tags(doc, c))
        return feat

    def _warn_if_missing(self, doc: Document, channel: str) -> None:
        """A model trained with POS/NER tags loses accuracy on input without them: say so once."""
        if channel == "type" or channel in self._missing_warned or has_channel(doc, channel):
            return
        if any(w != NONE for w in self.vocabs[channel].words[2:]):
            self._missing_warned.add(channel)
            log.warning(
                "document %r has no %s tags but the model was trained with them (%s_dim > 0): predictions will be "
                "less accurate; annotate the input first (`relx data annotate`)",
                doc.id,
                channel.upper(),
                channel,
            )

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        """Padded (B, T) id tensors of every channel and the lengths (B,)."""
        keys = ["words", *(["subj_pos", "obj_pos"] if self.cfg.position_dim else []), *self.channels]
        batch = {k: pad_ids([f[k] for f in feats]) for k in keys}
        batch["lengths"] = torch.tensor([len(f["words"]) for f in feats])  # (B,)
        return batch

    # --- model --------------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """-> BiLSTM states (B, T, 2H) and mask (B, T)."""
        words = word_dropout(batch["words"], self.cfg.word_dropout, self.training)  # (B, T)
        parts = [self.word_emb(words)]
        if self.cfg.position_dim:
            parts += [self.subj_pos_emb(batch["subj_pos"]), self.obj_pos_emb(batch["obj_pos"])]
        parts += [self.channel_embs[f"{c}_emb"](batch[c]) for c in self.channels]
        x = torch.cat(parts, dim=-1)  # (B, T, D)
        h = self.lstm(self.in_dropout(x), batch["lengths"])  # (B, T, 2H)
        return h, length_mask(batch["lengths"], h.shape[1])
