"""Resume (per model: tests/test_contract.py): checkpoints survive a kill during their own write; a changed config is named, not half-resumed."""

from __future__ import annotations

import os

import pytest

from relx.errors import RelxConfigError
from relx.training import checkpoint as ckpt
from relx.training.trainer import Trainer
from tiny_models import crash_at_step, fresh_model, resume_config, same_weights


@pytest.mark.parametrize("where", ["inside", "between_renames"])
def test_kill_during_checkpoint_write_keeps_the_previous_checkpoint(where, resources, pair_docs, tmp_path, monkeypatch):
    """A kill while last/ is rewritten leaves the previous complete checkpoint; resume then matches."""
    name, over = "marker", {"marker_style": "typed"}
    ref = fresh_model(name, resources, pair_docs, **over)
    Trainer(resume_config(name)).fit(ref, pair_docs, None, out_dir=tmp_path / "ref")

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
        Trainer(resume_config(name)).fit(fresh_model(name, resources, pair_docs, **over), pair_docs, None, out_dir=tmp_path / "run")
    monkeypatch.undo()
    assert calls["n"] >= 1
    resumed = fresh_model(name, resources, pair_docs, **over)
    hist = Trainer(resume_config(name)).fit(resumed, pair_docs, None, out_dir=tmp_path / "run", resume=True)
    assert hist["step"] == 6
    same_weights(ref, resumed)
    leftovers = [p.name for p in (tmp_path / "run").iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


def test_resume_with_changed_settings_names_them(resources, pair_docs, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        crash_at_step(m, 3)
        with pytest.raises(KeyboardInterrupt):
            Trainer(resume_config("marker")).fit(fresh_model("marker", resources, pair_docs), pair_docs, None, out_dir=tmp_path / "run")
    with pytest.raises(RelxConfigError, match=r"trainer\.lr: checkpoint .*now 0\.5"):
        Trainer(resume_config("marker", lr=0.5)).fit(
            fresh_model("marker", resources, pair_docs), pair_docs, None, out_dir=tmp_path / "run", resume=True
        )
    with pytest.raises(RelxConfigError, match=r"model\.dropout: checkpoint 0\.0, now 0\.3"):
        Trainer(resume_config("marker")).fit(
            fresh_model("marker", resources, pair_docs, dropout=0.3), pair_docs, None, out_dir=tmp_path / "run", resume=True
        )
    more = Trainer(resume_config("marker", epochs=4)).fit(
        fresh_model("marker", resources, pair_docs), pair_docs, None, out_dir=tmp_path / "run", resume=True
    )
    assert more["step"] == 8  # a longer schedule is a legitimate resume
