"""DyGIE++ / PURE JSON lines (the layout users have ACE05 and document-level SciERC in).

One document per line: ``{"doc_key", "sentences": [[token, ...], ...], "ner": [[[start, end, type], ...],
...], "relations": [[[start1, end1, start2, end2, type], ...], ...]}`` with one ``ner`` / ``relations``
list per sentence, token offsets counted over the whole DOCUMENT and INCLUSIVE ends (dwadden/dygiepp
DATA.md; princeton-nlp/PURE). Other keys (``clusters``, ``predicted_ner``, ...) are ignored; a missing
``ner`` or ``relations`` means none.

Each sentence becomes one Document: id ``"{doc_key}:{sentence index}"`` (0-based), sentence-local
offsets with exclusive ends, relation arguments resolved to the sentence's entities by span, and meta
``{"doc_key", "sentence", "token_offset"}``. Registered as ``dygiepp`` and ``ace05``. Files named
``*.jsonl`` are taken for relx JSONL by ``--format auto``; name the format for those.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from relx.data.io import ReadReport, iter_lines, parse_json, record_context, require
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.registry import READERS


def _per_sentence(rec: dict[str, Any], key: str, n: int) -> list[Any]:
    """``rec[key]`` checked to hold one list per sentence (absent: no items in any sentence)."""
    if key not in rec:
        return [[] for _ in range(n)]
    items = require(rec, key, list)
    if len(items) != n:
        raise RelxInputError(f"field {key!r} has {len(items)} lists for {n} sentences")
    for i, sent in enumerate(items):
        if not isinstance(sent, list):
            raise RelxInputError(f"sentence {i}: field {key!r} must hold a list, got {type(sent).__name__}")
    return items


def _item(item: Any, ints: int, what: str) -> tuple[list[int], str]:
    """``[int x ints, type]`` -> (ints, type)."""
    if (
        not isinstance(item, list)
        or len(item) != ints + 1
        or not isinstance(item[-1], str)
        or not all(isinstance(x, int) and not isinstance(x, bool) for x in item[:-1])
    ):
        raise RelxInputError(f"{what} must be [{', '.join(['int'] * ints)}, type], got {str(item)[:60]}")
    return item[:-1], item[-1]


def _local(start: int, end: int, offset: int, n: int, what: str) -> tuple[int, int]:
    """Document-level inclusive span -> sentence-local exclusive span, checked to lie in the sentence."""
    if not offset <= start <= end < offset + n:
        raise RelxInputError(
            f"{what} span [{start}, {end}] is not inside the sentence's tokens [{offset}, {offset + n - 1}] "
            "(document offsets, inclusive ends)"
        )
    return start - offset, end - offset + 1


def _sentence(doc_key: str, index: int, tokens: list[Any], ner: list[Any], relations: list[Any], offset: int) -> Document:
    where = f"sentence {index}"
    if not all(isinstance(t, str) for t in tokens):
        raise RelxInputError(f"{where}: tokens must be strings")
    n = len(tokens)
    ents: list[Entity] = []
    by_span: dict[tuple[int, int], int] = {}
    for k, item in enumerate(ner):
        (start, end), label = _item(item, 2, f"{where}: ner item {k}")
        ents.append(Entity(*_local(start, end, offset, n, f"{where}: entity {k}"), label))
        by_span.setdefault((start, end), k)
    rels: list[Relation] = []
    for k, item in enumerate(relations):
        (s1, e1, s2, e2), label = _item(item, 4, f"{where}: relation {k}")
        args = []
        for side, span in (("head", (s1, e1)), ("tail", (s2, e2))):
            if span not in by_span:
                raise RelxInputError(f"{where}: relation {k} {side} span [{span[0]}, {span[1]}] is not one of the sentence's entities")
            args.append(by_span[span])
        rels.append(Relation(args[0], args[1], label))
    meta = {"doc_key": doc_key, "sentence": index, "token_offset": offset}
    return Document(id=f"{doc_key}:{index}", tokens=list(tokens), entities=ents, relations=rels, meta=meta).validate()


def parse_document(rec: Any) -> list[Document]:
    """One DyGIE++ document -> one Document per sentence (see the module docstring)."""
    doc_key = require(rec, "doc_key", (str, int))
    sentences = require(rec, "sentences", list)
    for i, sent in enumerate(sentences):
        if not isinstance(sent, list):
            raise RelxInputError(f"sentence {i} must be a list of tokens, got {type(sent).__name__}")
    ner = _per_sentence(rec, "ner", len(sentences))
    relations = _per_sentence(rec, "relations", len(sentences))
    docs, offset = [], 0
    for i, tokens in enumerate(sentences):
        docs.append(_sentence(str(doc_key), i, tokens, ner[i], relations[i], offset))
        offset += len(tokens)
    return docs


@READERS.register("dygiepp")
@READERS.register("ace05")
def read(path: str | Path, report: ReadReport | None = None, **kwargs: Any) -> Iterator[Document]:
    """Yield one Document per sentence of a DyGIE++ / PURE JSON-lines file (plain or .gz); errors name
    the file, the line and the sentence (``report``: see ``io.read``; an invalid line drops its document)."""
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        docs: list[Document] = []
        with record_context(path, lineno, report):
            docs = parse_document(parse_json(line))
        yield from docs
