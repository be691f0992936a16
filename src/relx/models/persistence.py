"""Saved model directories: weight checksums, reading config.json / labels.json, and turning every
problem met while loading one into a single-line :class:`RelxInputError` that names the file.

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

import hashlib
import os
import re
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from relx.errors import RelxConfigError, RelxInputError
from relx.utils import default_file_mode as default_file_mode

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
WEIGHT_SUFFIXES = (".safetensors", ".npz", ".npy")
REQUIRED_KEYS = ("type", "config")
CHECKSUM_KEY = "sha256"
PROFILE_KEY = "profile"
JSON_SIZE_CAP = 64 * 1024 * 1024  # bytes: the largest JSON file of a model directory that is read (tokenizer.json of big vocabularies is ~20 MB)
JSON_MAX_DEPTH = 200  # nesting levels: relx and Hugging Face JSON files nest < 20 deep
SAFETENSORS_HEADER_CAP = 100_000_000  # bytes: the safetensors library's own header limit
# bits per element of the safetensors dtypes
SAFETENSORS_DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
    "I32": 32, "U32": 32, "F32": 32, "I64": 64, "U64": 64, "F64": 64, "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}


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


# --- reading: only regular files inside the directory, bounded --------------------------------
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _size(n: int) -> str:
    return f"{n // 2**20} MiB" if n >= 2**20 and n % 2**20 == 0 else f"{n} byte"


def _inside(path: str | Path, root: str | Path) -> bool:
    """Whether ``path`` (resolved, symbolic links followed) lies in ``root`` (resolved)."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or os.path.commonpath([real, base]) == base


def check_model_tree(directory: str | Path, root: str | Path | None = None) -> None:
    """Refuse a model directory holding anything but regular files and folders, or a symbolic link
    that leads out of ``root`` (default: ``directory``); every entry is checked, dot-files included.

    Why links out are refused: a model directory is data you copied from someone; a link in it to
    ``/dev/zero``, ``/dev/urandom`` or ``~/.ssh/id_rsa`` makes relx (and the Hugging Face loaders it
    calls) read a file the model's author chose on *your* machine (unbounded memory, or your secret
    saved into the next model you train and share). Links that stay inside are allowed. A FIFO or
    device file would hang or never end. Dangling links are left for the loaders to report missing.
    """
    directory = Path(directory)
    root = Path(root) if root is not None else directory
    for dirpath, dirnames, filenames in os.walk(directory, followlinks=False):
        for name in sorted(dirnames + filenames):
            entry = Path(dirpath) / name
            try:
                mode = os.lstat(entry).st_mode
            except OSError:
                continue  # vanished while walking
            if stat.S_ISLNK(mode):
                if not _inside(entry, root):
                    raise RelxInputError(f"symbolic link to {os.path.realpath(entry)}, outside the model directory {root} "
                                         "(refused: a model directory must not make relx read files elsewhere on this machine)", entry)
                try:
                    mode = os.stat(entry).st_mode
                except OSError:
                    continue  # dangling or looping link: the loaders report it missing
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise RelxInputError(f"{_kind(mode)}, not a regular file (refused: a model directory holds only files and folders)", entry)


