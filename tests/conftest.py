"""Shared fixtures: tiny random-weight encoders (never the real weights) and small documents."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

WORDS = """the a an of in on at to and was is by for with from founded born lives works company city
bill gates microsoft paris france john smith apple london acme corp visited met ceo man woman
cause effect caused burst pressure system elements configuration audits waste""".split()


def build_tiny_bert(directory: Path, layers: int = 2) -> Path:
    """A random BERT (hidden 32) with a WordPiece vocab covering letters, so any word tokenizes."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = specials + chars + ["##" + c for c in chars] + WORDS
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    tok = BertTokenizerFast(str(directory / "vocab.txt"), do_lower_case=True)
    tok.save_pretrained(str(directory))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=layers, num_attention_heads=2, intermediate_size=37,
        max_position_embeddings=128, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    BertModel(config).save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


def make_pair_docs():
    """Four sentence-level documents with directed (SemEval-style) and negative labels."""
    from relx.data.schema import Document, Entity, Relation

    def doc(i, text, e1, e2, rel):
        toks = text.split()
        rels = [] if rel is None else [Relation(*rel)]
        return Document(str(i), toks, [Entity(*e1, "PERSON"), Entity(*e2, "ORGANIZATION")], rels)

    return [
        doc(0, "bill gates founded microsoft in 1975 .", (0, 2), (3, 4), (0, 1, "founder")),
        doc(1, "john smith works at acme corp in london .", (0, 2), (4, 6), (0, 1, "employee")),
        doc(2, "microsoft was founded by bill gates .", (4, 6), (0, 1), (1, 0, "founder")),
        doc(3, "the man visited paris with the woman .", (1, 2), (6, 7), None),
    ]


@pytest.fixture()
def pair_docs():
    return make_pair_docs()
