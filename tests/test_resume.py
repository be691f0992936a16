"""Resume after a crash gives the same weights as an uninterrupted run, for every neural model;
checkpoints survive a kill during their own write; a changed config is named, not half-resumed."""

from __future__ import annotations

import os

import pytest
import torch

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.base import ModelKind
from relx.models.neural import NeuralREModel
from relx.registry import MODELS
from relx.training import checkpoint as ckpt
from relx.training.trainer import Trainer, TrainerConfig

NEURAL = [n for n in MODELS.names() if issubclass(MODELS.get(n), NeuralREModel)]
CASES = [(n, {}) for n in NEURAL] + [("marker", {"marker_style": "typed", "mld": True, "mse": True})]


def _joint(name: str) -> bool:
    return MODELS.get(name).kind is not ModelKind.PAIR


def _fresh(name: str, overrides: dict, resources: dict, docs: list) -> NeuralREModel:
    cls = MODELS.get(name)
    torch.manual_seed(0)
    labels = LabelSet({r.label for d in docs for r in d.relations}) if _joint(name) else LabelSet.from_documents(docs)
    return cls(cls.tiny_config(resources, **overrides), labels)


def _cfg(name: str, **kw) -> TrainerConfig:
    lr = MODELS.get(name).tiny_fit_kwargs().get("lr", 1e-3)
    joint = {"scheme": "joint", "metric": "re_strict_micro_f1"} if _joint(name) else {}
    return TrainerConfig(**{"epochs": 3, "batch_size": 2, "lr": lr, "eval_every": 2, "progress": False, "seed": 3,
                            "warmup_ratio": 0.2, "num_threads": 1, **joint, **kw})


def _assert_same_weights(a: NeuralREModel, b: NeuralREModel) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.allclose(sa[name].float(), sb[name].float(), atol=1e-6), name


def _crash_at_step(monkeypatch, n: int) -> None:
    calls = {"n": 0}
    real = Trainer._step

    def crashing(self, *a):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(self, *a)

    monkeypatch.setattr(Trainer, "_step", crashing)


@pytest.mark.parametrize("name,overrides", CASES, ids=[f"{n}{'-typed' if o else ''}" for n, o in CASES])
def test_resume_matches_uninterrupted(name, overrides, resources, pair_docs, tmp_path, monkeypatch):
    if _joint(name):  # joint models train on documents with many entities (span sampling included)
        from conftest import make_joint_docs

        pair_docs = make_joint_docs()
    ref = _fresh(name, overrides, resources, pair_docs)
    Trainer(_cfg(name)).fit(ref, pair_docs, pair_docs[:2], out_dir=tmp_path / "ref")

    with monkeypatch.context() as m:
        _crash_at_step(m, 5)
        with pytest.raises(KeyboardInterrupt):
            Trainer(_cfg(name)).fit(_fresh(name, overrides, resources, pair_docs), pair_docs, pair_docs[:2], out_dir=tmp_path / "run")
    resumed = _fresh(name, overrides, resources, pair_docs)
    hist = Trainer(_cfg(name)).fit(resumed, pair_docs, pair_docs[:2], out_dir=tmp_path / "run", resume=True)
    assert hist["step"] == 6
    _assert_same_weights(ref, resumed)


@pytest.mark.parametrize("where", ["inside", "between_renames"])
def test_kill_during_checkpoint_write_keeps_the_previous_checkpoint(where, resources, pair_docs, tmp_path, monkeypatch):
    """A kill while last/ is rewritten leaves the previous complete checkpoint; resume then matches."""
    name, over = "marker", {"marker_style": "typed"}
    ref = _fresh(name, over, resources, pair_docs)
    Trainer(_cfg(name)).fit(ref, pair_docs, None, out_dir=tmp_path / "ref")

    calls = {"n": 0}
    if where == "inside":  # dies after the weights, before the optimizer state of the 2nd checkpoint
        real_save = ckpt.save_file

        def dying_save(tensors, path):
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
            return real_save(tensors, path)

        monkeypatch.setattr(ckpt, "save_file", dying_save)
    else:  # dies after moving the old last/ aside, before the new one is renamed into place
        real_replace = os.replace

        def dying_replace(src, dst):
            if str(src).endswith(".tmpdir") and str(dst).endswith("last"):
                calls["n"] += 1
                if calls["n"] == 2:
                    raise KeyboardInterrupt
            return real_replace(src, dst)

        monkeypatch.setattr(os, "replace", dying_replace)
    with pytest.raises(KeyboardInterrupt):
        Trainer(_cfg(name)).fit(_fresh(name, over, resources, pair_docs), pair_docs, None, out_dir=tmp_path / "run")
    monkeypatch.undo()
    assert calls["n"] >= 1
    resumed = _fresh(name, over, resources, pair_docs)
    hist = Trainer(_cfg(name)).fit(resumed, pair_docs, None, out_dir=tmp_path / "run", resume=True)
    assert hist["step"] == 6
    _assert_same_weights(ref, resumed)
    leftovers = [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


def test_resume_with_changed_settings_names_them(resources, pair_docs, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        _crash_at_step(m, 3)
        with pytest.raises(KeyboardInterrupt):
            Trainer(_cfg("marker")).fit(_fresh("marker", {}, resources, pair_docs), pair_docs, None, out_dir=tmp_path / "run")
    with pytest.raises(RelxConfigError, match=r"trainer\.lr: checkpoint .*now 0\.5"):
        Trainer(_cfg("marker", lr=0.5)).fit(_fresh("marker", {}, resources, pair_docs), pair_docs, None, out_dir=tmp_path / "run", resume=True)
    with pytest.raises(RelxConfigError, match=r"model\.dropout: checkpoint 0\.0, now 0\.3"):
        Trainer(_cfg("marker")).fit(_fresh("marker", {"dropout": 0.3}, resources, pair_docs), pair_docs, None, out_dir=tmp_path / "run", resume=True)
    more = Trainer(_cfg("marker", epochs=4)).fit(_fresh("marker", {}, resources, pair_docs), pair_docs, None, out_dir=tmp_path / "run", resume=True)
    assert more["step"] == 8  # a longer schedule is a legitimate resume
