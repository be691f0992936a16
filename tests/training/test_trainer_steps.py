"""Trainer details: the last accumulation window, scheduler modes and warmup, config errors."""

from __future__ import annotations

import pytest
import torch

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.marker import MarkerModel
from relx.training.trainer import Trainer, TrainerConfig
from tiny_models import tiny_config


def _model(tiny_bert, docs) -> MarkerModel:
    torch.manual_seed(0)
    return MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}), LabelSet.from_documents(docs))


def test_last_partial_accumulation_window_is_not_scaled_down(tiny_bert, pair_docs, monkeypatch):
    """3 batches with grad_accum 2: the second optimizer step holds one batch, so its gradient is that batch's."""
    docs = pair_docs + pair_docs[:2]  # 6 documents, batch 2 -> 3 batches per epoch
    cfg = TrainerConfig(epochs=1, batch_size=2, grad_accum=2, lr=0.0, weight_decay=0.0, grad_clip=None, progress=False, seed=1)
    model = _model(tiny_bert, docs)
    reference = _model(tiny_bert, docs)
    seen: list[torch.Tensor] = []
    real = Trainer._step

    def spy(self):
        seen.append(self.model.classifier.weight.grad.detach().clone())
        return real(self)

    monkeypatch.setattr(Trainer, "_step", spy)
    trainer = Trainer(cfg)
    trainer.fit(model, docs)
    assert len(seen) == 2
    reference.prepare(docs)
    feats = [reference.featurize(d) for d in docs]
    last = trainer._epoch_batches(reference, feats, 0)[2]
    reference.train()
    reference(reference.collate([feats[i] for i in last])).loss.backward()
    assert torch.allclose(seen[1], reference.classifier.weight.grad, atol=1e-6)


def test_plateau_scheduler_is_maximised_and_torch_schedulers_get_warmup(tiny_bert, pair_docs):
    opt = torch.optim.AdamW(_model(tiny_bert, pair_docs).parameters(), lr=1.0)
    plateau = Trainer(TrainerConfig(scheduler="ReduceLROnPlateau", scheduler_kwargs={"mode": "min"}))._scheduler(opt, 10)
    assert plateau.mode == "max"
    opt = torch.optim.AdamW(_model(tiny_bert, pair_docs).parameters(), lr=1.0)
    sched = Trainer(TrainerConfig(scheduler="StepLR", scheduler_kwargs={"step_size": 100}, warmup_ratio=0.5))._scheduler(opt, 10)
    lrs = []
    for _ in range(8):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] < 0.25 and lrs[:5] == sorted(lrs[:5]) and lrs[5:] == pytest.approx([1.0] * 3)


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"scheduler": "NoSuchScheduler"}, "trainer.scheduler"),
        ({"scheduler": "ReduceLROnPlateau", "warmup_ratio": 0.1}, "trainer.warmup_ratio"),
        ({"batch_size": 0}, "trainer.batch_size"),
        ({"grad_accum": 0}, "trainer.grad_accum"),
    ],
)
def test_trainer_config_errors_name_the_key(kw, match):
    with pytest.raises(RelxConfigError, match=match):
        Trainer(TrainerConfig(**kw))


def test_fit_rejects_unknown_settings(tiny_bert, pair_docs):
    with pytest.raises(RelxConfigError, match="unknown setting.*epoch"):
        _model(tiny_bert, pair_docs).fit(pair_docs, epoch=3)
