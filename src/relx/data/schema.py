"""Core records: Entity, Relation, Document (token offsets, exclusive ends) and JSONL I/O."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relx.errors import RelxInputError

OPTIONAL_TOKEN_FIELDS = ("pos", "ner", "heads", "deprels")
_INVISIBLE = ("Cc", "Cf")  # control and format characters (NUL, zero-width space, soft hyphen, BOM)


def is_blank(token: str) -> bool:
    """True for a token without a visible character: ``""``, or only whitespace (``" "``, ``"\\xa0"``,
    ``"\\n"``), control or format characters (``"\\u200b"``). Subword tokenizers give such a token no
    pieces, so it cannot be where an entity starts or ends (it may sit anywhere else: FewRel has them)."""
    return all(c.isspace() or unicodedata.category(c) in _INVISIBLE for c in token)


def has_whitespace(token: str) -> bool:
    """True when ``str.split`` would cut ``token`` or drop it: empty, or holding any whitespace character."""
    return not token or any(c.isspace() for c in token)


def _text_problem(doc: Document) -> str | None:
    """Why a string of ``doc`` (id, token, entity or relation label) is not valid Unicode (a lone surrogate from a
    ``"\\ud800"`` JSON escape: no tokenizer or JSON writer takes it), or None."""
    from relx.data.safetext import surrogate_index, unicode_problem

    fields = [("id", doc.id), *((f"token {i}", t) for i, t in enumerate(doc.tokens)),
              *((f"entity {k} label", e.label) for k, e in enumerate(doc.entities)),
              *((f"relation {k} label", r.label) for k, r in enumerate(doc.relations))]
    strings = [v for _, v in fields if isinstance(v, str)]
    if surrogate_index("".join(strings)) is None:  # the common case: one encode over everything
        return None
    for name, value in fields:
        if isinstance(value, str) and (problem := unicode_problem(value)) is not None:
            return f"{name}: {problem}"
    return None


@dataclass
class Entity:
    """A mention: tokens[start:end] (end exclusive) with a type label.

    ``char_start`` / ``char_end`` (both or neither; not part of equality) locate the mention in the text it
    came from (``meta["text"]`` of a raw-text extraction: ``text[char_start:char_end]``)."""

    start: int
    end: int
    label: str = "O"
    char_start: int | None = field(default=None, compare=False)
    char_end: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label}
        if self.char_start is not None or self.char_end is not None:
            d["char_start"], d["char_end"] = self.char_start, self.char_end
        return d


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
        """Raise RelxInputError (without file location) when the record is inconsistent: no tokens, a token
        with a lone surrogate, an entity span empty, outside the sentence or starting/ending on a blank token
        (``is_blank``), a relation argument that is not an entity, a token field of the wrong length."""
        n = len(self.tokens)
        if n == 0:
            raise RelxInputError(f"document {self.id!r} has no tokens")
        problem = _text_problem(self)
        if problem is not None:
            raise RelxInputError(f"document {self.id!r}: {problem}")
        for k, e in enumerate(self.entities):
            if not (0 <= e.start < e.end <= n):
                if e.start >= e.end:
                    raise RelxInputError(f"document {self.id!r}: entity {k} has an empty or crossed span [{e.start}, {e.end})")
                raise RelxInputError(f"document {self.id!r}: entity {k} span [{e.start}, {e.end}) is outside the sentence of {n} tokens")
            if (e.char_start is None) != (e.char_end is None) or (e.char_start is not None and not 0 <= e.char_start < e.char_end):
                raise RelxInputError(f"document {self.id!r}: entity {k} character span [{e.char_start}, {e.char_end}) needs "
                                     "both ends, 0 <= char_start < char_end")
            for edge, i in (("starts", e.start), ("ends", e.end - 1)):
                tok = self.tokens[i]
                if isinstance(tok, str) and is_blank(tok):
                    raise RelxInputError(
                        f"document {self.id!r}: entity {k} span [{e.start}, {e.end}) {edge} on token {i} {tok!r}, which is "
                        "empty or blank (no visible character); an entity must start and end on a word"
                    )
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
        """Build from a relx JSONL object; raises RelxInputError naming the field on bad shapes or types."""
        d = _object(d, "")
        for key in ("id", "tokens"):
            if key not in d:
                raise RelxInputError(f"missing field {key!r}")
        doc_id, tokens = _field(d, "id", str), _typed_list(d, "tokens", str)
        ents = [_entity(e, k) for k, e in enumerate(_list_field(d, "entities"))]
        rels = [_relation(r, k) for k, r in enumerate(_list_field(d, "relations"))]
        extra = {name: _typed_list(d, name, int if name == "heads" else str) for name in OPTIONAL_TOKEN_FIELDS if d.get(name) is not None}
        meta = d.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise RelxInputError(f"field 'meta' must be a JSON object, got {_kind(meta)}")
        doc = cls(id=doc_id, tokens=tokens, entities=ents, relations=rels, meta=dict(meta or {}), **extra)
        return doc.validate()


# --- strict JSONL field checks (the public contract: int / str / list of str, nothing coerced) ----------
_TYPE_NAMES = {int: "an integer", str: "a string", float: "a number"}


def _kind(value: Any) -> str:
    """JSON-ish name of ``value``'s type for messages ('null', 'bool', 'float', ...)."""
    return "null" if value is None else type(value).__name__


