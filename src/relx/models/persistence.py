"""Saved model directories: reading config.json / labels.json, and the one import path for the parts
split by job: :mod:`relx.models.layout` (file names, saved state, checksums), :mod:`relx.models.untrusted`
(bounded reading of files a stranger may have written) and :mod:`relx.models.load_errors` (every load
problem as one single-line :class:`RelxInputError` that names the file).

A model directory holds ``config.json`` (``type``, ``format_version``, ``config``, ``state`` and,
since checksums were introduced, ``sha256``: ``{relative path: hex digest}`` of every weight file;
since raw-text extraction, ``profile``: the training-data profile, see ``models.profile.training_profile``),
``labels.json``, the weight files (``*.safetensors``, ``*.npz``, ``*.npy``, also in subfolders) and
model-specific extras such as ``encoder/``. Directories written before ``sha256`` existed load
without verification.

A model directory is data, never code, and is read as if a stranger wrote it (see
:func:`check_model_tree`, :func:`read_json_file`, :func:`check_safetensors`): only regular files and
folders, no symbolic link that leaves the directory, JSON files up to :data:`JSON_SIZE_CAP` bytes and
:data:`JSON_MAX_DEPTH` levels of nesting, safetensors headers up to :data:`SAFETENSORS_HEADER_CAP`
bytes whose tensors add up to exactly the bytes the file holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relx.errors import RelxConfigError, RelxInputError
from relx.models.layout import (
    CHECKSUM_KEY,
    CONFIG_FILE,
    LABELS_FILE,
    PROFILE_KEY,
    REQUIRED_KEYS,
    WEIGHT_SUFFIXES,
    MissingStateKey,
    SavedState,
    file_sha256,
    saved_state,
    verify_checksums,
    weight_checksums,
    weight_files,
)
from relx.models.load_errors import describe_failure, find_damaged_file, load_errors, state_dict_problem
from relx.models.untrusted import (
    JSON_MAX_DEPTH,
    SAFETENSORS_DTYPE_BITS,
    SAFETENSORS_HEADER_CAP,
    check_model_tree,
    check_safetensors,
    one_line,
    parse_json_bytes,
    read_file_capped,
    safetensors_header,
)
from relx.utils import default_file_mode

__all__ = [
    "CHECKSUM_KEY",
    "CONFIG_FILE",
    "JSON_MAX_DEPTH",
    "JSON_SIZE_CAP",
    "LABELS_FILE",
    "PROFILE_KEY",
    "REQUIRED_KEYS",
    "SAFETENSORS_DTYPE_BITS",
    "SAFETENSORS_HEADER_CAP",
    "WEIGHT_SUFFIXES",
    "MissingStateKey",
    "SavedState",
    "check_model_tree",
    "check_safetensors",
    "default_file_mode",
    "describe_failure",
    "file_sha256",
    "find_damaged_file",
    "load_errors",
    "model_class",
    "model_config",
    "one_line",
    "parse_json_bytes",
    "read_file_capped",
    "read_json_file",
    "read_labels",
    "read_model_meta",
    "read_profile",
    "safetensors_header",
    "saved_state",
    "state_dict_problem",
    "verify_checksums",
    "weight_checksums",
    "weight_files",
]

JSON_SIZE_CAP = (
    64 * 1024 * 1024
)  # bytes: the largest JSON file of a model directory that is read (tokenizer.json of big vocabularies is ~20 MB)


def read_json_file(path: Path, root: str | Path | None = None) -> Any:
    """Parse a JSON file of a model directory (the one JSON reader of model directories).

    The file must be a regular file of at most :data:`JSON_SIZE_CAP` bytes that does not lead out of
    ``root`` (default: its folder) through a symbolic link (see :func:`check_model_tree` for why);
    missing, unreadable, oversized, cut-short or too deeply nested files raise one RelxInputError.
    """
    path = Path(path)
    return parse_json_bytes(read_file_capped(path, JSON_SIZE_CAP, root, "JSON file"), path)


def read_model_meta(directory: str | Path) -> dict:
    """The parsed config.json of a model directory, with its required keys checked; the whole
    directory is first checked by :func:`check_model_tree` (every loading path reads config.json here)."""
    directory = Path(directory)
    if not directory.exists():
        hint = " (nor a zoo model name: `relx models --zoo` lists them)" if len(directory.parts) == 1 else ""
        raise RelxInputError(f"model directory not found{hint}", directory)
    if not directory.is_dir():
        raise RelxInputError("not a directory (expected a saved relx model directory)", directory)
    path = directory / CONFIG_FILE
    if not path.exists() and not path.is_symlink():
        raise RelxInputError("missing: not a relx model directory", path)
    check_model_tree(directory)
    meta = read_json_file(path)
    if not isinstance(meta, dict):
        raise RelxInputError(f"expected a JSON object, got {type(meta).__name__}", path)
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise RelxInputError(f"missing key(s) {', '.join(map(repr, missing))} (not a relx model config, or damaged)", path)
    if not isinstance(meta["type"], str):
        raise RelxInputError(f"'type' must be a model name, got {meta['type']!r}", path)
    if not isinstance(meta["config"], dict):
        raise RelxInputError(f"'config' must be a JSON object, got {type(meta['config']).__name__}", path)
    if not isinstance(meta.get("state", {}), dict):
        raise RelxInputError(f"'state' must be a JSON object, got {type(meta['state']).__name__}", path)
    return meta


def model_class(directory: str | Path, meta: dict) -> Any:
    """The registered model class named by ``meta["type"]``; unknown names raise RelxInputError."""
    from relx.registry import MODELS

    if meta["type"] not in MODELS:
        known = ", ".join(MODELS.names())
        raise RelxInputError(f"unknown model type {meta['type']!r} (known: {known})", Path(directory) / CONFIG_FILE)
    return MODELS.get(meta["type"])


def model_config(directory: str | Path, cls: Any, meta: dict) -> Any:
    """``cls.Config`` built from ``meta["config"]``; bad keys/values raise RelxInputError naming config.json."""
    from relx.config import from_dict

    try:
        return from_dict(cls.Config, meta["config"], "config")
    except (RelxConfigError, TypeError, ValueError) as exc:
        raise RelxInputError(one_line(str(exc)), Path(directory) / CONFIG_FILE) from None


def read_labels(directory: str | Path) -> Any:
    """The LabelSet of labels.json (:meth:`relx.data.labels.LabelSet.from_json`); missing or malformed files raise RelxInputError."""
    from relx.data.labels import LabelSet

    path = Path(directory) / LABELS_FILE
    return LabelSet.from_json(read_json_file(path), path)


def read_profile(directory: str | Path, meta: dict) -> dict | None:
    """The training-data ``profile`` of config.json (None when absent: saved before profiles existed)."""
    profile = meta.get(PROFILE_KEY)
    if profile is None:
        return None
    ok = isinstance(profile, dict) and isinstance(profile.get("entity_types", {}), dict) and isinstance(profile.get("type_pairs", []), list)
    if not ok or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) for t in p) for p in profile.get("type_pairs", [])):
        raise RelxInputError(
            f"'{PROFILE_KEY}' must be a JSON object with 'entity_types' {{type: count}} and 'type_pairs' [[head, tail], ...]",
            Path(directory) / CONFIG_FILE,
        )
    return dict(profile)
