"""Marker options explored for the SemEval target: mention pooling and R-Drop."""

from __future__ import annotations

import pytest
import torch

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.marker import MarkerModel
from tiny_models import tiny_config


def _model(tiny_bert, docs, **kw) -> MarkerModel:
    torch.manual_seed(0)
    model = MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}, **kw), LabelSet.from_documents(docs))
    model.prepare(docs)
    return model


def test_start_mention_pooling_adds_the_mention_means(tiny_bert, pair_docs):
    model = _model(tiny_bert, pair_docs, pooling="start_mention")
    assert model.classifier.in_features == 4 * model.front_end.hidden_size
    batch = model.collate([model.featurize(d) for d in pair_docs])
    enc = model.front_end(batch)
    rep = model._rep(enc.states, enc)
    s0, s1 = enc.bounds[0, 0].item(), enc.bounds[0, 1].item()
    assert torch.allclose(rep[0, 2 * 32 : 3 * 32], enc.states[0, s0 : s1 + 1].mean(0), atol=1e-6)
    with pytest.raises(RelxConfigError, match="pooling"):
        _model(tiny_bert, pair_docs, pooling="max")


def test_rdrop_is_zero_without_dropout_and_logged_only_in_training(tiny_bert, pair_docs):
    model = _model(tiny_bert, pair_docs, rdrop=1.0)  # tiny config: dropout 0 -> both passes agree
    batch = model.collate([model.featurize(d) for d in pair_docs])
    model.train()
    out = model(batch)
    assert out.extras["loss_rdrop"].item() == pytest.approx(0.0, abs=1e-6)
    model.eval()
    assert "loss_rdrop" not in model(batch).extras
    noisy = _model(tiny_bert, pair_docs, rdrop=1.0, dropout=0.5)
    noisy.train()
    assert noisy(batch).extras["loss_rdrop"].item() > 0
