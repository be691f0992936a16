"""YAML -> nested dataclasses. Unknown keys are errors; ``--set a.b=c`` overrides; ``base:`` inherits.

A config file may name one base file (or a list of them) with a top-level ``base:`` key, relative to the
file itself. Bases are merged first (recursively: nested mappings merge key by key, anything else is
replaced), then the file's own keys on top; chains of bases are followed and cycles rejected.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from relx.errors import RelxConfigError

T = TypeVar("T")


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "config") -> T:
    """Build dataclass ``cls`` from a dict, recursing into nested dataclass fields."""
    data = dict(data or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise RelxConfigError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(fields))})")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        hint = hints.get(name)
        if dataclasses.is_dataclass(hint) and isinstance(value, dict):
            value = from_dict(hint, value, f"{where}.{name}")
        kwargs[name] = _coerce(value, hint, f"{where}.{name}")
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Light type checking: ints become floats where floats are expected; tuples from lists."""
    origin = typing.get_origin(hint)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and value is not None and not isinstance(value, hint):
        raise RelxConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        if len(args) == 1:
            return _coerce(value, args[0], where)
    return value


def to_dict(obj: Any) -> dict[str, Any]:
    """Dataclass -> plain dict (JSON-serialisable)."""
    return dataclasses.asdict(obj)


def set_path(d: dict[str, Any], dotted: str, value: Any) -> None:
    """d['a']['b'] = value for dotted 'a.b', creating dicts on the way."""
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
        if not isinstance(d, dict):
            raise RelxConfigError(f"--set {dotted}: {k!r} is not a section")
    d[keys[-1]] = value


def apply_overrides(d: dict[str, Any], overrides: list[str] | None) -> dict[str, Any]:
    """Apply ``key.path=value`` strings; values are parsed as YAML scalars/lists."""
    for item in overrides or []:
        if "=" not in item:
            raise RelxConfigError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        set_path(d, key.strip(), _scalar(yaml.safe_load(raw)))
    return d


def _scalar(value: Any) -> Any:
    """YAML 1.1 reads '5e-3' (no dot) as a string; take it as the number the user meant."""
    import re

    if isinstance(value, str) and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+", value.strip()):
        return float(value)
    return value


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping (empty file -> {})."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RelxConfigError(f"{path}: cannot read config ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RelxConfigError(f"{path}: top level must be a mapping")
    return data


def find_relative(value: str | Path, config_file: str | Path) -> tuple[Path | None, list[Path]]:
    """Locate a path named in a config: as given (relative to the current directory), then relative to
    the config file's directory and each of its parents. Returns (first existing path or None, places tried)."""
    given = Path(value).expanduser()
    tried = [given.absolute()]
    if not given.is_absolute():
        config_dir = Path(config_file).absolute().parent
        tried += [base / given for base in (config_dir, *config_dir.parents)]
    found = next((p for p in tried if p.exists()), None)
    return found, tried


DATA_PATH_KEYS = ("train", "dev", "test")


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``over`` on top of ``base``; nested mappings merge recursively, other values replace."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path: str | Path, overrides: list[str] | None = None, *, strict_paths: bool = False) -> dict[str, Any]:
    """Read a run config: follow ``base:`` files, apply ``--set`` overrides, resolve data paths.

    Data paths (``data.train/dev/test``) that do not exist from the current directory are looked up
    relative to the file that names them (its directory, then each parent); see ``resolve_data_paths``.
    With ``strict_paths`` a path found nowhere is a RelxConfigError; otherwise it is left as written."""
    raw = apply_overrides(_load_with_bases(Path(path), ()), overrides)
    resolve_data_paths(raw, path, strict=strict_paths)
    return raw


def _load_with_bases(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """``path`` merged over its bases (depth first); ``chain`` holds the files being loaded, for cycles."""
    here = path.resolve()
    if here in chain:
        cycle = " -> ".join(str(p) for p in (*chain[chain.index(here) :], here))
        raise RelxConfigError(f"{chain[-1]}: config base cycle: {cycle}")
    own = load_yaml(path)
    bases = own.pop("base", None)
    if bases is None:
        bases = []
    elif isinstance(bases, str):
        bases = [bases]
    elif not (isinstance(bases, list) and all(isinstance(b, str) and b for b in bases)):
        raise RelxConfigError(f"{path}: base: expects a file name or a list of file names, got {bases!r}")
    merged: dict[str, Any] = {}
    for name in bases:
        base_path = Path(os.path.normpath((path.parent / Path(name).expanduser()).absolute()))
        if not base_path.is_file():
            raise RelxConfigError(f"{path}: base: file {name!r} not found (looked for {base_path.absolute()})")
        merged = merge(merged, _load_with_bases(base_path, (*chain, here)))
    resolve_data_paths(own, path, strict=False)  # paths a base names are relative to that base
    return merge(merged, own)


def resolve_data_paths(raw: dict[str, Any], config_file: str | Path, strict: bool = True) -> None:
    """Make data.train/dev/test that do not exist from here point at the file relative to the config
    (its directory or a parent). A path found nowhere raises RelxConfigError naming the key and every
    place tried (``strict``) or is left as written."""
    data = raw.get("data")
    if not isinstance(data, dict):
        return
    for key in DATA_PATH_KEYS:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            continue
        found, tried = find_relative(value, config_file)
        if found is None:
            if strict:
                raise RelxConfigError(f"config.data.{key}: file {value!r} not found; tried {', '.join(str(p) for p in tried)}")
            continue
        if not Path(value).exists():
            data[key] = str(found)
