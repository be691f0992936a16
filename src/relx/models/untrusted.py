"""Reading the files of a model directory as if a stranger wrote them: only regular files and folders,
no symbolic link that leaves the directory, bounded reads, JSON through the one parser with a nesting
limit, safetensors headers checked by relx itself before any tensor is allocated."""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from relx.errors import RelxInputError

JSON_MAX_DEPTH = 200  # nesting levels: relx and Hugging Face JSON files nest < 20 deep
SAFETENSORS_HEADER_CAP = 100_000_000  # bytes: the safetensors library's own header limit
# bits per element of the safetensors dtypes
SAFETENSORS_DTYPE_BITS = {
    "BOOL": 8,
    "U8": 8,
    "I8": 8,
    "F8_E5M2": 8,
    "F8_E4M3": 8,
    "F8_E8M0": 8,
    "I16": 16,
    "U16": 16,
    "F16": 16,
    "BF16": 16,
    "I32": 32,
    "U32": 32,
    "F32": 32,
    "I64": 64,
    "U64": 64,
    "F64": 64,
    "C64": 64,
    "F4": 4,
    "F6_E2M3": 6,
    "F6_E3M2": 6,
}


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace (newlines, tabs) and cut ``text`` to ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
                    raise RelxInputError(
                        f"symbolic link to {os.path.realpath(entry)}, outside the model directory {root} "
                        "(refused: a model directory must not make relx read files elsewhere on this machine)",
                        entry,
                    )
                try:
                    mode = os.stat(entry).st_mode
                except OSError:
                    continue  # dangling or looping link: the loaders report it missing
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise RelxInputError(f"{_kind(mode)}, not a regular file (refused: a model directory holds only files and folders)", entry)


@contextmanager
def open_regular(path: Path, root: str | Path | None, what: str) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """Open ``path`` for reading as (file, its stat) when it is a regular file inside ``root`` (default: its
    folder): symlinks out of ``root``, folders, FIFOs and devices are refused before reading (opened
    non-blocking, so a FIFO cannot hang), and again after opening (replaced between stat and open)."""
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
        if not stat.S_ISREG(st.st_mode):
            raise RelxInputError(f"{_kind(st.st_mode)}, not a regular file (refused)", path)
        yield fh, st


def read_file_capped(path: Path, cap: int, root: str | Path | None = None, what: str = "file") -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``cap`` bytes inside ``root``
    (default: its folder). FIFOs, devices and folders are refused before they are read (opened
    non-blocking, so a FIFO cannot hang), and at most ``cap + 1`` bytes are read, so a file that
    grows while it is read cannot exhaust memory."""
    path = Path(path)
    with open_regular(path, root, what) as (fh, st):
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


def safetensors_header(path: Path, root: str | Path | None = None) -> tuple[dict, int]:
    """The parsed header of a safetensors file and the size of its data part, read by relx itself with
    a cap (so no tensor is allocated): the file must be a regular file inside ``root`` (default: its
    folder), the header at most :data:`SAFETENSORS_HEADER_CAP` bytes, every tensor's dtype x shape
    must equal its ``data_offsets`` span, and the spans must tile the data part exactly (nothing
    claimed beyond the file, nothing unclaimed). Problems raise RelxInputError."""

    def damaged(detail: str) -> RelxInputError:
        return RelxInputError(f"truncated or damaged safetensors file ({detail})", path)

    with open_regular(path, root, "safetensors file") as (fh, st):
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
            raise damaged(
                f"tensor {name!r} of shape {shape} {dtype} needs {numel * bits // 8} bytes but data_offsets span {offsets[1] - offsets[0]}"
            )
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
                raise RelxInputError(
                    f"weights do not fit the model: tensor {name!r} has shape {list(found[name])}, the model expects {list(shape)}", path
                )
    try:
        with safe_open(str(path), framework="numpy"):
            pass
    except (SafetensorError, OSError, ValueError) as exc:
        raise RelxInputError(f"truncated or damaged safetensors file ({one_line(str(exc))})", path) from None
