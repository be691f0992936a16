"""``relx zoo build NAME``: train a recipe through the one run path (:func:`relx.training.run.run_experiment`)
into a temp folder beside its cache directory, then move it in; a rebuild replaces only a directory that
``relx zoo build`` wrote (its ``zoo.json`` lists every entry, and the directory holds nothing else)."""

from __future__ import annotations

import glob
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relx.errors import RelxConfigError, RelxInputError
from relx.zoo.cache import ZOO_MARKER, is_built, run_dir
from relx.zoo.recipes import Recipe, get_recipe


@dataclass
class Built:
    """What a build produced: the recipe, its run directory (model in ``run_dir / "model"``), the test scores
    (None without a test split) and the wall time of the whole build in seconds."""

    recipe: Recipe
    run_dir: Path
    metrics: dict[str, Any] | None
    seconds: float

    @property
    def model_dir(self) -> Path:
        return self.run_dir / "model"


def recipe_config(recipe: Recipe, threads: int | None = None, sets: list[str] | None = None) -> dict[str, Any]:
    """The recipe's config (bases merged, data paths resolved) with an optional thread count and overrides."""
    from relx.config import load_config

    path = recipe.config_path
    if not path.is_file():
        raise RelxConfigError(
            f"zoo recipe {recipe.name!r}: config {path} not found (the zoo needs the configs/ and data/ of a source checkout)"
        )
    overrides = list(sets or [])
    if threads is not None:
        if threads < 1:
            raise RelxConfigError(f"--threads must be >= 1, got {threads}")
        overrides.append(f"trainer.num_threads={threads}")
    return load_config(path, overrides, strict_paths=True)


def check_replaceable(target: Path, force: bool) -> None:
    """Refuse to build over an existing model without ``force``, and (always) over a folder ``relx zoo build`` did not write."""
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise RelxInputError("exists and is not a zoo run directory; move it away", target)
    if not target.exists() or not any(target.iterdir()):
        return
    written = written_entries(target)
    foreign = sorted(p.name for p in target.iterdir() if p.name not in written)
    if foreign:
        listed = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise RelxInputError(
            f"holds files that `relx zoo build` did not write ({listed}); relx will not replace it: move them away", target
        )
    if is_built(target.name) and not force:
        raise RelxConfigError(f"zoo model {target.name!r} is already built in {target}; pass --force to rebuild it")


def written_entries(target: Path) -> set[str]:
    """The top-level entries a zoo build wrote into ``target`` (listed in its ``zoo.json``; empty when unreadable,
    not a regular file or over 1 MiB: a FIFO or a huge file there is never read)."""
    from relx.errors import RelxInputError
    from relx.models.untrusted import parse_json_bytes, read_file_capped

    path = target / ZOO_MARKER
    try:
        files = parse_json_bytes(read_file_capped(path, 1 << 20, what="zoo build record"), path).get("files")
    except (RelxInputError, AttributeError):
        return set()
    return {f for f in files if isinstance(f, str)} if isinstance(files, list) else set()


def build(name: str, force: bool = False, threads: int | None = None, sets: list[str] | None = None, verbose: bool = True) -> Built:
    """Train recipe ``name`` (fixed seed and budget of its config) into ``<RELX_HOME>/models/<name>``; the test report
    is printed by the run path. The old directory, if any, is replaced only once the new one is complete."""
    from relx.training.run import run_experiment
    from relx.utils import write_json

    recipe = get_recipe(name)
    target = run_dir(name)
    recover(target)
    check_replaceable(target, force)
    raw = recipe_config(recipe, threads, sets)
    target.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}-", suffix=".building", dir=target.parent))
    try:
        result = run_experiment(raw, tmp, verbose=verbose, origin=f"relx zoo build {name}")
        seconds = time.perf_counter() - start
        files = sorted({p.name for p in tmp.iterdir()} | {ZOO_MARKER})
        marker = {"recipe": name, "config": str(recipe.config_path), "build_seconds": round(seconds, 1), "files": files}
        write_json(tmp / ZOO_MARKER, marker)
        install_run(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Built(recipe, target, result.metrics, seconds)


def install_run(tmp: Path, target: Path) -> None:
    """Move the complete run folder ``tmp`` to ``target``; a previous zoo build there is parked beside it and
    removed only after the new one is in place."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".old", dir=target.parent))
        os.replace(target, old / "x")
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _leftovers(target: Path) -> list[tuple[Path, str]]:
    """(folder, kind) of the ``.NAME.<pid>-XXXXXXXX.building`` / ``.old`` siblings of ``target`` whose build process is gone."""
    from relx.utils import _process_alive

    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)-[a-z0-9_]{{8}}\.(building|old)$")
    found = []
    for path in sorted(target.parent.glob(f".{glob.escape(target.name)}.*")) if target.parent.is_dir() else []:
        m = pattern.match(path.name)
        if m and path.is_dir() and not path.is_symlink() and int(m.group(1)) != os.getpid() and not _process_alive(int(m.group(1))):
            found.append((path, m.group(2)))
    return found


def recover(target: Path) -> None:
    """Clean up after a killed build: a previous run parked in ``.old`` while ``target`` is missing moves back, and
    the temp folders of builds whose process is gone are removed (only folders of exactly those names)."""
    for path, kind in _leftovers(target):
        if kind == "old" and not target.exists() and (path / "x").is_dir():
            os.replace(path / "x", target)
        if kind == "building" or not any(p.name != "x" for p in path.iterdir()):
            shutil.rmtree(path, ignore_errors=True)
