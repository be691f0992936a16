"""Multi-Level Distillation: the teacher is detached in both modes, and each mode pulls the right thing."""

from __future__ import annotations

import pytest
import torch

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.marker import MarkerModel
from tiny_models import tiny_config


def _model(tiny_bert, docs, **kw) -> MarkerModel:
    torch.manual_seed(0)
    model = MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}, mld=True, **kw), LabelSet.from_documents(docs))
    model.prepare(docs)
    model.train()
    return model


def _mld_only_grads(model: MarkerModel, docs) -> dict[str, torch.Tensor | None]:
    batch = model.collate([model.featurize(d) for d in docs])
    model.zero_grad()
    logits = model.classifier(model.head_dropout(model.pair_repr(batch)))
    loss = model.mld_loss(model._encoding, logits)
    loss.backward()
    return {n: p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize("mode", ["logits", "hidden"])
def test_mld_loss_sends_no_gradient_to_the_teacher(tiny_bert, pair_docs, mode):
    model = _model(tiny_bert, pair_docs, mld_mode=mode)
    grads = _mld_only_grads(model, pair_docs)
    for name, g in grads.items():
        if name.startswith(("classifier.", "mix.")):
            assert g is None or g.abs().sum() == 0, f"{name} gets gradient from the MLD loss"
    lower = [n for n, g in grads.items() if n.startswith("front_end.encoder.encoder.layer.0.") and g is not None and g.abs().sum() > 0]
    assert lower, "the lower layers must learn from the MLD loss"
    if mode == "logits":
        assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items() if n.startswith("mld_heads."))


def test_hidden_mode_pulls_lower_layers_to_the_top_layer(tiny_bert, pair_docs):
    model = _model(tiny_bert, pair_docs, mld_mode="hidden", mld_layers=[1, 2])
    assert not hasattr(model, "mld_heads")  # no per-layer heads in hidden mode
    batch = model.collate([model.featurize(d) for d in pair_docs])
    enc = model.front_end(batch, taps=True)
    top = model._rep(enc.layers[2], enc)
    low = model._rep(enc.layers[1], enc)
    expected = (1 - torch.nn.functional.cosine_similarity(low, top, dim=-1)).mean()
    logits = torch.zeros(len(pair_docs), len(model.labels))
    assert model.mld_loss(enc, logits).item() == pytest.approx(expected.item(), rel=1e-5)
    model.mix.weights.data = torch.tensor([5.0, -5.0])  # the mix must not matter: the target is the top layer itself
    assert model.mld_loss(enc, logits).item() == pytest.approx(expected.item(), rel=1e-5)


def test_mld_config_errors(tiny_bert, pair_docs):
    with pytest.raises(RelxConfigError, match="mld_mode"):
        _model(tiny_bert, pair_docs, mld_mode="both")
    with pytest.raises(RelxConfigError, match="mld_layers"):
        _model(tiny_bert, pair_docs, mld_layers=[-1])
