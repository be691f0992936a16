"""gpt2_clf: last non-pad pooling, added marker tokens, clear errors without GPT-2 weights, save/load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from relx.config import load_config
from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity
from relx.errors import RelxConfigError
from relx.models.gpt2_clf import GPT2ClfModel, last_token_index
from relx.models.loading import load_model
from relx.training.run import parse_run_config
from tiny_models import tiny_config

ROOT = Path(__file__).resolve().parents[2]


def _model(tiny_gpt2, docs, **cfg) -> GPT2ClfModel:
    torch.manual_seed(0)
    model = GPT2ClfModel(tiny_config(GPT2ClfModel, {"gpt2": str(tiny_gpt2)}, **cfg), LabelSet.from_documents(docs))
    model.prepare(docs)
    return model.eval()


def test_last_token_index_hand_made_masks():
    right = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]])
    assert last_token_index(right).tolist() == [2, 4, 0]
    assert last_token_index(torch.tensor([[0, 0, 1, 1], [0, 1, 1, 1]])).tolist() == [3, 3]  # left padding too


def test_padded_batch_classifies_last_real_token(tiny_gpt2, pair_docs):
    """With right padding, each row's logits equal those of the same document run alone."""
    model = _model(tiny_gpt2, pair_docs)
    feats = [model.featurize(d) for d in pair_docs]
    batch = model.collate(feats)
    assert len({len(f["input_ids"]) for f in feats}) > 1 and batch["attention_mask"][:, -1].min() == 0  # really padded
    assert all(f["input_ids"][-1] == model.front_end.tokenizer.eos_token_id for f in feats)
    with torch.no_grad():
        together = model(batch).logits  # (4, C)
        alone = torch.cat([model(model.collate([f])).logits for f in feats])  # (4, C)
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)


def test_marker_tokens_added_and_embeddings_resized(tiny_gpt2, pair_docs):
    base = 320  # vocabulary of the tiny tokenizer built in conftest
    model = _model(tiny_gpt2, pair_docs)
    assert len(model.front_end.tokenizer) == base + 4
    assert model.front_end.encoder.get_input_embeddings().weight.shape[0] == len(model.front_end.tokenizer)
    assert model.front_end.tokenizer.pad_token == model.front_end.tokenizer.eos_token
    words = model.front_end.tokenizer.convert_ids_to_tokens(model.featurize(pair_docs[0])["input_ids"])
    assert [w for w in words if w.startswith("[")] == ["[E1]", "[/E1]", "[E2]", "[/E2]"]  # one token each
    typed = _model(tiny_gpt2, pair_docs, marker_style="typed")
    assert "[S:PERSON]" in typed.front_end.tokenizer.get_vocab() and typed.front_end.encoder.get_input_embeddings().weight.shape[0] == len(
        typed.front_end.tokenizer
    )


def test_truncation_keeps_markers_and_eos(tiny_gpt2):
    toks = ["the"] * 60 + ["bill"] + ["the"] * 60 + ["paris"] + ["the"] * 30
    doc = Document("long", toks, [Entity(60, 61, "PERSON"), Entity(121, 122, "LOCATION")])
    model = _model(tiny_gpt2, [doc], max_length=24)
    ids = model.featurize(doc)["input_ids"]
    words = model.front_end.tokenizer.convert_ids_to_tokens(ids)
    assert len(ids) == 24 and ids[-1] == model.front_end.tokenizer.eos_token_id
    assert {"[E1]", "[/E1]", "[E2]", "[/E2]"} <= set(words)


def test_missing_or_wrong_directory_is_a_clear_error(tiny_bert, tmp_path, pair_docs):
    labels = LabelSet.from_documents(pair_docs)
    for encoder, message in (("", "not set"), (str(tmp_path / "nope"), "no config.json"), (str(tiny_bert), "'bert' model, not GPT-2")):
        with pytest.raises(RelxConfigError, match=message) as err:
            GPT2ClfModel(GPT2ClfModel.Config(encoder=encoder), labels)
        assert "ships no GPT-2 weights" in str(err.value)


def test_placeholder_config_fails_clearly():
    _, cls, model_cfg = parse_run_config(load_config(ROOT / "configs/semeval/gpt2_clf.yaml"))
    with pytest.raises(RelxConfigError, match="/path/to/local/gpt2"):
        cls(model_cfg, LabelSet(["Cause-Effect(e1,e2)"], negative="Other"))


@pytest.mark.parametrize("style", ["plain", "typed"])
def test_save_load_same_logits(tiny_gpt2, pair_docs, tmp_path, style):
    model = _model(tiny_gpt2, [pair_docs[0]] * 3 + pair_docs, marker_style=style)
    batch = model.collate([model.featurize(d) for d in pair_docs])
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m").eval()
    assert torch.equal(loaded.class_weights, model.class_weights) and loaded.class_weights.unique().numel() > 1
    with torch.no_grad():
        torch.testing.assert_close(loaded(batch).logits, model(batch).logits)
