"""`relx predict MODEL --input file.jsonl|sentences.txt[.gz] [--output out.jsonl|-]` or `relx predict MODEL --text "..."`.

The command parses arguments and prints: what a file holds (marked sentences, raw text, a dataset format) is
decided by :mod:`relx.inference.inputs`, and the Pipeline routes raw text to extraction and marked sentences or
Documents to classification (``--text`` values are raw text unless they carry tags). Without ``--output`` every
result is printed: a line per classified pair (label, score), a table per text or document with entities and
relations (raw text, joint and all-pairs models); ``--output -`` writes relx JSONL to stdout instead.
"""

from __future__ import annotations

import argparse
import json
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
    from relx.inference.extraction import SENTENCES

    p = sub.add_parser("predict", help="predict relations with a saved model (marked sentences, datasets or raw text)")
    p.add_argument("model", help="saved model directory, or the name of a built zoo model (`relx models --zoo`)")
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
    p.add_argument(
        "--output",
        help="write the predictions as relx JSONL to this file ('-': to stdout); without it they are printed as a table",
    )
    p.add_argument("--batch-size", default="64", help="documents per batch, at least 1 (default: 64)")
    p.add_argument(
        "--threshold",
        default=None,
        help="raw text: keep relations scoring at least this (default: 0.5 for pair models; joint models keep their own decisions)",
    )
    p.add_argument(
        "--candidates",
        default="auto",
        metavar="{auto,ner,noun_chunks,JOINT_MODEL_DIR}",
        help="raw text, pair models: entity candidates from spaCy NER or noun chunks (auto: by the training data), "
        "or the entities a saved joint model (span_base) finds",
    )
    p.add_argument(
        "--sentences",
        default="spacy",
        choices=SENTENCES,
        help="raw text: sentences from spaCy (default), one per line of each text, or none (each text is one sentence)",
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


def _entity_cells(doc: Document) -> list[tuple[str, str, str]]:
    """(text, type, offsets) of every entity: character offsets ``start:end`` into ``meta["text"]`` when the entity
    has them, else its token span (``tokens start:end``)."""
    text = doc.meta.get("text")
    cells = []
    for k, e in enumerate(doc.entities):
        if isinstance(text, str) and e.char_start is not None and e.char_end is not None:
            cells.append((text[e.char_start : e.char_end], e.label, f"{e.char_start}:{e.char_end}"))
        else:
            cells.append((doc.span_text(k), e.label, f"tokens {e.start}:{e.end}"))
    return cells


def result_table(doc: Document, width: int = 30) -> list[str]:
    """Readable lines for one Document with predicted entities and relations (raw-text extraction, joint and
    all-pairs models): its text, entities (text [type offsets]), then head / label / tail / score rows."""

    def clip(text: str) -> str:
        text = printable(" ".join(text.split()))
        return text if len(text) <= width else text[: width - 3] + "..."

    source = doc.meta.get("text")
    source = source if isinstance(source, str) else " ".join(doc.tokens)
    text = printable(" ".join(source.split()))  # input text never drives the terminal
    lines = [f"{printable(doc.id)}: {text if len(text) <= 100 else text[:97] + '...'}"]
    cells = _entity_cells(doc)
    ents = ", ".join(f"{printable(t)} [{printable(label)} {where}]" for t, label, where in cells)
    lines.append(f"  entities: {ents or '(none)'}")
    if not doc.relations:
        lines.append("  relations: (none)")
        return lines
    rows = [
        (clip(cells[r.head][0]), printable(r.label), clip(cells[r.tail][0]), "-" if r.score is None else f"{r.score:.3f}")
        for r in doc.relations
    ]
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(("head", "label", "tail", "score"))]
    for row in [("head", "label", "tail", "score"), *rows]:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return lines


def print_predictions(preds: list[Document], limit: int | None = 20) -> None:
    """A line per classified pair (id, label, score, sentence) and a :func:`result_table` per other Document (raw
    text, joint and all-pairs models), for the first ``limit`` documents (None: all); ids, labels and text go
    through :func:`relx.data.safetext.printable` (escape sequences in the input are shown, not executed)."""
    shown = preds if limit is None else preds[:limit]
    for d in shown:
        if "pair_label" in d.meta:
            print(
                f"{printable(d.id)}\t{printable(d.meta.get('pair_label'))}\t{d.meta.get('pair_score', 0):.3f}\t"
                f"{printable(' '.join(d.tokens)[:80])}"
            )
        else:
            print("\n".join(result_table(d)))
    if len(preds) > len(shown):
        print(f"... {len(preds) - len(shown)} more documents (write them all with --output FILE)")


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
    to_stdout = args.output == "-"
    output = Path(args.output) if args.output and not to_stdout else None
    if output is not None:
        check_output(output)
        from relx.utils import check_not_an_input

        check_not_an_input(output, args.input)
    device = resolve_device(args.device if args.engine in TORCH_ENGINES or args.device != "auto" else "cpu")
    inputs = read_inputs(args.input, args.format) if args.input else None  # before the model loads: input errors come first
    pipeline = Pipeline.load(
        args.model,
        device=device,
        batch_size=batch_size,
        threshold=threshold,
        candidates=args.candidates,
        engine=args.engine,
        sentences=args.sentences,
    )
    start = time.perf_counter()
    if inputs is None:  # --text values: raw ones extracted, marked ones classified; errors name the --text value
        texts = list(args.text)
        preds = pipeline.route(texts, [f"text{i + 1}" for i in range(len(texts))], raw_where=_text_arg, where=_text_arg)
    else:
        preds = pipeline.predict_inputs(inputs, progress=True)
    seconds = time.perf_counter() - start
    if to_stdout:  # stdout holds the JSONL only; the summary goes to stderr
        for d in preds:
            sys.stdout.write(json.dumps(d.to_dict(), ensure_ascii=False) + "\n")
    else:
        print_predictions(preds, limit=20 if output is not None else None)
    rate = f"{len(preds)} documents in {seconds:.2f} s ({len(preds) / max(seconds, 1e-9):.1f} documents/s)"
    if any("extraction" in d.meta for d in preds):
        t = pipeline.extractor.stats
        rate += f"; raw text: spaCy {t['spacy_seconds']:.2f} s, model {t['model_seconds']:.2f} s"
    print(f"predicted {rate}", file=sys.stderr if to_stdout else sys.stdout)
    if output is not None:
        n = write_jsonl(output, preds)
        print(f"wrote {n} documents to {printable(output)}")
    sys.stdout.flush()
    return 0
