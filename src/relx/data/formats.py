"""The format registry as data: the registered format names and guessing a file's format."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from relx.data.textio import PathLike, read_text
from relx.errors import RelxInputError
from relx.registry import READERS


def format_names() -> list[str]:
    """Every registered reader format (``relx.data.io.FORMATS``), sorted: the registry is the only list.

    Imports the reader modules alone (not every model, as ``READERS.names()`` would), so the CLI can
    list the formats in its help without loading torch."""
    import importlib
    import pkgutil

    import relx.data.readers as readers

    for info in pkgutil.iter_modules(readers.__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{readers.__name__}.{info.name}")
    return sorted(READERS._items)


def lookup(registry: Any, fmt: str, path: PathLike) -> Any:
    """The reader or writer registered as ``fmt``; RelxInputError naming the known ones otherwise."""
    try:
        return registry.get(fmt)
    except KeyError:
        raise RelxInputError(f"unknown format {fmt!r} (known: {', '.join(registry.names())})", path) from None


def base_suffix(path: Path) -> str:
    """The suffix of ``path`` without a trailing ``.gz`` (lower case)."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return Path(name).suffix.lower()


def _guess_marked_flavour(text: str) -> str:
    """'marked' (KBP37: whitespace tokens, TACRED-style labels) or 'semeval'."""
    for line in text.split("\n"):
        line = line.strip()
        if line == "no_relation" or re.match(r"^(per|org):\S+\((e1,e2|e2,e1)\)$", line):
            return "marked"
    return "semeval"


def _is_dygiepp(obj: Any) -> bool:
    """A DyGIE++ / PURE document: ``doc_key`` and ``sentences`` (a list of token lists)."""
    return isinstance(obj, dict) and "doc_key" in obj and isinstance(obj.get("sentences"), list)


def _guess_json(data: Any) -> str | None:
    if isinstance(data, list):
        first = next((r for r in data if isinstance(r, dict)), None)
        if first is None:
            return None
        if "token" in first and "subj_start" in first:
            return "tacred"
        if "tokens" in first and "entities" in first:
            return "spert"
        if "triple_list" in first:
            return "casrel"
        return None
    if _is_dygiepp(data):
        return "dygiepp"
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        first = next((v[0] for v in data.values() if v), None)
        if isinstance(first, dict) and "tokens" in first and "h" in first:
            return "fewrel"
    return None


def guess_format(path: PathLike) -> str:
    """Guess a registered format from the file name and content."""
    path = Path(path)
    suffix = base_suffix(path)
    if suffix == ".jsonl":
        return "jsonl"
    text = read_text(path)
    head = text.lstrip()[:1]
    if suffix == ".txt" or head not in ("[", "{"):
        if "<e1>" in text.lower():
            return _guess_marked_flavour(text)
    elif head == "{" and "\n" in text.strip():
        first = text.lstrip().split("\n", 1)[0]
        try:
            obj = json.loads(first)
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict) and "tokens" in obj and "id" in obj:
            return "jsonl"
        if _is_dygiepp(obj):
            return "dygiepp"
    if head in ("[", "{"):
        try:
            guessed = _guess_json(json.loads(text))
        except json.JSONDecodeError:
            guessed = None
        if guessed:
            return guessed
    raise RelxInputError(f"cannot guess the format; name it (one of {', '.join(format_names())})", path)
