"""Small shared helpers: atomic writes, seeding, devices."""

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
# mkstemp letters in older versions. A dot means the temp of a longer name (``.NAME.gz.…``), not ours.
_TMP_MIDDLE = re.compile(r"^(?:(?P<pid>\d+)-)?[A-Za-z0-9_]+$")


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[Any]:
    """Write to a temp file beside ``path``, fsync, then rename over it.

    The temp file is ``.NAME.<pid>-XXXX.tmp``. Stale ones that a killed writer left behind (its process
    is gone, or the name carries no pid) are removed first; those of live writers are left alone.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
    ``.NAME.*.tmpdir`` / ``.NAME.*.olddir`` sibling, removed by the next call), never a mix.
    """
    import shutil

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(target)
    for stale in [*target.parent.glob(f".{target.name}.*.tmpdir"), *target.parent.glob(f".{target.name}.*.olddir")]:
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmpdir", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".olddir", dir=target.parent))
        os.replace(target, old / "x")
    os.replace(tmp, target)
    _fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def recover_directory(target: str | Path) -> None:
    """Finish an interrupted :func:`atomic_directory` swap: when ``target`` is missing but the complete
    previous version is parked in a ``.NAME.*.olddir`` sibling, move it back."""
    target = Path(target)
    if target.exists() or not target.parent.is_dir():
        return
    for old in sorted(target.parent.glob(f".{target.name}.*.olddir")):
        if (old / "x").is_dir():
            os.replace(old / "x", target)
            return


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
    """Seed python, numpy and torch (if importable)."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover
        pass


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
