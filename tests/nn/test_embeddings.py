"""Vocab, word_vectors (GloVe file, encoder word pieces, random), packed BiLSTM and attention pooling."""

from __future__ import annotations

import gzip

import pytest
import torch

from relx.errors import RelxInputError
from relx.nn.bilstm import AttentionPool, BiLSTM
from relx.nn.embeddings import Vocab, word_vectors


def test_vocab_round_trip_and_unknowns():
    v = Vocab.from_tokens([["The", "cat", "sat"], ["the", "dog"], ["cat"]], min_count=1)
    assert v.words[:2] == ["<pad>", "<unk>"]
    assert v.words[2:4] == ["cat", "the"]  # most frequent first, ties alphabetical
    assert v.encode(["THE", "zebra"]) == [v.index["the"], 1]
    again = Vocab.from_json(v.to_json())
    assert again.words == v.words and len(again) == len(v) == 6
    assert Vocab.from_tokens([["a", "a", "b"]], min_count=2).words == ["<pad>", "<unk>", "a"]
    cased = Vocab(["NN", "<pad>"], lowercase=False)
    assert cased.words == ["<pad>", "<unk>", "NN"] and cased.encode(["nn", "NN"]) == [1, 2]


def test_word_vectors_from_glove_file(resources):
    words = ["<pad>", "<unk>", "the", "The", "qqqzzz"]
    mat, found = word_vectors(words, resources["glove"])
    assert mat.shape == (5, 50)
    assert found == 2  # "the" and (case-insensitively) "The"
    assert torch.equal(mat[0], torch.zeros(50))
    with gzip.open(resources["glove"], "rt", encoding="utf-8") as fh:
        fh.readline()  # "N D" header
        first = fh.readline().split()
    assert first[0] == "the"
    assert torch.allclose(mat[2], torch.tensor([float(x) for x in first[1:]]))
    assert torch.equal(mat[2], mat[3])


def test_word_vectors_bad_line_names_file_and_line(tmp_path):
    path = tmp_path / "vec.txt"
    path.write_text("a 0.1 0.2\nb 0.3 x\n", encoding="utf-8")
    with pytest.raises(RelxInputError, match=r"vec.txt:2"):
        word_vectors(["<pad>", "<unk>", "b"], str(path))
    path.write_text("a 0.1 0.2\nb 0.3\n", encoding="utf-8")
    with pytest.raises(RelxInputError, match=r"vec.txt:2.*expected 2"):
        word_vectors(["<pad>", "<unk>", "b"], str(path))


def test_word_vectors_encoder_averages_word_pieces(resources):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(resources["bert"])
    table = AutoModel.from_pretrained(resources["bert"]).get_input_embeddings().weight.detach()
    words = ["<pad>", "<unk>", "gates", "xq"]
    mat, found = word_vectors(words, f"encoder:{resources['bert']}")
    assert mat.shape == (4, 32) and found == 2
    for i in (2, 3):
        ids = tok(words[i], add_special_tokens=False)["input_ids"]
        assert torch.allclose(mat[i], table[ids].mean(0))
    assert len(tok("xq", add_special_tokens=False)["input_ids"]) == 2  # really an average of pieces
    assert torch.equal(mat[0], torch.zeros(32))


def test_word_vectors_random_is_seeded():
    a, found = word_vectors(["<pad>", "x", "y"], "random", dim=7, seed=3)
    b, _ = word_vectors(["<pad>", "x", "y"], "random", dim=7, seed=3)
    assert a.shape == (3, 7) and found == 0 and torch.equal(a, b) and torch.equal(a[0], torch.zeros(7))


def test_bilstm_packed_equals_per_sequence():
    torch.manual_seed(0)
    lstm = BiLSTM(6, 5).eval()
    lengths = torch.tensor([4, 7, 2])
    x = torch.randn(3, 7, 6)
    out = lstm(x, lengths)
    assert out.shape == (3, 7, 10) and lstm.output_dim == 10
    for i, n in enumerate(lengths.tolist()):
        alone = lstm(x[i : i + 1, :n], torch.tensor([n]))  # (1, n, 10)
        assert torch.allclose(out[i, :n], alone[0], atol=1e-6)
        assert torch.equal(out[i, n:], torch.zeros(7 - n, 10))


def test_attention_pool_ignores_padding():
    torch.manual_seed(0)
    pool = AttentionPool(4)
    h = torch.randn(2, 5, 4)
    mask = torch.tensor([[True, True, True, False, False], [True] * 5])
    pooled, weights = pool(h, mask)
    assert pooled.shape == (2, 4) and weights.shape == (2, 5)
    assert torch.allclose(weights.sum(-1), torch.ones(2))
    assert torch.equal(weights[0, 3:], torch.zeros(2))
    h2 = h.clone()
    h2[0, 3:] = 100.0  # changing padded positions changes nothing
    assert torch.allclose(pool(h2, mask)[0][0], pooled[0])


def test_word_vectors_header_and_words_with_spaces(tmp_path):
    path = tmp_path / "vec.txt"
    path.write_text("2 2\n. . . 0.5 0.25\nCat 1 2\n", encoding="utf-8")  # GloVe 840B has such "words"
    mat, found = word_vectors(["<pad>", "<unk>", ". . .", "cat"], str(path))
    assert found == 2 and mat[2].tolist() == [0.5, 0.25] and mat[3].tolist() == [1.0, 2.0]
