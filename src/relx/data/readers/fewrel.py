"""FewRel JSON: ``{relation_id: [{tokens, h: [name, id, [[positions], ...]], t: [...]}, ...]}``.

Each instance becomes a Document with entities [head, tail] (the span of the first mention:
min..max+1 of its positions) and ``Relation(0, 1, relation_id)``. The relation's name comes from a
sibling ``pid2name.json`` when present (``meta["relation_name"]``).

A first mention whose positions are not contiguous (``[[3, 5]]``: token 4 missing) is refused with an
error naming the record, never widened to 3..5 silently (an entity is one contiguous span); none of the
14,700 instances of the public val_wiki / val_nyt / val_pubmed files has one. Order and repeats of the
positions do not matter. Tokens may be whitespace (val_wiki has 208 such as ``"\xa0"`` and ``"\n"``) and
are kept as they are; an entity starting or ending on one is refused by ``Document.validate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from relx.data.io import ReadReport, load_json, record_context, string_list
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.registry import READERS

ENTITY_LABEL = "ENTITY"


def _mention(arg: Any, side: str) -> tuple[Entity, Any]:
    """(entity span of the first mention, entity id) of an ``h``/``t`` triple."""
    if not (isinstance(arg, list) and len(arg) >= 3 and isinstance(arg[2], list) and arg[2]):
        raise RelxInputError(f"field {side!r} must be [name, id, [[positions], ...]] with at least one mention")
    positions = arg[2][0]
    if not (isinstance(positions, list) and positions and all(isinstance(p, int) and not isinstance(p, bool) for p in positions)):
        raise RelxInputError(f"field {side!r}: the first mention must be a non-empty list of token positions")
    start, end = min(positions), max(positions) + 1
    present = set(positions)
    if len(present) != end - start:
        missing = list(islice((i for i in range(start, end) if i not in present), 7))  # bounded: the gaps come first
        raise RelxInputError(
            f"field {side!r}: the first mention's positions {_clip(positions)} are not contiguous (missing {_clip(missing)}); "
            "an entity must be one span of consecutive tokens"
        )
    return Entity(start, end, ENTITY_LABEL), arg[1]


def _clip(items: list[int], width: int = 6) -> str:
    return str(items) if len(items) <= width else "[" + ", ".join(map(str, items[:width])) + ", ...]"


def parse_instance(inst: Any, pid: str, k: int, names: dict[str, str]) -> Document:
    """One FewRel instance -> Document."""
    tokens = string_list(inst, "tokens")
    head, head_id = _mention(inst.get("h"), "h")
    tail, tail_id = _mention(inst.get("t"), "t")
    meta: dict[str, Any] = {"head_id": head_id, "tail_id": tail_id}
    if pid in names:
        meta["relation_name"] = names[pid]
    return Document(id=f"{pid}-{k}", tokens=tokens, entities=[head, tail], relations=[Relation(0, 1, pid)], meta=meta).validate()


def load_names(path: str | Path) -> dict[str, str]:
    """Relation id -> name from a sibling pid2name.json ({} when absent or unreadable)."""
    names_file = Path(path).parent / "pid2name.json"
    if not names_file.is_file() or Path(path).name == names_file.name:
        return {}
    data = load_json(names_file)
    if not isinstance(data, dict):
        return {}
    return {k: v[0] for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], str)}


@READERS.register("fewrel")
def read(path: str | Path, report: ReadReport | None = None, **kwargs: Any) -> Iterator[Document]:
    """Yield Documents from a FewRel JSON file (all relations, instances in file order)."""
    data = load_json(path)
    if not isinstance(data, dict):
        raise RelxInputError(f"expected a JSON object {{relation: [instances]}}, got a JSON {type(data).__name__}", path)
    names = load_names(path)
    for pid, instances in data.items():
        if not isinstance(instances, list):
            raise RelxInputError(f"relation {pid!r} must map to a list of instances", path)
        for k, inst in enumerate(instances):
            with record_context(path, f"relation {pid!r}, instance {k}", report):
                yield parse_instance(inst, pid, k, names)
