"""bert_extra: extra transformer layer + FFN head, heads check, 1/sqrt(N) class weights, StepLR per step, save/load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from relx.config import from_dict, load_config
from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.bert_extra import BertExtraConfig, BertExtraModel
from relx.models.loading import load_model
from relx.training.run import parse_run_config
from tiny_models import tiny_config

ROOT = Path(__file__).resolve().parents[2]


def _model(tiny_bert, docs, **cfg) -> BertExtraModel:
    torch.manual_seed(0)
    model = BertExtraModel(tiny_config(BertExtraModel, {"bert": str(tiny_bert)}, **cfg), LabelSet.from_documents(docs))
    model.prepare(docs)
    return model


@pytest.mark.parametrize("pooling", ["cls", "entity_start", "cls_entity"])
def test_forward_shapes(tiny_bert, pair_docs, pooling):
    model = _model(tiny_bert, pair_docs, pooling=pooling)
    out = model(model.collate([model.featurize(d) for d in pair_docs]))
    assert out.logits.shape == (4, len(model.labels))
    assert model.ffn[1].in_features == 32 * {"cls": 1, "entity_start": 2, "cls_entity": 3}[pooling]
    assert model.extra_layer.self_attn.num_heads == 2 and torch.isfinite(out.loss)


def test_heads_must_divide_hidden_size(tiny_bert, pair_docs):
    with pytest.raises(RelxConfigError, match="hidden size 32 is not divisible by n_heads=12"):
        _model(tiny_bert, pair_docs, n_heads=12)
    with pytest.raises(RelxConfigError, match="pooling"):
        _model(tiny_bert, pair_docs, pooling="mean")
    with pytest.raises(RelxConfigError, match="class_weight_power"):
        from_dict(BertExtraConfig, {"class_weight_power": "balanced"}, "config.model (bert_extra)")


def test_class_weights_inverse_sqrt(tiny_bert, pair_docs):
    docs = [pair_docs[0]] * 4 + [pair_docs[1]] + [pair_docs[3]] * 9  # founder x4, employee x1, negative x9
    model = _model(tiny_bert, docs)
    labels = model.labels
    w = model.class_weights
    neg, founder, employee = (labels.id(labels.pair_label(pair_docs[i])) for i in (3, 0, 1))
    assert len(labels) == 3 and len({neg, founder, employee}) == 3
    assert w[neg] / w[employee] == pytest.approx(1 / 3)  # 1/sqrt(9) : 1/sqrt(1)
    assert w[founder] / w[employee] == pytest.approx(1 / 2)  # 1/sqrt(4) : 1/sqrt(1)
    assert w.mean() == pytest.approx(1.0)
    assert torch.equal(_model(tiny_bert, docs, class_weight_power=0.0).class_weights, torch.ones(len(labels)))


def test_save_load_same_logits_and_weights(tiny_bert, pair_docs, tmp_path):
    model = _model(tiny_bert, [pair_docs[0]] * 3 + pair_docs, pooling="entity_start", marker_style="typed").eval()
    batch = model.collate([model.featurize(d) for d in pair_docs])
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m").eval()
    assert torch.equal(loaded.class_weights, model.class_weights)
    with torch.no_grad():
        torch.testing.assert_close(loaded(batch).logits, model(batch).logits)


def test_step_lr_counts_optimizer_steps(tiny_bert, pair_docs, tmp_path):
    """StepLR(step_size, gamma) decays every ``step_size`` optimizer steps (batches / grad_accum)."""
    model = _model(tiny_bert, pair_docs)
    model.fit(
        pair_docs,
        pair_docs,
        epochs=2,
        batch_size=1,
        grad_accum=2,
        lr=1e-3,
        scheduler="StepLR",
        scheduler_kwargs={"step_size": 2, "gamma": 0.5},
        progress=False,
        out_dir=tmp_path,
    )
    sched = json.loads((tmp_path / "last" / "trainer_state.json").read_text())["scheduler"]
    assert sched["last_epoch"] == 4  # 2 epochs x 4 batches / accumulation 2
    assert sched["_last_lr"][0] == pytest.approx(1e-3 * 0.5**2)


@pytest.mark.parametrize("path", ["configs/semeval/bert_extra.yaml", "configs/tacred/bert_extra.yaml"])
def test_configs_parse(path):
    cfg, cls, model_cfg = parse_run_config(load_config(ROOT / path))
    assert cls is BertExtraModel and model_cfg.n_heads == 12 and model_cfg.ffn_hidden == 256
    assert cfg.trainer.scheduler == "StepLR" and cfg.trainer.scheduler_kwargs == {"step_size": 500, "gamma": 0.9}
