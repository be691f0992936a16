"""Contract test for every registered model: shapes, finite loss, overfit 4 docs, save->load->same predictions."""

from __future__ import annotations

import pytest
import torch

from relx.data.labels import LabelSet
from relx.models.base import ModelKind
from relx.models.loading import load_model
from relx.models.neural import NeuralREModel
from relx.registry import MODELS

PAIR_MODELS = [n for n in MODELS.names() if MODELS.get(n).kind is ModelKind.PAIR]  # joint models: tests/test_span_models.py


@pytest.mark.parametrize("name", PAIR_MODELS)
def test_model_contract(name, resources, pair_docs, tmp_path):
    cls = MODELS.get(name)
    labels = LabelSet.from_documents(pair_docs)
    torch.manual_seed(0)
    model = cls(cls.tiny_config(resources), labels)
    gold = [labels.pair_label(d) for d in pair_docs]

    if isinstance(model, NeuralREModel):  # forward shapes, finite loss that backprops
        model.prepare(pair_docs)
        out = model(model.collate([model.featurize(d) for d in pair_docs]))
        assert out.logits.shape[0] == len(pair_docs)
        assert torch.isfinite(out.loss)
        out.loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())

    model.fit(pair_docs, pair_docs, **cls.tiny_fit_kwargs())
    preds = model.predict(pair_docs)
    assert [p.meta["pair_label"] for p in preds] == gold, f"{name} does not overfit 4 documents"
    for p in preds:  # decode returns valid relations
        for r in p.relations:
            assert 0 <= r.head < len(p.entities) and 0 <= r.tail < len(p.entities) and r.head != r.tail

    model.save(tmp_path / name)
    again = load_model(tmp_path / name).predict(pair_docs)
    assert [p.meta["pair_label"] for p in again] == gold
    for a, b in zip(preds, again):
        assert a.meta["pair_score"] == pytest.approx(b.meta["pair_score"], abs=1e-5)
