"""Core records: Entity, Relation, Document (token offsets, exclusive ends) and JSONL I/O."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relx.errors import RelxInputError

OPTIONAL_TOKEN_FIELDS = ("pos", "ner", "heads", "deprels")


@dataclass
class Entity:
    """A mention: tokens[start:end] (end exclusive) with a type label."""

    start: int
    end: int
    label: str = "O"

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "label": self.label}


@dataclass
class Relation:
    """A directed relation head -> tail; head/tail index Document.entities."""

    head: int
    tail: int
    label: str
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"head": self.head, "tail": self.tail, "label": self.label}
        if self.score is not None:
            d["score"] = float(self.score)
        return d


@dataclass
class Document:
    """A tokenized sentence (or passage) with entities, relations and optional token features.

    Sentence-level classification: entities[0] is the subject (e1), entities[1] the object (e2),
    and ``relations`` holds zero (negative class) or one Relation between them.
    ``heads`` are 1-based dependency heads (0 = root), as in TACRED.
    """

    id: str
    tokens: list[str]
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    pos: list[str] | None = None
    ner: list[str] | None = None
    heads: list[int] | None = None
    deprels: list[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def span_text(self, i: int) -> str:
        e = self.entities[i]
        return " ".join(self.tokens[e.start : e.end])

    def validate(self) -> Document:
        """Raise RelxInputError (without file location) when the record is inconsistent."""
        n = len(self.tokens)
        if n == 0:
            raise RelxInputError(f"document {self.id!r} has no tokens")
        for k, e in enumerate(self.entities):
            if not (0 <= e.start < e.end <= n):
                if e.start >= e.end:
                    raise RelxInputError(f"document {self.id!r}: entity {k} has an empty or crossed span [{e.start}, {e.end})")
                raise RelxInputError(f"document {self.id!r}: entity {k} span [{e.start}, {e.end}) is outside the sentence of {n} tokens")
        for r in self.relations:
            for side, idx in (("head", r.head), ("tail", r.tail)):
                if not (0 <= idx < len(self.entities)):
                    raise RelxInputError(f"document {self.id!r}: relation {side} {idx} does not index one of {len(self.entities)} entities")
        for name in OPTIONAL_TOKEN_FIELDS:
            val = getattr(self, name)
            if val is not None and len(val) != n:
                raise RelxInputError(f"document {self.id!r}: field {name!r} has {len(val)} items for {n} tokens")
        return self

    def pair_relation(self, head: int = 0, tail: int = 1) -> Relation | None:
        """The relation between entities ``head`` and ``tail`` in either direction, if any."""
        for r in self.relations:
            if {r.head, r.tail} == {head, tail}:
                return r
        return None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "tokens": list(self.tokens),
            "entities": [e.to_dict() for e in self.entities],
            "relations": [r.to_dict() for r in self.relations],
        }
        for name in OPTIONAL_TOKEN_FIELDS:
            val = getattr(self, name)
            if val is not None:
                d[name] = list(val)
        if self.meta:
            d["meta"] = self.meta
        return d

    @classmethod
    def from_dict(cls, d: Any) -> Document:
        """Build from a relx JSONL object; raises RelxInputError on bad shapes."""
        if not isinstance(d, dict):
            raise RelxInputError(f"expected a JSON object, got {type(d).__name__}")
        for key in ("id", "tokens"):
            if key not in d:
                raise RelxInputError(f"missing field {key!r}")
        tokens = d["tokens"]
        if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
            raise RelxInputError("field 'tokens' must be a list of strings")
        try:
            ents = [Entity(int(e["start"]), int(e["end"]), str(e.get("label", "O"))) for e in d.get("entities", [])]
            rels = [
                Relation(int(r["head"]), int(r["tail"]), str(r["label"]), None if r.get("score") is None else float(r["score"]))
                for r in d.get("relations", [])
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise RelxInputError(f"bad entity/relation object ({exc.__class__.__name__}: {exc})") from None
        extra = {k: d[k] for k in OPTIONAL_TOKEN_FIELDS if d.get(k) is not None}
        if "heads" in extra:
            extra["heads"] = [int(h) for h in extra["heads"]]
        doc = cls(id=str(d["id"]), tokens=list(tokens), entities=ents, relations=rels, meta=dict(d.get("meta", {})), **extra)
        return doc.validate()


def read_jsonl(path: str | Path) -> Iterator[Document]:
    """Yield Documents from relx JSONL (plain or .gz); errors name the file and line."""
    from relx.data.readers.jsonl import read

    return read(path)


def write_jsonl(path: str | Path, docs: Iterable[Document]) -> int:
    """Atomically write Documents as relx JSONL; returns the count."""
    from relx.data.readers.jsonl import write

    return write(path, docs)
