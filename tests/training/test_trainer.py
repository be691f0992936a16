"""Generic trainer: resume after a crash gives the same weights as an uninterrupted run."""

from __future__ import annotations

import pytest
import torch

from relx.data.labels import LabelSet
from relx.models.marker import MarkerModel
from relx.training.trainer import Trainer, TrainerConfig
from tiny_models import tiny_config


def _fresh(tiny_bert, docs):
    torch.manual_seed(0)
    return MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}, mld=True, mse=True), LabelSet.from_documents(docs))


def _cfg(**kw):
    return TrainerConfig(**{"epochs": 3, "batch_size": 2, "lr": 1e-3, "eval_every": 2, "progress": False, "seed": 3, **kw})


def test_resume_matches_uninterrupted(tiny_bert, pair_docs, tmp_path, monkeypatch):
    ref = _fresh(tiny_bert, pair_docs)
    Trainer(_cfg()).fit(ref, pair_docs, None, out_dir=tmp_path / "ref")

    calls = {"n": 0}
    real_step = Trainer._step

    def crashing_step(self, *a):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real_step(self, *a)

    monkeypatch.setattr(Trainer, "_step", crashing_step)
    crashed = _fresh(tiny_bert, pair_docs)
    with pytest.raises(KeyboardInterrupt):
        Trainer(_cfg()).fit(crashed, pair_docs, None, out_dir=tmp_path / "run")
    monkeypatch.setattr(Trainer, "_step", real_step)
    resumed = _fresh(tiny_bert, pair_docs)
    hist = Trainer(_cfg()).fit(resumed, pair_docs, None, out_dir=tmp_path / "run", resume=True)
    assert hist["step"] == 6
    for (name, a), b in zip(ref.state_dict().items(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name


def test_early_stopping_and_selection(tiny_bert, pair_docs):
    model = _fresh(tiny_bert, pair_docs)
    hist = Trainer(_cfg(epochs=50, lr=0.0, patience=2, eval_every=None)).fit(model, pair_docs, pair_docs)
    assert len(hist["history"]) == 3  # first eval sets best, two without improvement stop
    assert hist["best_step"] == hist["history"][0]["step"]


def test_torch_scheduler_by_name(tiny_bert, pair_docs):
    from relx.errors import RelxConfigError

    model = _fresh(tiny_bert, pair_docs)
    cfg = _cfg(epochs=1, scheduler="StepLR", scheduler_kwargs={"step_size": 1, "gamma": 0.5})
    Trainer(cfg).fit(model, pair_docs, None)
    with pytest.raises(RelxConfigError, match="trainer.scheduler: unknown scheduler"):
        Trainer(_cfg(scheduler="Nope")).fit(_fresh(tiny_bert, pair_docs), pair_docs, None)


def test_history_logs_each_auxiliary_loss(tiny_bert, pair_docs):
    model = _fresh(tiny_bert, pair_docs)
    hist = Trainer(_cfg(epochs=1, eval_every=None)).fit(model, pair_docs, pair_docs)
    row = hist["history"][0]
    assert {"train_loss", "train_loss_re", "train_loss_mld", "train_loss_mse", "micro_f1"} <= set(row)
    assert row["train_loss"] > row["train_loss_re"] > 0


def test_gradient_accumulation_counts_optimizer_steps(tiny_bert, pair_docs):
    model = _fresh(tiny_bert, pair_docs)
    hist = Trainer(_cfg(epochs=2, grad_accum=2, eval_every=None)).fit(model, pair_docs, None)
    assert hist["step"] == 2  # 4 docs / batch 2 = 2 micro-batches = 1 optimizer step per epoch


def test_train_eval_docs_adds_a_train_curve_to_every_evaluation(tiny_bert, pair_docs):
    model = _fresh(tiny_bert, pair_docs)
    hist = Trainer(_cfg(epochs=2, eval_every=None, train_eval_docs=3)).fit(model, pair_docs, pair_docs)
    assert len(hist["history"]) == 2
    for row in hist["history"]:
        assert 0.0 <= row["train_fit_micro_f1"] <= 1.0 and "micro_f1" in row
    plain = Trainer(_cfg(epochs=1, eval_every=None)).fit(_fresh(tiny_bert, pair_docs), pair_docs, pair_docs)
    assert not any(k.startswith("train_fit_") for k in plain["history"][0])


def test_history_rows_name_the_epoch_they_close(tiny_bert, pair_docs):
    hist = Trainer(_cfg(epochs=3, eval_every=None)).fit(_fresh(tiny_bert, pair_docs), pair_docs, pair_docs)
    assert [row["epoch"] for row in hist["history"]] == [1, 2, 3]
