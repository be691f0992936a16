"""Shared fixtures: tiny random-weight encoders (never the real weights) and small documents."""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest

from tiny_models import tiny_config

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
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=128,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    BertModel(config).save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


def build_tiny_gpt2(directory: Path) -> Path:
    """A random GPT-2 (2 layers, 2 heads, width 32) with a byte-level BPE trained offline on WORDS."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2Model, GPT2TokenizerFast

    eot = "<|endoftext|>"
    bpe = ByteLevelBPETokenizer(add_prefix_space=True)
    bpe.train_from_iterator([" ".join(WORDS)] * 2, vocab_size=320, min_frequency=1, special_tokens=[eot], show_progress=False)
    tok = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=eot, eos_token=eot, unk_token=eot, add_prefix_space=True)
    directory.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(str(directory))
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=128,
        n_embd=32,
        n_layer=2,
        n_head=2,
        bos_token_id=tok.eos_token_id,
        eos_token_id=tok.eos_token_id,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    GPT2Model(config).save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory) -> Path:
    return build_tiny_gpt2(tmp_path_factory.mktemp("tiny_gpt2"))


# hand-written PTB tags, NER and 1-based dependency heads for the four documents below
_ANNOTATIONS = {
    0: ("NNP NNP VBD NNP IN CD .", "PERSON PERSON O ORGANIZATION O DATE O", "2 3 0 3 3 5 3", "compound nsubj root dobj prep pobj punct"),
    1: (
        "NNP NNP VBZ IN NNP NNP IN NNP .",
        "PERSON PERSON O O ORGANIZATION ORGANIZATION O LOCATION O",
        "2 3 0 3 6 4 3 7 3",
        "compound nsubj root prep compound pobj prep pobj punct",
    ),
    2: (
        "NNP VBD VBN IN NNP NNP .",
        "ORGANIZATION O O O PERSON PERSON O",
        "3 3 0 3 6 4 3",
        "nsubjpass auxpass root agent compound pobj punct",
    ),
    3: ("DT NN VBD NNP IN DT NN .", "O O O LOCATION O O O O", "2 3 0 3 3 7 5 3", "det nsubj root dobj prep det pobj punct"),
}


def make_pair_docs():
    """Four sentence-level documents with directed (SemEval-style) and negative labels, fully annotated."""
    from relx.data.schema import Document, Entity, Relation

    def doc(i, text, e1, e2, rel):
        toks = text.split()
        rels = [] if rel is None else [Relation(*rel)]
        pos, ner, heads, deprels = (a.split() for a in _ANNOTATIONS[i])
        return Document(
            str(i),
            toks,
            [Entity(*e1, "PERSON"), Entity(*e2, "ORGANIZATION")],
            rels,
            pos=pos,
            ner=ner,
            heads=[int(h) for h in heads],
            deprels=deprels,
        )

    return [
        doc(0, "bill gates founded microsoft in 1975 .", (0, 2), (3, 4), (0, 1, "founder")),
        doc(1, "john smith works at acme corp in london .", (0, 2), (4, 6), (0, 1, "employee")),
        doc(2, "microsoft was founded by bill gates .", (4, 6), (0, 1), (1, 0, "founder")),
        doc(3, "the man visited paris with the woman .", (1, 2), (6, 7), None),
    ]


def make_joint_docs():
    """Four joint extraction documents (several typed entities and relations; one with none)."""
    from relx.data.schema import Document, Entity, Relation

    def doc(i, text, ents, rels):
        return Document(str(i), text.split(), [Entity(*e) for e in ents], [Relation(*r) for r in rels])

    return [
        doc(
            0,
            "john smith works for acme corp in boston .",
            [(0, 2, "Peop"), (4, 6, "Org"), (7, 8, "Loc")],
            [(0, 1, "Work_For"), (1, 2, "OrgBased_In")],
        ),
        doc(1, "oswald killed kennedy in dallas .", [(0, 1, "Peop"), (2, 3, "Peop"), (4, 5, "Loc")], [(0, 1, "Kill")]),
        doc(2, "mary lives in paris .", [(0, 1, "Peop"), (3, 4, "Loc")], [(0, 1, "Live_In")]),
        doc(3, "nothing happened here .", [], []),
    ]


def make_triple_docs():
    """Four documents with given entities for all-pairs models: EPO (two relations on one pair), SEO (shared
    entities), a reversed pair, a sentence without triples."""
    from relx.data.schema import Document, Entity, Relation

    def doc(i, text, ents, rels):
        return Document(str(i), text.split(), [Entity(s, e, "ENTITY") for s, e in ents], [Relation(*r) for r in rels])

    return [
        doc(
            0,
            "ernst haefliger died in davos switzerland .",
            [(0, 2), (4, 5), (5, 6)],
            [(0, 1, "place_of_death"), (0, 1, "place_of_birth"), (2, 1, "contains")],
        ),
        doc(1, "bob lives in paris france .", [(0, 1), (3, 4), (4, 5)], [(0, 1, "lives_in"), (2, 1, "contains")]),
        doc(2, "acme corp is based in london .", [(0, 2), (5, 6)], [(0, 1, "based_in")]),
        doc(3, "nothing here relates to paris .", [(4, 5)], []),
    ]


@pytest.fixture()
def pair_docs():
    return make_pair_docs()


@pytest.fixture(scope="session")
def resources(tiny_bert, tiny_gpt2) -> dict:
    """What ``tiny_config(Model, resources)`` may use: tiny encoders and small word vectors."""
    return {"bert": str(tiny_bert), "gpt2": str(tiny_gpt2), "glove": str(ROOT / "data" / "glove_6B_50d_top4k" / "glove50_4k.txt.gz")}


def save_tiny_marker(directory, bert, docs=None, **cfg):
    """An untrained tiny-BERT marker model prepared on ``docs`` (default: make_pair_docs()), seeded, saved; its path."""
    import torch

    from relx.data.labels import LabelSet
    from relx.models.marker import MarkerModel

    docs = docs or make_pair_docs()
    torch.manual_seed(0)
    model = MarkerModel(tiny_config(MarkerModel, {"bert": str(bert)}, **cfg), LabelSet.from_documents(docs))
    model.prepare(docs)
    return model.save(directory)


# Sentence-level pair documents with given gold labels (and lengths), for scorer/regime tests.
N = "no_relation"


def docs_with(labels: list[str], lengths: list[int] | None = None) -> list:
    from relx.data.schema import Document, Entity, Relation

    lengths = lengths or [4] * len(labels)
    return [
        Document(f"d{i}", ["w"] * n, [Entity(0, 1, "PERSON"), Entity(2, 3, "ORGANIZATION")], [] if lab == N else [Relation(0, 1, lab)])
        for i, (lab, n) in enumerate(zip(labels, lengths))
    ]
