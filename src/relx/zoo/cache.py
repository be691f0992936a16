"""Where built zoo models live (``RELX_HOME``) and how a model argument that is a zoo name finds one.

``RELX_HOME`` (default ``$XDG_CACHE_HOME/relx``, else ``~/.cache/relx``) holds one run directory per built
recipe, ``<RELX_HOME>/models/<name>/`` (scores, predictions, ``zoo.json``), with the model in ``.../model``.
An existing path always wins over a zoo name: ``relx.load("conll04")`` loads ``./conll04`` when that exists.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from relx.errors import RelxConfigError
from relx.zoo.recipes import RECIPES

ZOO_MARKER = "zoo.json"  # written by `relx zoo build` into each run directory it made (what it may replace)
_BARE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def relx_home() -> Path:
    """``$RELX_HOME``, else ``$XDG_CACHE_HOME/relx``, else ``~/.cache/relx`` (not created here)."""
    home = os.environ.get("RELX_HOME")
    if home:
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache).expanduser() if cache else Path.home() / ".cache") / "relx"


def run_dir(name: str) -> Path:
    """The run directory of recipe ``name``: ``<RELX_HOME>/models/<name>``."""
    return relx_home() / "models" / name


def model_dir(name: str) -> Path:
    """Where the built model of recipe ``name`` is (or would be): ``<RELX_HOME>/models/<name>/model``."""
    return run_dir(name) / "model"


def is_built(name: str) -> bool:
    """Whether recipe ``name`` has a saved model in the cache."""
    return (model_dir(name) / "config.json").is_file()


def is_bare_name(value: str | Path) -> bool:
    """Whether ``value`` could be a zoo name: one path component of letters, digits, ``_ . -``."""
    return isinstance(value, str) and _BARE_NAME.fullmatch(value) is not None


def unbuilt_message(name: str) -> str:
    """The one line that says how to build recipe ``name`` and how long that takes."""
    recipe = RECIPES[name]
    return (
        f"zoo model {name!r} is not built yet: run `relx zoo build {name}` "
        f"(trains it from the bundled data, {recipe.build_time}; it is then saved in {model_dir(name)})"
    )


def resolve_model_path(value: str | Path) -> Path:
    """The model directory a model argument names: an existing path as given; else, for a bare zoo name, the
    built model in ``RELX_HOME`` (RelxConfigError with the build command when it is not built yet); anything else
    as given (the loader then reports it missing, mentioning ``relx models --zoo``)."""
    path = Path(value)
    if path.exists() or path.is_symlink() or not is_bare_name(value) or value not in RECIPES:
        return path
    if not is_built(str(value)):
        raise RelxConfigError(unbuilt_message(str(value)))
    return model_dir(str(value))
