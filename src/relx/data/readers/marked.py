"""KBP37-style marked sentences: the SemEval record layout with whitespace-tokenized text.

A record is ``id<TAB>" <e1> Thom Yorke </e1> of <e2> Radiohead </e2> ... "``, a label line with
TACRED-style labels and a direction (``per:employee_of(e1,e2)``, ``no_relation``), an optional
``Comment:`` line and a blank line. Tags may be separate tokens or glued to words (``<e1>Thom``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from relx.data.io import ReadReport
from relx.data.readers.semeval import read_tagged, write_tagged
from relx.data.schema import Document
from relx.registry import READERS, WRITERS


@READERS.register("marked")
def read(path: str | Path, report: ReadReport | None = None, **kwargs: Any) -> Iterator[Document]:
    """Yield Documents from a KBP37-style file (tokens = whitespace split, tags removed)."""
    return read_tagged(path, tokenize=False, report=report)


@WRITERS.register("marked")
def write(
    path: str | Path,
    docs: Iterable[Document],
    negative: str = "no_relation",
    key_only: bool = False,
    labeled: bool | None = None,
    **kwargs: Any,
) -> int:
    """Write KBP37-style records (tags as separate tokens); ``key_only=True`` writes ``id<TAB>label``."""
    return write_tagged(path, docs, negative, spaced=True, key_only=key_only, labeled=labeled)