def _is(value: Any, kind: type) -> bool:
    """``isinstance`` without the bool-is-an-int trap; ``float`` accepts finite ints and floats."""
    if isinstance(value, bool):
        return False
    if kind is float:
        return isinstance(value, (int, float)) and math.isfinite(value)
    return isinstance(value, kind)


def _object(value: Any, what: str) -> dict[str, Any]:
    """``value`` checked to be a JSON object; ``what``: " of entity 0" etc. ("" for the record)."""
    if not isinstance(value, dict):
        name = what.removeprefix(" of ") or "a record"
        raise RelxInputError(f"{name} must be a JSON object, got {_kind(value)}")
    return value


def _field(obj: dict[str, Any], key: str, kind: type, what: str = "", default: Any = None) -> Any:
    """``obj[key]`` checked to be exactly ``kind`` (``default`` when absent and a default is given)."""
    if key not in obj:
        if default is not None:
            return default
        raise RelxInputError(f"missing field {key!r}{what}")
    value = obj[key]
    if not _is(value, kind):
        raise RelxInputError(f"field {key!r}{what} must be {_TYPE_NAMES[kind]}, got {_describe(value)}")
    return value


def _list_field(obj: dict[str, Any], key: str) -> list[Any]:
    """Optional list field (absent or null -> [])."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise RelxInputError(f"field {key!r} must be a list, got {_kind(value)}")
    return value


def _typed_list(obj: dict[str, Any], key: str, kind: type) -> list[Any]:
    """``obj[key]`` checked to be a list whose items are all exactly ``kind``."""
    value = obj[key]
    what = "integers" if kind is int else "strings"
    if not isinstance(value, list):
        raise RelxInputError(f"field {key!r} must be a list of {what}, got {_kind(value)}")
    for i, item in enumerate(value):
        if not _is(item, kind):
            raise RelxInputError(f"field {key!r} must be a list of {what}; item {i} is {_describe(item)}")
    return list(value)


def _entity(e: Any, k: int) -> Entity:
    what = f" of entity {k}"
    e = _object(e, what)
    chars = [None if e.get(key) is None else _field(e, key, int, what) for key in ("char_start", "char_end")]
    return Entity(_field(e, "start", int, what), _field(e, "end", int, what), _field(e, "label", str, what, default="O"), *chars)


def _relation(r: Any, k: int) -> Relation:
    what = f" of relation {k}"
    r = _object(r, what)
    score = r.get("score")
    if score is not None and not _is(score, float):
        raise RelxInputError(f"field 'score'{what} must be a finite number or null, got {_describe(score)}")
    return Relation(
        _field(r, "head", int, what), _field(r, "tail", int, what), _field(r, "label", str, what), None if score is None else float(score)
    )


def _describe(value: Any, width: int = 30) -> str:
    """'null', or the type and a clipped repr: "float 1.9", "str '0'"."""
    if value is None:
        return "null"
    text = repr(value)
    return f"{_kind(value)} {text if len(text) <= width else text[: width - 3] + '...'}"


def read_jsonl(path: str | Path) -> Iterator[Document]:
    """Yield Documents from relx JSONL (plain or .gz); errors name the file and line."""
    from relx.data.readers.jsonl import read

    return read(path)


def write_jsonl(path: str | Path, docs: Iterable[Document]) -> int:
    """Atomically write Documents as relx JSONL; returns the count."""
    from relx.data.readers.jsonl import write

    return write(path, docs)
