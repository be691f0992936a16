"""joint data (SpERT, DyGIE++/ACE05) -> TACRED-style pair classification data in relx JSONL

One record per ordered pair of distinct gold entities of every sentence: entities [subject, object] with their
types, the relation from subject to object as the label, else the negative class. A pair with several labels
keeps the first and lists the others in meta other_labels; relations of symmetric types label both orders.
Prints the counts (sentences, pairs, positives, negatives, negative ratio).

Usage: `relx data pairs IN OUT [--format auto|spert|dygiepp|jsonl] [--negative no_relation] [--symmetric A,B]`.
"""

from __future__ import annotations

import argparse

from relx.cli import command
from relx.errors import RelxInputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "pairs", __doc__)
    p.add_argument("input", metavar="IN", help="joint dataset file (plain or .gz)")
    p.add_argument("output", metavar="OUT", help="relx JSONL to write (gzipped when it ends in .gz)")
    p.add_argument("--format", default="auto", help="input format: auto (default), spert, dygiepp (= ace05) or jsonl")
    p.add_argument("--negative", default="no_relation", help="name of the negative class (default: no_relation)")
    p.add_argument(
        "--symmetric",
        default=None,
        metavar="A,B",
        help="relation types that hold in both orders (default: those marked symmetric in the SpERT *_types.json[.gz] "
        "beside IN; '' for none)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relx.data import io
    from relx.data.pairs import to_pairs
    from relx.data.readers.spert_types import symmetric_option
    from relx.utils import check_not_an_input

    check_not_an_input(args.output, args.input)
    docs = io.read(args.input, format=args.format)
    if not docs:
        raise RelxInputError("no documents", args.input)
    symmetric = symmetric_option(args.symmetric, args.input)
    pairs, summary = to_pairs(docs, negative=args.negative, symmetric=symmetric)
    io.write(args.output, pairs, format="jsonl")
    print(f"wrote {len(pairs)} pair records to {args.output}")
    for line in summary.lines():
        print(line)
    return 0
