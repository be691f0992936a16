"""`relx predict MODEL --input file.jsonl|sentences.txt --output out.jsonl`."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="predict relations with a saved model")
    p.add_argument("model", help="saved model directory")
    p.add_argument("--input", required=True, help=".txt (one sentence per line with <e1>..</e1> <e2>..</e2>) or a dataset file")
    p.add_argument("--format", default="auto", help="'text' (one marked sentence per line) or a dataset format (default: guess)")
    p.add_argument("--output", required=True, help="relx JSONL with predicted relations")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="auto")
    p.set_defaults(func=run)


def read_marked_lines(path: Path) -> list:
    """One inline-marked sentence per non-empty line; errors name the line."""
    from relx.data.inline import parse_marked
    from relx.data.schema import Document
    from relx.errors import RelxInputError

    docs = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise RelxInputError("file is not valid UTF-8", path) from None
    except OSError as exc:
        raise RelxInputError(f"cannot open: {exc.strerror}", path) from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            tokens, entities = parse_marked(line.strip())
        except RelxInputError as exc:
            raise exc.at(path, lineno) from None
        docs.append(Document(id=f"line{lineno}", tokens=tokens, entities=entities, meta={"text": line.strip()}))
    return docs


def is_plain_sentences(path: Path) -> bool:
    """A .txt file whose first line is a bare sentence (not SemEval/KBP37 `id<TAB>"sentence"`)."""
    import re

    from relx.data.io import iter_lines

    if path.suffix.lower() != ".txt":
        return False
    first = next((line for _, line in iter_lines(path) if line.strip()), "")
    return re.match(r'^\S+\t"', first) is None


def run(args: argparse.Namespace) -> int:
    from relx.data.schema import write_jsonl
    from relx.pipeline import Pipeline

    path = Path(args.input)
    if args.format == "text" or (args.format == "auto" and is_plain_sentences(path)):
        docs = read_marked_lines(path)
    else:
        from relx.data.io import read

        docs = read(path, args.format)
    nlp = Pipeline.load(args.model, device=args.device, batch_size=args.batch_size)
    preds = nlp(docs)
    n = write_jsonl(args.output, preds)
    for d in preds[:5]:
        print(f"{d.id}\t{d.meta.get('pair_label')}\t{d.meta.get('pair_score', 0):.3f}\t{' '.join(d.tokens)[:80]}")
    print(f"wrote {n} documents to {args.output}")
    return 0
