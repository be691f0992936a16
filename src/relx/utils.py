"""Small shared helpers: atomic writes (files and folders), seeding, devices."""

from __future__ import annotations

import glob
import json
import math
import os
import random
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The part between ``.NAME.`` and ``.tmp`` of atomic_open's temp files: ``<pid>-XXXXXXXX``, or bare
# mkstemp letters in older versions: always 8 of mkstemp's characters (a-z, 0-9, _), so a user's
# ``.NAME.backup.tmp`` is never taken for one. A dot means the temp of a longer name (``.NAME.gz.…``), not ours.
_TMP_MIDDLE = re.compile(r"^(?:(?P<pid>\d+)-)?[a-z0-9_]{8}$")


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a unique temp path beside ``path`` for a writer; on success give the file the usual mode
    (``default_file_mode``), fsync it and rename it over ``path``; on failure remove it.

    The one atomic file write (``atomic_open``, ``write_json`` and model weight files use it). The temp
    file is ``.NAME.<pid>-XXXXXXXX.tmp``, never a file someone else made. Stale ones that a killed writer
    left behind (its process is gone, or the name carries no pid) are removed first; live writers' are kept.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, default_file_mode())  # mkstemp (and safetensors) create 0600
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[Any]:
    """``open`` a temp file beside ``path`` for writing; on success it replaces ``path`` (see ``atomic_path``)."""
    with atomic_path(path) as tmp, open(tmp, mode, encoding=None if "b" in mode else encoding) as fh:
        yield fh


@contextmanager
def staging_directory(target: str | Path, suffix: str = ".tmpdir") -> Iterator[Path]:
    """Yield a new empty folder beside ``target`` (``.NAME.XXXXXXXX<suffix>``: unique, never a user's folder)
    with the usual mode, to fill and then publish (``install_files`` or ``os.replace``); whatever is left of
    it afterwards (everything on failure, nothing after a publish) is removed."""
    import shutil

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def default_file_mode() -> int:
    """Mode of an ordinary new file under the current umask (``0o666 & ~umask``)."""
    return 0o666 & ~_umask()


def _remove_stale_temps(path: Path) -> None:
    """Delete ``.NAME.*.tmp`` siblings of ``path`` whose writing process no longer exists."""
    prefix = f".{path.name}."
    for tmp in path.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        m = _TMP_MIDDLE.match(tmp.name[len(prefix) : -len(".tmp")])
        if m is None or (m.group("pid") and _process_alive(int(m.group("pid")))):
            continue  # another file's temp (e.g. of NAME.gz), or a live writer's
        try:
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink()
        except OSError:  # raced with another cleaner or not ours to delete: harmless
            pass


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (True when unsure)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but not ours (EPERM), or cannot tell: keep its file
        return True
    return True


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield an empty temp directory beside ``target``; on success it replaces ``target`` as a whole.

    A kill at any moment leaves either the old ``target`` or the new one (plus a stale
    ``.NAME.<pid>-XXXXXXXX.tmpdir`` / ``.olddir`` sibling, removed by the next call), never a mix.
    Only a directory that relx wrote is replaced (see :func:`relx_directory`): any other non-empty
    ``target`` (a user's folder that happens to have the name) raises RelxInputError and is left alone.
    Only siblings that this function made (its exact names; an ``.olddir`` holding nothing but ``x``)
    and whose writing process is gone are removed.
    """
    import shutil

    from relx.errors import RelxInputError

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(target)
    if not relx_directory(target):
        raise RelxInputError(
            "exists and is not a directory written by relx (not a relx model or checkpoint); "
            "relx replaces only its own directories: move it away or choose another output",
            target,
        )
    for stale in _stale_directory_temps(target):
        shutil.rmtree(stale, ignore_errors=True)
    prefix = f".{target.name}.{os.getpid()}-"
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmpdir", dir=target.parent))
    _ACTIVE_DIRS.add(str(tmp))
    old = None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        try:
            yield tmp
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".olddir", dir=target.parent))
            _ACTIVE_DIRS.add(str(old))
            os.replace(target, old / "x")
        os.replace(tmp, target)
        _fsync_dir(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        _ACTIVE_DIRS.difference_update({str(tmp), str(old)})


def relx_directory(path: str | Path) -> bool:
    """Whether relx may replace directory ``path`` as a whole: it is missing or empty, or it is a model /
    checkpoint directory that relx wrote (a ``config.json`` object with relx's ``type`` and ``config`` keys).
    A file, or a folder holding anything else, is not relx's to delete."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return True
    if path.is_symlink() or not path.is_dir():
        return False
    if not any(path.iterdir()):
        return True
    try:
        meta = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get("type"), str) and "config" in meta


_ACTIVE_DIRS: set[str] = set()  # this process's atomic_directory temps in use (its other ones are stale leftovers)
_DIR_TEMP = re.compile(r"^(?:(?P<pid>\d+)-)?[a-z0-9_]{8}\.(?P<kind>tmpdir|olddir)$")


def _stale_directory_temps(target: Path) -> list[Path]:
    """``.NAME.[<pid>-]XXXXXXXX.tmpdir`` / ``.olddir`` siblings that atomic_directory made and no longer uses (its
    process is gone, or it is this process and the swap was interrupted)."""
    prefix = f".{target.name}."
    stale = []
    for path in [*target.parent.glob(f"{glob.escape(prefix)}*.tmpdir"), *target.parent.glob(f"{glob.escape(prefix)}*.olddir")]:
        m = _DIR_TEMP.match(path.name[len(prefix) :])
        if m is None or path.is_symlink() or not path.is_dir() or str(path) in _ACTIVE_DIRS:
            continue
        pid = int(m.group("pid")) if m.group("pid") else None
        if pid is not None and pid != os.getpid() and _process_alive(pid):
            continue  # another live process is writing it
        if m.group("kind") == "olddir" and any(p.name != "x" for p in path.iterdir()):
            continue  # not the shape atomic_directory leaves
        stale.append(path)
    return stale


def recover_directory(target: str | Path) -> None:
    """Finish an interrupted :func:`atomic_directory` swap: when ``target`` is missing but the complete
    previous version is parked in a ``.NAME.*.olddir`` sibling, move it back."""
    target = Path(target)
    if target.exists() or not target.parent.is_dir():
        return
    for old in sorted(target.parent.glob(f"{glob.escape('.' + target.name + '.')}*.olddir")):
        if (old / "x").is_dir():
            os.replace(old / "x", target)
            return


def install_files(src: str | Path, dst: str | Path, last: tuple[str, ...] = ()) -> list[str]:
    """Move everything under the temp folder ``src`` into ``dst``; returns the relative paths installed.

    When ``dst`` is missing or empty, ``src`` is renamed to it in one atomic step. Otherwise each file moves
    to the same relative path under ``dst`` with ``os.replace`` (atomic per file; ``last`` ones, e.g. the file
    that marks the set complete, move last), replacing only files of those names: every other entry of ``dst``
    is kept, and nothing is deleted. A name that is a folder on one side and a file on the other is refused
    (RelxInputError) before anything moves."""
    from relx.errors import RelxInputError

    src, dst = Path(src), Path(dst)
    files = sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file() or p.is_symlink())
    if dst.is_symlink() or (dst.exists() and not dst.is_dir()):
        raise RelxInputError("exists and is not a directory", dst)
    if not dst.exists() or not any(dst.iterdir()):
        os.chmod(src, 0o777 & ~_umask())
        if dst.exists():
            dst.rmdir()
        os.replace(src, dst)
        _fsync_dir(dst.parent)
        return files
    for rel in files:
        parts = Path(rel).parts
        for k in range(1, len(parts)):
            above = dst.joinpath(*parts[:k])
            if above.is_symlink() or (above.exists() and not above.is_dir()):
                raise RelxInputError(f"is a file, but the output has a folder {'/'.join(parts[:k])}/ here; move it away", above)
        here = dst / rel
        if here.is_dir() and not here.is_symlink():
            raise RelxInputError("is a folder, but the output has a file of this name; move it away", here)
    for rel in sorted(files, key=lambda r: (r in last, r)):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(src / rel, dst / rel)
    _fsync_dir(dst)
    return files


