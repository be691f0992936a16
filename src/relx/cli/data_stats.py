"""`relx data stats FILE [--format FORMAT] [--negative LABEL] [--json OUT] [--skip-invalid]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from relx.data.labels import DEFAULT_NEGATIVE, SEMEVAL_NEGATIVE, default_negative

STATS_HELP = "label counts, imbalance ratios, lengths, overlap classes of a dataset file"
STATS_DESCRIPTION = "Print dataset statistics as tables; optionally write them as JSON."


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stats", help=STATS_HELP, description=STATS_DESCRIPTION)
    p.add_argument("file", help="dataset file (any format relx can read)")
    p.add_argument("--format", default="auto", help="input format (default: auto-detect)")
    p.add_argument(
        "--negative",
        default=None,
        help=f"name of the negative class (default: {SEMEVAL_NEGATIVE!r} for semeval, else {DEFAULT_NEGATIVE!r})",
    )
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="also write the statistics to this JSON file")
    p.add_argument(
        "--skip-invalid", action="store_true", help="leave invalid records out (warning on stderr; JSON key invalid_records_skipped)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relx.data import io as rio
    from relx.data.stats import compute_stats, format_stats
    from relx.utils import check_not_an_input, write_json

    if args.json_out:
        check_not_an_input(args.json_out, args.file)
    fmt = rio.guess_format(args.file) if args.format == "auto" else args.format
    docs, report = rio.read_with_report(args.file, format=fmt, on_invalid="skip" if args.skip_invalid else "error")
    negative = args.negative or default_negative(fmt)
    stats = compute_stats(docs, negative=negative)
    stats = {"file": str(Path(args.file)), "format": fmt, **stats}
    if args.skip_invalid:
        stats["invalid_records_skipped"] = report.skipped
    sys.stdout.write(format_stats(stats))
    if args.json_out:
        write_json(args.json_out, stats)
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0
