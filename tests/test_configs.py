"""Every shipped config parses into its model's config and valid trainer settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from relx.config import load_yaml
from relx.training.run import parse_run_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs").glob("*/*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[f"{p.parent.name}/{p.name}" for p in CONFIGS])
def test_shipped_config_parses(path):
    cfg, cls, model_cfg = parse_run_config(load_yaml(path))
    assert isinstance(model_cfg, cls.Config)
    assert cfg.trainer.metric and cfg.data.train


def test_paper_faithful_tacred_configs():
    for name in ("marker", "marker_mld", "marker_mse", "marker_mld_mse"):
        _, _, m = parse_run_config(load_yaml(ROOT / "configs" / "tacred" / f"{name}.yaml"))
        assert m.marker_style == "plain" and m.mld == ("mld" in name) and m.mse == ("mse" in name)
    _, _, m = parse_run_config(load_yaml(ROOT / "configs" / "tacred" / "bert_extra.yaml"))
    assert m.marker_style == "none" and m.pooling == "cls" and m.class_weight_power == 0.5


@pytest.mark.parametrize("power", [-0.5, "balanced", True])
def test_class_weight_power_is_validated(pair_docs, power):
    from relx.data.labels import LabelSet
    from relx.errors import RelxConfigError
    from relx.models.feature_bilstm import FeatureBiLSTMConfig, FeatureBiLSTMModel

    with pytest.raises(RelxConfigError, match="class_weight_power"):
        FeatureBiLSTMModel(FeatureBiLSTMConfig(class_weight_power=power), LabelSet.from_documents(pair_docs))
