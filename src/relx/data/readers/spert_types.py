"""SpERT types files (``*_types.json``, plain or .gz): finding one beside a data file and its symmetric relations.

SpERT marks relation types that hold in both directions (SciERC ``Compare``, ``Conjunction``) with
``"symmetric": true`` under ``relations``; its evaluator then ignores the argument order of those types.
"""

from __future__ import annotations

from pathlib import Path

from relx.data.io import load_json, require
from relx.errors import RelxInputError

SUFFIXES = ("_types.json", "_types.json.gz")


def _prefix(path: Path) -> str:
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    return name[: -len("_types.json")]


def find_types(path: str | Path) -> Path | None:
    """The types file beside a data file, plain or gzipped (``conll04_train.json.gz`` -> ``conll04_types.json.gz``).

    Like ``spert.find_types_file``: the longest ``<prefix>_types.json[.gz]`` whose prefix starts the data
    file's name, else the only types file in the folder, else None.
    """
    path = Path(path)
    if not path.parent.is_dir():
        return None
    candidates = sorted(p for p in path.parent.iterdir() if p.name.endswith(SUFFIXES) and p.name != path.name)
    matching = [p for p in candidates if path.name.startswith(_prefix(p) + "_")]
    if matching:
        return max(matching, key=lambda p: len(_prefix(p)))
    return candidates[0] if len(candidates) == 1 else None


def symmetric_relations(types_path: str | Path) -> set[str]:
    """Relation types marked ``"symmetric": true`` in a SpERT types file."""
    data = load_json(types_path)
    try:
        relations = require(data, "relations", dict)
        out = set()
        for name, spec in relations.items():
            flag = spec.get("symmetric", False) if isinstance(spec, dict) else False
            if not isinstance(flag, bool):
                raise RelxInputError(f"relation type {name!r}: field 'symmetric' must be true or false, got {flag!r}")
            if flag:
                out.add(name)
    except RelxInputError as exc:
        raise exc.at(types_path) from None
    return out


def symmetric_beside(data_path: str | Path) -> tuple[set[str], Path | None]:
    """(symmetric relation types, types file) for the types file beside ``data_path``; (empty, None) without one."""
    found = find_types(data_path)
    return (symmetric_relations(found), found) if found else (set(), None)


def symmetric_option(option: str | None, data_path: str | Path) -> set[str]:
    """The relation types of a ``--symmetric A,B`` option (``''``: none), else those marked symmetric in the
    SpERT types file beside ``data_path`` (named on stderr when found): one rule for every command."""
    import sys

    if option is not None:
        return {name.strip() for name in option.split(",") if name.strip()}
    found, path = symmetric_beside(data_path)
    if path is not None:
        print(f"symmetric relation types from {path}: {', '.join(sorted(found)) or 'none'}", file=sys.stderr)
    return found
