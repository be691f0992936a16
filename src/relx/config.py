"""YAML -> nested dataclasses. Unknown keys are errors; ``--set a.b=c`` overrides."""

from __future__ import annotations

import dataclasses
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
