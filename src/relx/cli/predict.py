"""`relx predict MODEL --input file.jsonl|sentences.txt[.gz] --output out.jsonl`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from relx.data.schema import Document
from relx.errors import RelxConfigError, RelxInputError

Where = Callable[[int], str | int]


def _batch_size(text: str) -> int:
    """argparse type for --batch-size: an integer >= 1 (else a one-line error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise RelxConfigError(f"--batch-size must be a positive integer, got {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict relations with a saved model")
    p.add_argument("model", help="saved model directory")
    p.add_argument(
        "--input", required=True,
        help=".txt or .txt.gz (one sentence per line with <e1>..</e1> <e2>..</e2>) or a dataset file (e.g. relx JSONL)",
    )
    p.add_argument("--format", default="auto", help="'text' (one marked sentence per line) or a dataset format (default: guess)")
    p.add_argument("--output", required=True, help="relx JSONL with predicted relations")
    p.add_argument("--batch-size", default="64", help="documents per batch, at least 1 (default: 64)")
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def _reject_json_line(text: str, path: Path, lineno: int) -> None:
    """A marked-sentence file must not hold JSON records (e.g. relx JSONL read with --format text)."""
    if not text.startswith("{"):
        return
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return
    if isinstance(obj, dict):
        raise RelxInputError(
            "this line is a JSON object, not a sentence marked with <e1>..</e1> <e2>..</e2>; "
            "for relx JSONL use --format jsonl (or --format auto)", path, lineno,
        )


def read_marked_lines(path: Path) -> list[Document]:
    """One inline-marked sentence per non-empty line (plain or .gz UTF-8, split on \\n only); errors name the line."""
    from relx.data.inline import parse_marked
    from relx.data.io import iter_lines

    docs = []
    for lineno, line in iter_lines(path):
        text = line.strip()
        if not text:
            continue
        _reject_json_line(text, path, lineno)
        try:
            tokens, entities = parse_marked(text)
        except RelxInputError as exc:
            raise exc.at(path, lineno) from None
        docs.append(Document(id=f"line{lineno}", tokens=tokens, entities=entities, meta={"text": text}))
    return docs


def is_plain_sentences(path: Path) -> bool:
    """A .txt / .txt.gz file whose first line is a bare sentence (not SemEval/KBP37 `id<TAB>"sentence"`)."""
    import re

    from relx.data.io import iter_lines

    name = path.name.lower()
    if not (name.endswith(".txt") or name.endswith(".txt.gz")):
        return False
    first = next((line for _, line in iter_lines(path) if line.strip()), "")
    return re.match(r'^\S+\t"', first) is None


def check_output(path: Path) -> None:
    """Fail before any work when ``path`` cannot be written (a directory, under a file, read-only folder)."""
    if path.is_dir():
        raise RelxInputError("output path is a directory; give a file name such as out.jsonl", path)
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise RelxInputError(f"cannot write the output: {parent} is not a directory", path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RelxInputError(f"cannot write the output: folder {parent} is not writable", path)


def _jsonl_line_of(path: Path) -> Where:
    """Map the i-th document of a relx JSONL file to its line (the reader skips blank lines)."""
    cache: list[int] = []

    def where(i: int) -> int:
        if not cache:
            from relx.data.io import iter_lines

            cache.extend(n for n, line in iter_lines(path) if line.strip())
        return cache[i] if i < len(cache) else i + 1

    return where


def read_input(path: Path, fmt: str) -> tuple[list[Document], Where]:
    """Documents of ``path`` and a function locating the i-th one (line number or record)."""
    from relx.data.io import guess_format, read, record_where

    if fmt == "text" or (fmt == "auto" and is_plain_sentences(path)):
        docs = read_marked_lines(path)
        return docs, lambda i: int(docs[i].id[4:])
    fmt = guess_format(path) if fmt == "auto" else fmt
    docs = read(path, fmt)
    if fmt == "jsonl":
        return docs, _jsonl_line_of(path)
    return docs, lambda i: record_where(i + 1, docs[i].id)


def run(args: argparse.Namespace) -> int:
    from relx.data.schema import write_jsonl
    from relx.pipeline import Pipeline
    from relx.utils import resolve_device

    batch_size = _batch_size(str(args.batch_size))
    output = Path(args.output)
    check_output(output)
    device = resolve_device(args.device)
    path = Path(args.input)
    docs, where = read_input(path, args.format)
    nlp = Pipeline.load(args.model, device=device, batch_size=batch_size)
    nlp.check(docs, path, where)
    start = time.perf_counter()
    preds = nlp.predict(docs, progress=True)
    seconds = time.perf_counter() - start
    n = write_jsonl(output, preds)
    for d in preds[:5]:
        print(f"{d.id}\t{d.meta.get('pair_label')}\t{d.meta.get('pair_score', 0):.3f}\t{' '.join(d.tokens)[:80]}")
    print(f"predicted {len(preds)} documents in {seconds:.2f} s ({len(preds) / max(seconds, 1e-9):.1f} documents/s)")
    print(f"wrote {n} documents to {output}")
    sys.stdout.flush()
    return 0
