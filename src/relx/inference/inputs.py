"""Prediction inputs from a file: marked sentences, raw text or a dataset format, told apart here (not in the CLI).

A .txt / .txt.gz file holds one sentence per line: marked with ``<e1>..</e1> <e2>..</e2>`` (format ``text``, pair
classification) or raw text (format ``raw``, entities and relations extracted); ``auto`` decides by the first
line's tags, and a file that is not a bare-sentence .txt goes to the registered dataset readers
(:func:`relx.data.io.read`, format guessed by :func:`relx.data.io.guess_format`). :func:`read_inputs` returns an
:class:`Inputs`, which :meth:`relx.inference.pipeline.Pipeline.predict_inputs` routes to extraction or
classification.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.inference.extraction import is_marked

Where = Callable[[int], str | int]
TEXT_FORMATS = ("text", "raw")  # besides the registered dataset formats


@dataclass
class Inputs:
    """What a file holds: raw ``texts`` (with ``ids``) or ``docs``; ``where(i)`` locates item i (a line or record)."""

    source: Path
    where: Where
    texts: list[str] | None = None
    ids: list[str] = field(default_factory=list)
    docs: list[Document] = field(default_factory=list)

    @property
    def raw(self) -> bool:
        return self.texts is not None


def _json_object(text: str) -> bool:
    """``text`` is a JSON object (a relx JSONL record, say), not a sentence."""
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except json.JSONDecodeError:
        return False


MARKED_JSON = (
    "this line is a JSON object, not a sentence marked with <e1>..</e1> <e2>..</e2>; for relx JSONL use --format jsonl (or --format auto)"
)
RAW_MARKED = (
    "this line has <e1>/<e2> tags but the file is raw text: a file holds either marked sentences (--format text) or raw text (--format raw)"
)
RAW_JSON = "this line is a JSON object, not raw text; for relx JSONL use --format jsonl (or --format auto)"


def _text_lines(path: Path, refuse: dict[str, Callable[[str], bool]]) -> list[tuple[int, str]]:
    """(line number, stripped text) of every non-empty line of ``path`` (plain or .gz UTF-8, split on \\n only);
    a line for which a ``refuse`` test is true raises that problem, naming the line."""
    from relx.data.io import iter_lines

    lines = []
    for lineno, line in iter_lines(path):
        text = line.strip()
        problem = next((problem for problem, test in refuse.items() if text and test(text)), None)
        if problem is not None:
            raise RelxInputError(problem, path, lineno)
        if text:
            lines.append((lineno, text))
    return lines


def read_marked_lines(path: Path) -> list[Document]:
    """One inline-marked sentence per non-empty line; errors name the line."""
    from relx.data.inline import parse_marked

    docs = []
    for lineno, text in _text_lines(path, {MARKED_JSON: _json_object}):
        try:
            tokens, entities = parse_marked(text)
        except RelxInputError as exc:
            raise exc.at(path, lineno) from None
        docs.append(Document(id=f"line{lineno}", tokens=tokens, entities=entities, meta={"text": text}))
    return docs


def read_raw_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of every non-empty line of a raw-text file; a marked or JSON line is an error."""
    return _text_lines(path, {RAW_MARKED: is_marked, RAW_JSON: _json_object})


def _first_line(path: Path) -> str:
    from relx.data.io import iter_lines

    return next((line for _, line in iter_lines(path) if line.strip()), "")


def is_plain_sentences(path: Path) -> bool:
    """A .txt / .txt.gz file whose first line is a bare sentence (not SemEval/KBP37 `id<TAB>"sentence"`)."""
    name = path.name.lower()
    if not (name.endswith(".txt") or name.endswith(".txt.gz")):
        return False
    return re.match(r'^\S+\t"', _first_line(path)) is None


def is_raw_text(path: Path) -> bool:
    """A plain-sentence file whose first non-empty line has no inline tags."""
    return is_plain_sentences(path) and not is_marked(_first_line(path))


def _jsonl_line_of(path: Path) -> Where:
    """Map the i-th document of a relx JSONL file to its line (the reader skips blank lines)."""
    cache: list[int] = []

    def where(i: int) -> int:
        if not cache:
            from relx.data.io import iter_lines

            cache.extend(n for n, line in iter_lines(path) if line.strip())
        return cache[i] if i < len(cache) else i + 1

    return where


def read_inputs(path: str | Path, fmt: str = "auto") -> Inputs:
    """The prediction inputs of ``path``: ``fmt`` is ``raw``, ``text``, a registered dataset format or ``auto``."""
    from relx.data.io import guess_format, read, record_where

    path = Path(path)
    if fmt == "raw" or (fmt == "auto" and is_raw_text(path)):
        lines = read_raw_lines(path)
        return Inputs(path, lambda i: lines[i][0], texts=[t for _, t in lines], ids=[f"line{n}" for n, _ in lines])
    if fmt == "text" or (fmt == "auto" and is_plain_sentences(path)):
        docs = read_marked_lines(path)
        return Inputs(path, lambda i: int(docs[i].id[4:]), docs=docs)
    fmt = guess_format(path) if fmt == "auto" else fmt
    docs = read(path, fmt)
    if fmt == "jsonl":
        return Inputs(path, _jsonl_line_of(path), docs=docs)
    return Inputs(path, lambda i: record_where(i + 1, docs[i].id), docs=docs)
