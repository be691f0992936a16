"""`relx data convert IN OUT --from FORMAT --to FORMAT [--skip-invalid]`."""

from __future__ import annotations

import argparse

from relx.errors import RelxInputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    from relx.data.io import FORMATS

    p = sub.add_parser("convert", help="convert a dataset file between formats")
    p.add_argument("input", metavar="IN", help="input file (plain or .gz)")
    p.add_argument("output", metavar="OUT", help="output file (gzipped when it ends in .gz)")
    p.add_argument(
        "--from", dest="src_format", metavar="FORMAT", default="auto", help=f"input format: auto (default) or one of {', '.join(FORMATS)}"
    )
    p.add_argument("--to", dest="dst_format", metavar="FORMAT", default="auto", help="output format (default: jsonl for a .jsonl OUT)")
    p.add_argument("--labels", default=None, help="labels.json of a LabelSet: every pair label must be in it")
    p.add_argument("--key-only", action="store_true", help="semeval/marked output: write 'id<TAB>label' answer-key lines")
    p.add_argument("--skip-invalid", action="store_true", help="drop invalid input records (counted in a warning on stderr)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relx.data import io
    from relx.data.labels import LabelSet
    from relx.utils import check_not_an_input

    check_not_an_input(args.output, args.input, args.labels)
    labels = LabelSet.load(args.labels) if args.labels else None
    if args.key_only and args.dst_format not in ("semeval", "marked"):
        raise RelxInputError(f"--key-only needs --to semeval or --to marked, not {args.dst_format!r}", args.output)
    on_invalid = "skip" if args.skip_invalid else "error"
    docs, report = io.read_with_report(args.input, format=args.src_format, labels=labels, on_invalid=on_invalid)
    kwargs = {"key_only": True} if args.key_only else {}
    n = io.write(args.output, docs, format=args.dst_format, **kwargs)
    skipped = f" ({report.skipped} invalid records skipped)" if report.skipped else ""
    print(f"wrote {n} documents to {args.output}{skipped}")
    return 0