def check_not_an_input(output: str | Path, *inputs: str | Path | None) -> None:
    """RelxInputError when ``output`` is (a link to) one of the ``inputs``: writing it would replace the data being read."""
    from relx.errors import RelxInputError

    for src in inputs:
        if src is None:
            continue
        try:
            same = os.path.samefile(output, src)
        except OSError:  # one of them does not exist (yet)
            same = False
        if same:
            raise RelxInputError(
                f"is also the input file ({src}); writing it would replace the data being read: choose another output", output
            )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    """Atomically write ``obj`` as JSON; NaN and infinite floats become null (strict JSON, never ``NaN``)."""
    text = json.dumps(_finite(obj), indent=indent, ensure_ascii=False, allow_nan=False)
    with atomic_open(path) as fh:
        fh.write(text + "\n")


def _finite(obj: Any) -> Any:
    """``obj`` with every non-finite float (also inside dicts, lists and tuples) replaced by None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (both are dependencies of relx)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_batch_size(batch_size: int) -> int:
    """``batch_size`` if it is a positive integer, else RelxConfigError."""
    from relx.errors import RelxConfigError

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise RelxConfigError(f"batch size must be a positive integer, got {batch_size!r}")
    return batch_size


def resolve_device(name: str = "auto") -> str:
    """Validate a device name (auto | cpu | cuda | cuda:N | mps) and that it is usable here;
    'auto' -> 'cuda' when available else 'cpu'. Bad names or absent devices raise RelxConfigError."""
    import torch

    from relx.errors import RelxConfigError

    name = str(name).strip()
    match = re.fullmatch(r"auto|cpu|mps|cuda(?::(\d+))?", name)
    if match is None:
        raise RelxConfigError(f"unknown device {name!r} (use auto, cpu, cuda, cuda:N or mps)")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if torch.version.cuda is None and not torch.cuda.is_available():
            raise RelxConfigError(f"device {name!r}: this torch {torch.__version__} is a CPU-only build (use --device cpu or auto)")
        if not torch.cuda.is_available():
            raise RelxConfigError(f"device {name!r}: no CUDA GPU is available (use --device cpu or auto)")
        count = torch.cuda.device_count()
        if match.group(1) is not None and int(match.group(1)) >= count:
            raise RelxConfigError(f"device {name!r}: only {count} CUDA device(s) visible (cuda:0..cuda:{count - 1})")
    if name == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise RelxConfigError("device 'mps': Apple MPS is not available on this machine (use --device cpu or auto)")
    return name
