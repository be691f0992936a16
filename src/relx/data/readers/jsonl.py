"""relx JSONL: one ``Document.to_dict()`` object per line (plain or .gz)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from relx.data.io import ReadReport, iter_lines, parse_json, record_context, write_text
from relx.data.schema import Document
from relx.registry import READERS, WRITERS


@READERS.register("jsonl")
def read(path: str | Path, report: ReadReport | None = None, **kwargs: Any) -> Iterator[Document]:
    """Yield Documents from relx JSONL; errors name the file and line (``report``: see ``io.read``)."""
    for lineno, line in iter_lines(path):
        if not line.strip():
            continue
        with record_context(path, lineno, report):
            yield Document.from_dict(parse_json(line))


@WRITERS.register("jsonl")
def write(path: str | Path, docs: Iterable[Document], **kwargs: Any) -> int:
    """Atomically write relx JSONL (gzipped when ``path`` ends in .gz); returns the count."""
    lines = [json.dumps(doc.to_dict(), ensure_ascii=False) for doc in docs]
    write_text(path, "".join(line + "\n" for line in lines))
    return len(lines)
