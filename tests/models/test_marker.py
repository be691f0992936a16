"""Marker model: markers, truncation, MLD/MSE losses, overfit, save->load->same predictions."""

from __future__ import annotations

import pytest
import torch

from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity
from relx.models.loading import load_model
from relx.models.marker import MarkerModel
from relx.nn.markers import insert_markers, keep_window
from tiny_models import tiny_config


def test_insert_markers_order_and_spans():
    doc = Document("x", "a b c d e".split(), [Entity(3, 5, "P"), Entity(0, 1, "O")])
    m = insert_markers(doc, "plain", ("P", "O"))
    assert m.words == ["[E2]", "a", "[/E2]", "b", "c", "[E1]", "d", "e", "[/E1]"]
    assert m.anchors == (5, 0)
    assert m.spans == ((6, 8), (1, 2))


def test_keep_window_keeps_markers_and_nearest_context():
    keep = keep_window(20, [2, 17], 6)
    assert 2 in keep and 17 in keep and len(keep) == 6
    assert keep == sorted(keep)
    assert keep_window(5, [0], 10) == [0, 1, 2, 3, 4]


def _model(tiny_bert, docs, **cfg):
    labels = LabelSet.from_documents(docs)
    torch.manual_seed(0)
    model = MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}, **cfg), labels)
    model.prepare(docs)
    return model


@pytest.mark.parametrize("style", ["plain", "typed", "punct", "typed_punct"])
def test_truncation_keeps_both_entities(tiny_bert, style):
    toks = ["the"] * 60 + ["bill"] + ["the"] * 60 + ["paris"] + ["the"] * 30
    doc = Document("long", toks, [Entity(60, 61, "PERSON"), Entity(121, 122, "LOCATION")])
    model = _model(tiny_bert, [doc], marker_style=style, max_length=24)
    f = model.featurize(doc)
    assert len(f["input_ids"]) <= 24
    words = model.front_end.tokenizer.convert_ids_to_tokens(f["input_ids"])
    assert "bill" in words and "paris" in words
    assert words[f["bounds"][0]] == "bill" and words[f["bounds"][2]] == "paris"


def test_losses_are_logged_and_backprop(tiny_bert, pair_docs):
    model = _model(tiny_bert, pair_docs, mld=True, mse=True, marker_style="plain")
    batch = model.collate([model.featurize(d) for d in pair_docs])
    out = model(batch)
    assert out.logits.shape == (4, len(model.labels))
    assert set(out.extras) == {"loss_re", "loss_mld", "loss_mse"}
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert model.mix.weights.grad is not None and model.span_head.proj.weight.grad is not None


@pytest.mark.parametrize("cfg", [{}, {"mld": True, "mse": True, "marker_style": "typed"}, {"mld": True, "mld_mode": "hidden"}])
def test_overfit_then_save_load_same_predictions(tiny_bert, pair_docs, tmp_path, cfg):
    model = _model(tiny_bert, pair_docs, **cfg)
    history = model.fit(pair_docs, pair_docs, epochs=60, batch_size=4, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0, scheme="tacred")
    preds = model.predict(pair_docs)
    gold = [model.labels.pair_label(d) for d in pair_docs]
    assert [p.meta["pair_label"] for p in preds] == gold, history["history"][-1]
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    again = loaded.predict(pair_docs)
    assert [p.meta["pair_label"] for p in again] == gold
    for a, b in zip(preds, again):
        assert a.meta["pair_score"] == pytest.approx(b.meta["pair_score"], abs=1e-5)
