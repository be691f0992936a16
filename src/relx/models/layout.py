"""The layout of a saved model directory: its file names and config.json keys, the saved ``state``
(a missing key is a :class:`MissingStateKey`, not a bare KeyError) and the sha256 checksums of weight files."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import Any

from relx.errors import RelxInputError

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


# --- checksums ---------------------------------------------------------------------------------
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
