"""Saved model directories: weight checksums, reading config.json / labels.json, and turning every
problem met while loading one into a single-line :class:`RelxInputError` that names the file.

A model directory holds ``config.json`` (``type``, ``format_version``, ``config``, ``state`` and,
since checksums were introduced, ``sha256``: ``{relative path: hex digest}`` of every weight file;
since raw-text extraction, ``profile``: the training-data profile, see ``models.base.training_profile``),
``labels.json``, the weight files (``*.safetensors``, ``*.npz``, ``*.npy``, also in subfolders) and
model-specific extras such as ``encoder/``. Directories written before ``sha256`` existed load
without verification.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from relx.errors import RelxConfigError, RelxInputError

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
WEIGHT_SUFFIXES = (".safetensors", ".npz", ".npy")
REQUIRED_KEYS = ("type", "config")
CHECKSUM_KEY = "sha256"
PROFILE_KEY = "profile"


class MissingStateKey(KeyError):
    """A key the model's ``from_saved`` needed is absent from the saved ``state`` of config.json."""


class SavedState(dict):
    """The ``state`` dict of config.json; a missing key raises :class:`MissingStateKey` (not a bare KeyError)."""

    def __missing__(self, key: Any) -> Any:
        raise MissingStateKey(key)


def saved_state(value: Any) -> Any:
    """``value`` with every nested dict turned into a :class:`SavedState`."""
    if isinstance(value, dict):
        return SavedState({k: saved_state(v) for k, v in value.items()})
    if isinstance(value, list):
        return [saved_state(v) for v in value]
    return value


# --- writing ---------------------------------------------------------------------------------
def default_file_mode() -> int:
    """Mode of an ordinary new file under the current umask (``0o666 & ~umask``)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weight_files(directory: str | Path) -> list[str]:
    """Relative POSIX paths of the weight files under ``directory`` (recursive, sorted; dot-files skipped)."""
    directory = Path(directory)
    found = []
    for path in directory.rglob("*"):
        rel = path.relative_to(directory)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.name.endswith(WEIGHT_SUFFIXES):
            found.append(rel.as_posix())
    return sorted(found)


def weight_checksums(directory: str | Path) -> dict[str, str]:
    """``{relative path: sha256 hex}`` of every weight file under ``directory`` (the ``sha256`` of config.json)."""
    directory = Path(directory)
    return {rel: file_sha256(directory / rel) for rel in weight_files(directory)}


# --- reading ---------------------------------------------------------------------------------
def read_json_file(path: Path) -> Any:
    """Parse a JSON file of a model directory; missing, unreadable or cut-short files raise RelxInputError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RelxInputError("missing", path) from None
    except IsADirectoryError:
        raise RelxInputError("is a directory, expected a JSON file", path) from None
    except UnicodeDecodeError:
        raise RelxInputError("not valid UTF-8 (damaged file)", path) from None
    except OSError as exc:
        raise RelxInputError(f"cannot read: {exc.strerror or exc}", path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RelxInputError(f"cut short or not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})", path) from None


def read_model_meta(directory: str | Path) -> dict:
    """The parsed config.json of a model directory, with its required keys checked."""
    directory = Path(directory)
    if not directory.exists():
        raise RelxInputError("model directory not found", directory)
    if not directory.is_dir():
        raise RelxInputError("not a directory (expected a saved relx model directory)", directory)
    path = directory / CONFIG_FILE
    if not path.exists():
        raise RelxInputError("missing: not a relx model directory", path)
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
    """The LabelSet of labels.json; missing or malformed files raise RelxInputError."""
    from relx.data.labels import LabelSet

    path = Path(directory) / LABELS_FILE
    data = read_json_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("labels"), list) or not isinstance(data.get("negative"), str):
        raise RelxInputError("expected {\"labels\": [...], \"negative\": \"...\"}", path)
    if not all(isinstance(lab, str) for lab in data["labels"]):
        raise RelxInputError("'labels' must be a list of strings", path)
    return LabelSet(data["labels"], data["negative"])


def read_profile(directory: str | Path, meta: dict) -> dict | None:
    """The training-data ``profile`` of config.json (None when absent: saved before profiles existed)."""
    profile = meta.get(PROFILE_KEY)
    if profile is None:
        return None
    ok = isinstance(profile, dict) and isinstance(profile.get("entity_types", {}), dict) and isinstance(profile.get("type_pairs", []), list)
    if not ok or not all(isinstance(p, list) and len(p) == 2 and all(isinstance(t, str) for t in p) for p in profile.get("type_pairs", [])):
        raise RelxInputError(f"'{PROFILE_KEY}' must be a JSON object with 'entity_types' {{type: count}} and 'type_pairs' [[head, tail], ...]",
                             Path(directory) / CONFIG_FILE)
    return dict(profile)


