"""Core records: Entity, Relation, Document (token offsets, exclusive ends) and JSONL I/O."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relx.data.fields import describe, is_kind, json_object, kind_name, list_field, typed_list
from relx.data.fields import field as typed_field
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

    fields = [
        ("id", doc.id),
        *((f"token {i}", t) for i, t in enumerate(doc.tokens)),
        *((f"entity {k} label", e.label) for k, e in enumerate(doc.entities)),
        *((f"relation {k} label", r.label) for k, r in enumerate(doc.relations)),
    ]
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
                raise RelxInputError(
                    f"document {self.id!r}: entity {k} character span [{e.char_start}, {e.char_end}) needs "
                    "both ends, 0 <= char_start < char_end"
                )
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
        d = json_object(d, "")
        for key in ("id", "tokens"):
            if key not in d:
                raise RelxInputError(f"missing field {key!r}")
        doc_id, tokens = typed_field(d, "id", str), typed_list(d, "tokens", str)
        ents = [_entity(e, k) for k, e in enumerate(list_field(d, "entities"))]
        rels = [_relation(r, k) for k, r in enumerate(list_field(d, "relations"))]
        extra = {name: typed_list(d, name, int if name == "heads" else str) for name in OPTIONAL_TOKEN_FIELDS if d.get(name) is not None}
        meta = d.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise RelxInputError(f"field 'meta' must be a JSON object, got {kind_name(meta)}")
        doc = cls(id=doc_id, tokens=tokens, entities=ents, relations=rels, meta=dict(meta or {}), **extra)
        return doc.validate()


def _entity(e: Any, k: int) -> Entity:
    what = f" of entity {k}"
    e = json_object(e, what)
    chars = [None if e.get(key) is None else typed_field(e, key, int, what) for key in ("char_start", "char_end")]
    return Entity(
        typed_field(e, "start", int, what), typed_field(e, "end", int, what), typed_field(e, "label", str, what, default="O"), *chars
    )


def _relation(r: Any, k: int) -> Relation:
    what = f" of relation {k}"
    r = json_object(r, what)
    score = r.get("score")
    if score is not None and not is_kind(score, float):
        raise RelxInputError(f"field 'score'{what} must be a finite number or null, got {describe(score)}")
    return Relation(
        typed_field(r, "head", int, what),
        typed_field(r, "tail", int, what),
        typed_field(r, "label", str, what),
        None if score is None else float(score),
    )


def check_unique_id(seen: dict[str, int], doc_id: str, index: int) -> None:
    """Remember ``doc_id`` as used by record ``index`` (1-based) in ``seen``; RelxInputError when it was used before.

    The one duplicate-id check: file readers, the scorer's gold/prediction alignment and the HTTP service use it."""
    if doc_id in seen:
        raise RelxInputError(f"duplicate document id {doc_id!r} (first used by record {seen[doc_id]}); ids must be unique")
    seen[doc_id] = index


def unique_ids(docs: Iterable[Document], where: str | None = None) -> dict[str, Document]:
    """Documents by id (input order); RelxInputError located at ``where`` (a file or side name) on a repeated id."""
    seen: dict[str, int] = {}
    out: dict[str, Document] = {}
    for i, doc in enumerate(docs, 1):
        try:
            check_unique_id(seen, doc.id, i)
        except RelxInputError as exc:
            raise exc.at(where, f"record {i}") if where is not None else exc from None
        out[doc.id] = doc
    return out


def read_jsonl(path: str | Path) -> Iterator[Document]:
    """Yield Documents from relx JSONL (plain or .gz); errors name the file and line."""
    from relx.data.readers.jsonl import read

    return read(path)


def write_jsonl(path: str | Path, docs: Iterable[Document]) -> int:
    """Atomically write Documents as relx JSONL; returns the count."""
    from relx.data.readers.jsonl import write

    return write(path, docs)
