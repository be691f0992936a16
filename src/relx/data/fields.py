"""The one set of JSON field validators: exact types (no bool-as-int, no coercion) with messages that name
the field and what it holds. ``field`` / ``typed_list`` / ``list_field`` / ``json_object`` check relx's own
records (:meth:`relx.data.schema.Document.from_dict`); ``require`` / ``string_list`` check the fields of
foreign formats in the readers and share the same type test (``is_kind``)."""

from __future__ import annotations

import math
from typing import Any

from relx.errors import RelxInputError

_TYPE_NAMES = {int: "an integer", str: "a string", float: "a number"}


def kind_name(value: Any) -> str:
    """JSON-ish name of ``value``'s type for messages ('null', 'bool', 'float', ...)."""
    return "null" if value is None else type(value).__name__


def is_kind(value: Any, kind: type) -> bool:
    """``isinstance`` without the bool-is-an-int trap; ``float`` accepts finite ints and floats."""
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, kind)


def json_object(value: Any, what: str) -> dict[str, Any]:
    """``value`` checked to be a JSON object; ``what``: " of entity 0" etc. ("" for the record)."""
    if not isinstance(value, dict):
        name = what.removeprefix(" of ") or "a record"
        raise RelxInputError(f"{name} must be a JSON object, got {kind_name(value)}")
    return value


def field(obj: dict[str, Any], key: str, kind: type, what: str = "", default: Any = None) -> Any:
    """``obj[key]`` checked to be exactly ``kind`` (``default`` when absent and a default is given)."""
    if key not in obj:
        if default is not None:
            return default
        raise RelxInputError(f"missing field {key!r}{what}")
    value = obj[key]
    if not is_kind(value, kind):
        raise RelxInputError(f"field {key!r}{what} must be {_TYPE_NAMES[kind]}, got {describe(value)}")
    return value


def list_field(obj: dict[str, Any], key: str) -> list[Any]:
    """Optional list field (absent or null -> [])."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RelxInputError(f"field {key!r} must be a list, got {kind_name(value)}")
    return value


def typed_list(obj: dict[str, Any], key: str, kind: type) -> list[Any]:
    """``obj[key]`` checked to be a list whose items are all exactly ``kind``."""
    value = obj[key]
    what = "integers" if kind is int else "strings"
    if not isinstance(value, list):
        raise RelxInputError(f"field {key!r} must be a list of {what}, got {kind_name(value)}")
    for i, item in enumerate(value):
        if not is_kind(item, kind):
            raise RelxInputError(f"field {key!r} must be a list of {what}; item {i} is {describe(item)}")
    return list(value)


def describe(value: Any, width: int = 30) -> str:
    """'null', or the type and a clipped repr: "float 1.9", "str '0'"."""
    if value is None:
        return "null"
    text = repr(value)
    return f"{kind_name(value)} {text if len(text) <= width else text[: width - 3] + '...'}"


def require(obj: Any, key: str, kind: type | tuple[type, ...], what: str = "") -> Any:
    """``obj[key]`` checked to be a ``kind`` (``is_kind``); RelxInputError (unlocated) otherwise."""
    if not isinstance(obj, dict):
        raise RelxInputError(f"expected a JSON object{what}, got {type(obj).__name__}")
    if key not in obj:
        raise RelxInputError(f"missing field {key!r}{what}")
    val = obj[key]
    if not any(is_kind(val, k) for k in (kind if isinstance(kind, tuple) else (kind,))):
        raise RelxInputError(f"field {key!r}{what} has the wrong type ({type(val).__name__})")
    return val


def string_list(obj: Any, key: str) -> list[str]:
    """``obj[key]`` checked to be a list of strings."""
    require(obj, key, list)
    return typed_list(obj, key, str)