def verify_checksums(directory: str | Path, meta: dict) -> None:
    """Check every file listed in ``meta["sha256"]`` against its digest (no ``sha256`` key: nothing to check)."""
    directory = Path(directory)
    sums = meta.get(CHECKSUM_KEY)
    if sums is None:
        return
    cfg = directory / CONFIG_FILE
    if not isinstance(sums, dict):
        raise RelxInputError(f"'{CHECKSUM_KEY}' must be a JSON object of file -> digest", cfg)
    for rel, digest in sums.items():
        parts = PurePosixPath(rel).parts
        if not isinstance(digest, str) or not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise RelxInputError(f"bad '{CHECKSUM_KEY}' entry {rel!r}: {digest!r}", cfg)
        path = directory.joinpath(*parts)
        if not path.is_file():
            raise RelxInputError(f"missing (listed in {CONFIG_FILE})", path)
        if file_sha256(path) != digest.lower():
            raise RelxInputError("checksum mismatch, the file is corrupt or was modified", path)


def check_safetensors(path: str | Path) -> None:
    """Raise RelxInputError when a safetensors file is missing, truncated or has a damaged header."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise RelxInputError("missing" if not path.exists() else "not a file", path)
    try:
        with safe_open(str(path), framework="numpy"):
            pass
    except (SafetensorError, OSError, ValueError) as exc:
        raise RelxInputError(f"truncated or damaged safetensors file ({one_line(str(exc))})", path) from None


def find_damaged_file(directory: str | Path) -> tuple[Path, str] | None:
    """First file under ``directory`` that cannot be parsed (a JSON file cut short, a damaged
    safetensors header), with the problem; None when every such file looks sound."""
    directory = Path(directory)
    files = sorted(
        (p for p in directory.rglob("*") if p.is_file() and not any(s.startswith(".") for s in p.relative_to(directory).parts)),
        key=lambda p: (len(p.relative_to(directory).parts), str(p)),
    )
    for path in files:
        try:
            if path.suffix == ".json":
                read_json_file(path)
            elif path.suffix == ".safetensors":
                check_safetensors(path)
        except RelxInputError as exc:
            return path, exc.problem
    return None


# --- load error translation ------------------------------------------------------------------
def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace (newlines, tabs) and cut ``text`` to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def state_dict_problem(exc: BaseException) -> str:
    """One line for a torch ``load_state_dict`` error: the first size mismatch and how many more."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    mismatches = [line for line in lines if line.startswith("size mismatch")]
    if mismatches:
        more = f" (and {len(mismatches) - 1} more)" if len(mismatches) > 1 else ""
        return f"weights do not fit the model: {one_line(mismatches[0].rstrip('.'), 240)}{more}"
    return f"weights do not fit the model: {one_line(' '.join(lines[1:] or lines))}"


def _path_in_message(directory: Path, message: str) -> Path | None:
    """A path inside ``directory`` quoted in an exception message (e.g. from transformers), if any."""
    for match in re.finditer(re.escape(str(directory)) + r"[^'\"\s,;]*", message):
        candidate = Path(match.group(0).rstrip(".:)"))
        if candidate != directory:
            return candidate
    return None


def describe_failure(directory: Path, exc: BaseException) -> RelxInputError:
    """A RelxInputError naming the file of ``directory`` that most likely caused ``exc``."""
    damaged = find_damaged_file(directory)
    if damaged is not None:
        return RelxInputError(damaged[1], damaged[0])
    message = one_line(str(exc) or type(exc).__name__)
    filename = getattr(exc, "filename", None)
    culprit = Path(filename) if isinstance(filename, str) else _path_in_message(directory, str(exc))
    if culprit is not None:
        if not culprit.exists():
            return RelxInputError("missing", culprit)
        if isinstance(exc, OSError) and exc.strerror:
            message = exc.strerror
        return RelxInputError(f"cannot be loaded: {message}", culprit)
    if isinstance(exc, KeyError):
        return RelxInputError(f"incomplete saved model: no entry {exc.args[0]!r}" if exc.args else "incomplete saved model", directory)
    return RelxInputError(f"cannot be loaded ({type(exc).__name__}: {message})", directory)


@contextmanager
def load_errors(directory: str | Path) -> Iterator[None]:
    """Turn what building/loading a model from ``directory`` raises into one RelxInputError naming the file.

    RelxInputErrors that already name a file pass through (e.g. from a nested stage directory);
    a key missing from the saved state names config.json; other failures are traced to the first
    damaged file, a path quoted in the message, or the directory itself.
    """
    directory = Path(directory)
    try:
        yield
    except RelxInputError as exc:
        if exc.path is not None:
            raise
        raise exc.at(directory) from exc
    except MissingStateKey as exc:
        key = exc.args[0] if exc.args else "?"
        raise RelxInputError(f"saved state has no {key!r} entry (written by another relx version, or edited)",
                             directory / CONFIG_FILE) from exc
    except RelxConfigError as exc:
        raise RelxInputError(one_line(str(exc)), directory) from exc
    except (OSError, ValueError, RuntimeError, KeyError, IndexError, TypeError) as exc:
        raise describe_failure(directory, exc) from exc
    except Exception as exc:
        from safetensors import SafetensorError

        if isinstance(exc, SafetensorError):
            raise describe_failure(directory, exc) from exc
        raise