def read_file_capped(path: Path, cap: int, root: str | Path | None = None, what: str = "file") -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``cap`` bytes inside ``root``
    (default: its folder). FIFOs, devices and folders are refused before they are read (opened
    non-blocking, so a FIFO cannot hang), and at most ``cap + 1`` bytes are read, so a file that
    grows while it is read cannot exhaust memory."""
    path = Path(path)
    if not _inside(path, root if root is not None else path.parent):
        raise RelxInputError(f"symbolic link to {os.path.realpath(path)}, outside the model directory (refused)", path)
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise RelxInputError(f"is a directory, expected a {what}", path)
        if not stat.S_ISREG(mode):
            raise RelxInputError(f"{_kind(mode)}, not a regular file (refused)", path)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise RelxInputError("missing", path) from None
    except OSError as exc:
        raise RelxInputError(f"cannot read: {exc.strerror or exc}", path) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):  # replaced between stat and open
            raise RelxInputError(f"{_kind(st.st_mode)}, not a regular file (refused)", path)
        if st.st_size > cap:
            raise RelxInputError(f"{st.st_size} bytes, over the {_size(cap)} limit for a {what} of a model directory", path)
        try:
            data = fh.read(cap + 1)
        except OSError as exc:
            raise RelxInputError(f"cannot read: {exc.strerror or exc}", path) from None
    if len(data) > cap:
        raise RelxInputError(f"grew past the {_size(cap)} limit for a {what} of a model directory while being read", path)
    return data


def parse_json_bytes(data: bytes, path: Path) -> Any:
    """Parse JSON bytes of ``path`` with the one JSON parser (:func:`relx.data.textio.parse_json`); every
    failure (bad UTF-8, bad or cut-short JSON, nesting past :data:`JSON_MAX_DEPTH`, integers past Python's
    digit limit) is one RelxInputError naming it."""
    from relx.data.textio import decode_text, parse_json

    return parse_json(decode_text(data, path), path, JSON_MAX_DEPTH)


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
        raise RelxInputError("model directory not found", directory)
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


def safetensors_header(path: Path, root: str | Path | None = None) -> tuple[dict, int]:
    """The parsed header of a safetensors file and the size of its data part, read by relx itself with
    a cap (so no tensor is allocated): the file must be a regular file inside ``root`` (default: its
    folder), the header at most :data:`SAFETENSORS_HEADER_CAP` bytes, every tensor's dtype x shape
    must equal its ``data_offsets`` span, and the spans must tile the data part exactly (nothing
    claimed beyond the file, nothing unclaimed). Problems raise RelxInputError."""
    def damaged(detail: str) -> RelxInputError:
        return RelxInputError(f"truncated or damaged safetensors file ({detail})", path)

    if not _inside(path, root if root is not None else path.parent):
        raise RelxInputError(f"symbolic link to {os.path.realpath(path)}, outside the model directory (refused)", path)
    try:
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise RelxInputError("not a file" if stat.S_ISDIR(mode) else f"{_kind(mode)}, not a regular file (refused)", path)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise RelxInputError("missing", path) from None
    except OSError as exc:
        raise RelxInputError(f"cannot read: {exc.strerror or exc}", path) from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise RelxInputError(f"{_kind(st.st_mode)}, not a regular file (refused)", path)
        size = st.st_size
        head = fh.read(8)
        if len(head) < 8:
            raise damaged(f"{size} bytes, shorter than the 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        if n > SAFETENSORS_HEADER_CAP:
            raise damaged(f"header length {n} is over the {SAFETENSORS_HEADER_CAP} byte limit")
        if 8 + n > size:
            raise damaged(f"header of {n} bytes but the file holds {size}")
        raw = fh.read(n)
    if len(raw) < n:
        raise damaged(f"header of {n} bytes but only {len(raw)} could be read")
    try:
        header = parse_json_bytes(raw, path)
    except RelxInputError as exc:
        raise damaged(f"header: {exc.problem}") from None
    if not isinstance(header, dict):
        raise damaged("header is not a JSON object")
    data_len = size - 8 - n
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise damaged("'__metadata__' must map strings to strings")
            continue
        if not isinstance(info, dict):
            raise damaged(f"entry {name!r} is not a JSON object")
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        bits = SAFETENSORS_DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            raise damaged(f"tensor {name!r} has unknown dtype {dtype!r}")
        if not isinstance(shape, list) or not all(type(d) is int and d >= 0 for d in shape):
            raise damaged(f"tensor {name!r} has a bad shape {one_line(repr(shape), 80)}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets) and 0 <= offsets[0] <= offsets[1]):
            raise damaged(f"tensor {name!r} has bad data_offsets {one_line(repr(offsets), 80)}")
        numel = 1
        for d in shape:
            numel *= d
        if (numel * bits) % 8 or (numel * bits) // 8 != offsets[1] - offsets[0]:
            raise damaged(f"tensor {name!r} of shape {shape} {dtype} needs {numel * bits // 8} bytes but data_offsets span "
                          f"{offsets[1] - offsets[0]}")
        if offsets[1] > data_len:
            raise damaged(f"tensor {name!r} claims bytes {offsets[0]}..{offsets[1]} but the file holds {data_len} bytes of tensor data")
        spans.append((offsets[0], offsets[1], name))
    spans.sort()
    end = 0
    for begin, stop, name in spans:
        if begin != end:
            raise damaged(f"tensor {name!r} starts at byte {begin}, expected {end} (overlapping or gapped data_offsets)")
        end = stop
    if end != data_len:
        raise damaged(f"tensors claim {end} bytes of tensor data but the file holds {data_len}")
    return header, data_len


def check_safetensors(path: str | Path, expected: dict[str, tuple[int, ...]] | None = None, root: str | Path | None = None) -> None:
    """Raise RelxInputError when a safetensors file is missing, not a regular file inside ``root``,
    truncated, or has a damaged or inconsistent header (:func:`safetensors_header`, read by relx
    before the safetensors library allocates anything). ``expected`` ({tensor name: shape}) also
    requires exactly those tensors with those shapes, which bounds what a loader that reads the
    whole file (``safetensors.numpy.load_file``) allocates."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    header, _ = safetensors_header(path, root)
    if expected is not None:
        found = {k: v["shape"] for k, v in header.items() if k != "__metadata__"}
        unexpected, missing = sorted(set(found) - set(expected)), sorted(set(expected) - set(found))
        if unexpected or missing:
            raise RelxInputError(f"weights do not match the model (missing {missing[:5]}, unexpected {unexpected[:5]})", path)
        for name, shape in sorted(expected.items()):
            if tuple(found[name]) != tuple(shape):
                raise RelxInputError(f"weights do not fit the model: tensor {name!r} has shape {list(found[name])}, "
                                     f"the model expects {list(shape)}", path)
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
