"""Every shipped config parses into its model's config and valid trainer settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from relx.config import load_config
from relx.errors import RelxConfigError
from relx.training.run import move_legacy_keys, parse_run_config

ROOT = Path(__file__).resolve().parents[1]
# Runnable configs; files starting with "_" and everything under configs/_base/ are bases only.
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*/*.yaml") if not p.name.startswith("_") and p.parent.name != "_base")
RESOLVED = json.loads((ROOT / "tests" / "fixtures" / "resolved_configs.json").read_text())


@pytest.mark.parametrize("path", CONFIGS, ids=[f"{p.parent.name}/{p.name}" for p in CONFIGS])
def test_shipped_config_parses(path):
    cfg, cls, model_cfg = parse_run_config(load_config(path))
    assert isinstance(model_cfg, cls.Config)
    assert cfg.trainer.metric and cfg.data.train


def test_paper_faithful_tacred_configs():
    for name in ("marker", "marker_mld", "marker_mse", "marker_mld_mse"):
        _, _, m = parse_run_config(load_config(ROOT / "configs" / "tacred" / f"{name}.yaml"))
        assert m.marker_style == "plain" and m.mld == ("mld" in name) and m.mse == ("mse" in name)
    _, _, m = parse_run_config(load_config(ROOT / "configs" / "tacred" / "bert_extra.yaml"))
    assert m.marker_style == "none" and m.pooling == "cls" and m.class_weight_power == 0.5


@pytest.mark.parametrize("power", [-0.5, "balanced", True])
def test_class_weight_power_is_validated(pair_docs, power):
    from relx.data.labels import LabelSet
    from relx.errors import RelxConfigError
    from relx.models.feature_bilstm import FeatureBiLSTMConfig, FeatureBiLSTMModel

    with pytest.raises(RelxConfigError, match="class_weight_power"):
        FeatureBiLSTMModel(FeatureBiLSTMConfig(class_weight_power=power), LabelSet.from_documents(pair_docs))


# --- base: inheritance ---------------------------------------------------------------------------
def test_every_shipped_config_resolves_to_the_recorded_dict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The configs were rewritten with ``base:``; each still resolves to the dict the pre-inheritance file
    gave (tests/fixtures/resolved_configs.json, data paths found relative to the config as <ROOT>/...)."""
    monkeypatch.chdir(tmp_path)  # nothing resolves from here: every found data path becomes absolute
    got = {}
    for path in CONFIGS:
        raw = load_config(path)
        for key, value in raw.get("data", {}).items():
            if key in ("train", "dev", "test") and isinstance(value, str) and value.startswith(f"{ROOT}/"):
                raw["data"][key] = "<ROOT>/" + value[len(f"{ROOT}/") :]
        got[f"{path.parent.name}/{path.stem}"] = raw
    zoo = {f"zoo/{p.stem}" for p in (ROOT / "configs" / "zoo").glob("*.yaml")}  # the model zoo's recipes, added later
    assert set(got) - set(RESOLVED) == {"semeval/demo"} | zoo  # the demo's config, inline in relx.cli.demo before
    for name, want in RESOLVED.items():
        move_legacy_keys(want)  # recorded before trainer.scheme/metric/symmetric moved to evaluation:
        assert got[name] == want, name


def write(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def test_base_merges_recursively_relative_to_the_including_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path / "bases" / "family.yaml",
        {"model": {"type": "marker", "dropout": 0.3, "max_length": 64}, "trainer": {"epochs": 5, "lr": 1e-4}},
    )
    write(tmp_path / "bases" / "more.yaml", {"base": "family.yaml", "trainer": {"epochs": 7}})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.jsonl").write_text("")
    write(tmp_path / "bases" / "data.yaml", {"data": {"train": "data/t.jsonl", "format": "jsonl"}})
    cfg = write(
        tmp_path / "exp" / "sub" / "c.yaml", {"base": ["../../bases/more.yaml", "../../bases/data.yaml"], "model": {"dropout": 0.1}}
    )
    monkeypatch.chdir(tmp_path / "exp")
    raw = load_config(cfg)
    assert raw == {
        "model": {"type": "marker", "dropout": 0.1, "max_length": 64},
        "trainer": {"epochs": 7, "lr": 1e-4},
        "data": {"train": str(tmp_path / "data" / "t.jsonl"), "format": "jsonl"},  # found relative to data.yaml
    }
    assert load_config(cfg, ["trainer.epochs=2"])["trainer"]["epochs"] == 2


