"""Untrusted text at the edges: strings that cannot be encoded, values JSON cannot carry, text that would drive a terminal.

- :func:`unicode_problem`: why a ``str`` is not valid Unicode (a lone surrogate, from a JSON ``"\\ud800"`` escape or
  from argv bytes decoded with ``surrogateescape``), or None; such a string makes ``str.encode("utf-8")`` (spaCy,
  tokenizers, response rendering) raise.
- :func:`json_problem`: the first string or number of a parsed JSON value that cannot be sent back as strict JSON
  (a lone surrogate, NaN, Infinity), with its path (``documents[0].tokens[3]``).
- :func:`json_safe`: a copy of a JSON-like value with such strings escaped and such numbers turned into strings
  (for error bodies that echo the input).
- :func:`printable`: text for a terminal: control characters, bidi overrides and the like as visible escapes.
"""

from __future__ import annotations

import math
from typing import Any

# bidi embeddings / overrides / isolates (reorder what follows them); all are also not str.isprintable()
BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def surrogate_index(text: str) -> int | None:
    """Index of the first lone surrogate of ``text`` (U+D800..U+DFFF), or None when it encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def unicode_problem(text: str, argv: bool = False) -> str | None:
    """Why ``text`` is not valid Unicode, or None. ``argv``: the text came from the command line, where
    Python keeps undecodable bytes as U+DC80..U+DCFF, so the message names the byte."""
    i = surrogate_index(text)
    if i is None:
        return None
    code = ord(text[i])
    if argv and 0xDC80 <= code <= 0xDCFF:
        return f"not valid UTF-8 (byte 0x{code - 0xDC00:02x} at character {i})"
    return f"not valid Unicode (lone surrogate \\u{code:04x} at character {i})"


def json_problem(value: Any, path: str = "", numbers: bool = True) -> str | None:
    """``"<path>: <problem>"`` for the first string (or object key) that is not valid Unicode or (``numbers``) number
    that is not finite inside ``value`` (a parsed JSON value), else None. Iterative: deep nesting cannot overflow."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        v, p = stack.pop()
        if isinstance(v, str):
            problem = unicode_problem(v)
            if problem is not None:
                return f"{p}: {problem}"
        elif isinstance(v, float):
            if numbers and not math.isfinite(v):
                return f"{p}: {v} is not a JSON number (NaN and Infinity are not allowed)"
        elif isinstance(v, dict):
            items = []
            for k, x in v.items():
                key = str(k)
                problem = unicode_problem(key)
                if problem is not None:
                    return f"{p}: a key is {problem}"
                items.append((x, f"{p}.{key}" if p else key))
            stack.extend(reversed(items))
        elif isinstance(v, (list, tuple)):
            stack.extend((x, f"{p}[{i}]") for i, x in reversed(list(enumerate(v))))
    return None


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with lone surrogates escaped (``\\ud800`` as six characters) and NaN / Infinity as strings,
    so that ``json.dumps(..., allow_nan=False).encode("utf-8")`` cannot fail; nesting past 64 levels becomes "..."."""
    if isinstance(value, str):
        return value if surrogate_index(value) is None else value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if depth > 64:
        return "..."
    if isinstance(value, dict):
        return {json_safe(str(k)): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v, depth + 1) for v in value]
    return value


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: Any, keep: str = "") -> str:
    """``str(text)`` safe to print on a terminal: every character that is not printable (controls such as ESC, BEL,
    CR, other line breaks, format characters, bidi overrides, lone surrogates) as a ``\\x1b`` / ``\\u202e`` escape;
    characters in ``keep`` (e.g. ``"\\n\\t"``) pass through."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if (ch.isprintable() and ch not in BIDI_CONTROLS) or ch in keep else _escape(ch) for ch in text)
