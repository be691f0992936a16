"""`relx predict MODEL --input file.jsonl|sentences.txt[.gz] --output out.jsonl` or `relx predict MODEL --text "..."`.

The command parses arguments and prints: what a file holds (marked sentences, raw text, a dataset format) is
decided by :mod:`relx.inference.inputs`, and the Pipeline routes raw text to extraction and marked sentences or
Documents to classification (``--text`` values are raw text unless they carry tags). Raw-text results are printed
as a table (head, label, tail, score).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from relx.data.safetext import printable, unicode_problem
from relx.data.schema import Document
from relx.errors import RelxConfigError, RelxInputError
from relx.inference.engines import ENGINES, TORCH_ENGINES


def _batch_size(text: str) -> int:
    """argparse type for --batch-size: an integer >= 1 (else a one-line error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise RelxConfigError(f"--batch-size must be a positive integer, got {text!r}")
    return value


def _threshold(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise RelxConfigError(f"--threshold must be a number in [0, 1], got {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    from relx.inference.extraction import CANDIDATES

    p = sub.add_parser("predict", help="predict relations with a saved model (marked sentences, datasets or raw text)")
    p.add_argument("model", help="saved model directory")
    p.add_argument(
        "--input",
        help=".txt or .txt.gz (one sentence per line: raw text, or marked with <e1>..</e1> <e2>..</e2>) or a dataset file (e.g. relx JSONL)",
    )
    p.add_argument("--text", action="append", default=[], help="a text to extract from (raw, or marked with tags); repeatable")
    p.add_argument(
        "--format",
        default="auto",
        help="'text' (one marked sentence per line), 'raw' (one raw text per line) or a dataset format (default: guess)",
    )
    p.add_argument("--output", help="relx JSONL with predicted relations (required with --input)")
    p.add_argument("--batch-size", default="64", help="documents per batch, at least 1 (default: 64)")
    p.add_argument(
        "--threshold",
        default=None,
        help="raw text: keep relations scoring at least this (default: 0.5 for pair models; joint models keep their own decisions)",
    )
    p.add_argument(
        "--candidates",
        default="auto",
        choices=CANDIDATES,
        help="raw text, pair models: entity candidates from spaCy NER or noun chunks (auto: by the training data)",
    )
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--engine",
        default="torch",
        choices=ENGINES,
        help="torch_compile: torch.compile the transformer (pays off on long jobs); "
        "onnx / onnx_int8: onnxruntime on CPU, for a directory written by `relx export onnx`",
    )
    p.set_defaults(func=run)


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


def extraction_table(doc: Document, width: int = 30) -> list[str]:
    """Readable lines for one extracted Document: its text, entities, then head / label / tail / score rows."""
    from relx.inference.extraction import extraction_view

    ext = extraction_view(doc)

    def clip(text: str) -> str:
        text = printable(" ".join(text.split()))
        return text if len(text) <= width else text[: width - 3] + "..."

    text = printable(" ".join(str(doc.meta.get("text", "")).split()))  # input text never drives the terminal
    lines = [f"{printable(doc.id)}: {text if len(text) <= 100 else text[:97] + '...'}"]
    ents = ", ".join(f"{printable(e['text'])} [{printable(e['label'])} {e['char_start']}:{e['char_end']}]" for e in ext.get("entities", []))
    lines.append(f"  entities: {ents or '(none)'}")
    rels = ext.get("relations", [])
    if not rels:
        lines.append("  relations: (none)")
        return lines
    rows = [
        (clip(r["head_text"]), printable(r["label"]), clip(r["tail_text"]), "-" if r["score"] is None else f"{r['score']:.3f}")
        for r in rels
    ]
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(("head", "label", "tail", "score"))]
    for row in [("head", "label", "tail", "score"), *rows]:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return lines


def print_predictions(preds: list[Document], limit: int = 20) -> None:
    """A table per extracted text, a line per classified pair (the first ``limit`` documents); ids, labels and
    text go through :func:`relx.data.safetext.printable` (escape sequences in the input are shown, not executed)."""
    for d in preds[:limit]:
        if "extraction" in d.meta:
            print("\n".join(extraction_table(d)))
        else:
            print(
                f"{printable(d.id)}\t{printable(d.meta.get('pair_label'))}\t{d.meta.get('pair_score', 0):.3f}\t"
                f"{printable(' '.join(d.tokens)[:80])}"
            )
    if len(preds) > limit:
        print(f"... {len(preds) - limit} more documents")


def _text_arg(i: int) -> str:
    return f"--text {i + 1}"


def run(args: argparse.Namespace) -> int:
    from relx.data.schema import write_jsonl
    from relx.inference.inputs import read_inputs
    from relx.inference.pipeline import Pipeline
    from relx.utils import resolve_device

    batch_size = _batch_size(str(args.batch_size))
    threshold = _threshold(args.threshold)
    if bool(args.input) == bool(args.text):
        raise RelxConfigError("give either --input FILE or --text TEXT (repeatable)")
    for i, text in enumerate(args.text):  # argv bytes that are not UTF-8 arrive as lone surrogates (surrogateescape)
        problem = unicode_problem(text, argv=True)
        if problem is not None:
            raise RelxInputError(problem, None, f"--text {i + 1}")
    if args.input and not args.output:
        raise RelxConfigError("--output is required with --input")
    output = Path(args.output) if args.output else None
    if output is not None:
        check_output(output)
        from relx.utils import check_not_an_input

        check_not_an_input(output, args.input)
    device = resolve_device(args.device if args.engine in TORCH_ENGINES or args.device != "auto" else "cpu")
    inputs = read_inputs(args.input, args.format) if args.input else None  # before the model loads: input errors come first
    pipeline = Pipeline.load(
        args.model, device=device, batch_size=batch_size, threshold=threshold, candidates=args.candidates, engine=args.engine
    )
    start = time.perf_counter()
    if inputs is None:  # --text values: raw ones extracted, marked ones classified; errors name the --text value
        texts = list(args.text)
        preds = pipeline.route(texts, [f"text{i + 1}" for i in range(len(texts))], raw_where=_text_arg, where=_text_arg)
    else:
        preds = pipeline.predict_inputs(inputs, progress=True)
    seconds = time.perf_counter() - start
    print_predictions(preds)
    rate = f"{len(preds)} documents in {seconds:.2f} s ({len(preds) / max(seconds, 1e-9):.1f} documents/s)"
    if any("extraction" in d.meta for d in preds):
        t = pipeline.extractor.stats
        rate += f"; raw text: spaCy {t['spacy_seconds']:.2f} s, model {t['model_seconds']:.2f} s"
    print(f"predicted {rate}")
    if output is not None:
        n = write_jsonl(output, preds)
        print(f"wrote {n} documents to {printable(output)}")
    sys.stdout.flush()
    return 0