def test_unknown_keys_are_errors_after_the_merge(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", {"model": {"type": "marker", "colour": "red"}, "data": {"train": "x"}})
    cfg = write(tmp_path / "c.yaml", {"base": "b.yaml", "trainer": {"epochs": 1}})
    with pytest.raises(RelxConfigError, match=r"config.model \(marker\): unknown key\(s\) colour"):
        parse_run_config(load_config(cfg))
    write(tmp_path / "d.yaml", {"base": "b.yaml", "trainer": {"epoch": 1}})
    with pytest.raises(RelxConfigError, match=r"config.trainer: unknown key\(s\) epoch "):
        parse_run_config(load_config(tmp_path / "d.yaml"))


def test_base_cycles_and_missing_bases_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from relx.cli import main

    write(tmp_path / "a.yaml", {"base": "b.yaml", "model": {"type": "marker"}})
    write(tmp_path / "b.yaml", {"base": "a.yaml"})
    with pytest.raises(RelxConfigError, match="config base cycle: .*a.yaml -> .*b.yaml -> .*a.yaml"):
        load_config(tmp_path / "a.yaml")
    write(tmp_path / "self.yaml", {"base": "self.yaml"})
    with pytest.raises(RelxConfigError, match="cycle"):
        load_config(tmp_path / "self.yaml")
    assert main(["train", "--config", str(tmp_path / "a.yaml"), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "config base cycle" in err
    write(tmp_path / "m.yaml", {"base": "nope.yaml"})
    with pytest.raises(RelxConfigError, match="base: file 'nope.yaml' not found"):
        load_config(tmp_path / "m.yaml")
    write(tmp_path / "n.yaml", {"base": {"x": 1}})
    with pytest.raises(RelxConfigError, match="base: expects a file name"):
        load_config(tmp_path / "n.yaml")


def test_demo_config_is_the_former_inline_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make demo` reads configs/semeval/demo.yaml; it parses to the settings relx.cli.demo wrote inline."""
    from relx.cli.demo import demo_config
    from relx.training.run import parse_run_config

    data = ROOT / "data" / "semeval2010_task8"
    inline = {
        "model": {"type": "marker", "encoder": "default", "marker_style": "typed_punct", "max_length": 96},
        "data": {
            "train": str(data / "TRAIN_FILE.TXT.gz"),
            "test": str(data / "TEST_FILE_FULL.TXT.gz"),
            "format": "semeval",
            "negative": "Other",
            "dev_holdout": 800,
        },
        "trainer": {
            "epochs": 2,
            "batch_size": 32,
            "lr": 1.0e-4,
            "head_lr": 1.0e-3,
            "warmup_ratio": 0.06,
            "scheme": "semeval",
            "metric": "official_macro_f1",
            "seed": 13,
            "max_train_docs": None,
            "num_threads": 2,
            "eval_batch_size": 128,
            "log_every": 10,
        },
    }
    monkeypatch.chdir(tmp_path)
    want = parse_run_config(inline)
    got = parse_run_config(demo_config(None, 2, 2, ROOT / "configs" / "semeval" / "demo.yaml"))
    assert (got[0].data, got[0].trainer, got[1], got[2]) == (want[0].data, want[0].trainer, want[1], want[2])


# --- keys moved out of trainer: ---------------------------------------------------------------------
def test_moved_trainer_keys_still_work_with_a_one_line_warning(capsys: pytest.CaptureFixture[str]) -> None:
    new = {
        "model": {"type": "svm2stage"},
        "data": {"train": "x", "max_train_docs": 7},
        "evaluation": {"scheme": "semeval", "metric": "official_macro_f1"},
    }
    old = {
        "model": {"type": "svm2stage"},
        "data": {"train": "x"},
        "trainer": {"scheme": "semeval", "metric": "official_macro_f1", "max_train_docs": 7},
    }
    cfg_new, _, _ = parse_run_config(new)
    assert capsys.readouterr().err == ""
    cfg_old, _, _ = parse_run_config(old)
    err = capsys.readouterr().err.splitlines()
    assert cfg_old == cfg_new and cfg_new.trainer.scheme == "semeval" and cfg_new.trainer.max_train_docs == 7
    assert err == [
        f"relx: warning: config.trainer.{k} is deprecated; write {s}.{k}"
        for k, s in (("scheme", "evaluation"), ("metric", "evaluation"), ("max_train_docs", "data"))
    ]
    with pytest.raises(RelxConfigError, match=r"config.trainer.metric moved to evaluation.metric, which is also set"):
        parse_run_config({"model": {"type": "svm2stage"}, "trainer": {"metric": "micro_f1"}, "evaluation": {"metric": "macro_f1"}})
    with pytest.raises(RelxConfigError, match=r"^evaluation.scheme: unknown scheme 'ace'"):
        parse_run_config({"model": {"type": "svm2stage"}, "evaluation": {"scheme": "ace"}})
