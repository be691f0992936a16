"""`relx rules mine TRAIN --out RULES.yaml`, `relx rules check RULES DATA` and `relx rules soft DATA [--png P]`."""

from __future__ import annotations

import argparse
import sys

from relx.data.labels import DEFAULT_NEGATIVE, SEMEVAL_NEGATIVE, default_negative

MINE_HELP = "mine between-entity n-gram cues per relation from training data"
MINE_DESCRIPTION = (
    "Keep n-grams with train precision >= --min-precision and support >= --min-support; "
    "write a readable YAML pattern file with each pattern's precision and support."
)
CHECK_HELP = "per-relation coverage / precision of a pattern file on a dataset"
CHECK_DESCRIPTION = "RULES is a YAML pattern file or a shipped set (semeval, tacred)."
SOFT_HELP = "soft type-constraint rules: P(relation | subject type, object type) from labelled data"
SOFT_DESCRIPTION = (
    "Count (subject type, object type) patterns against relations in DATA (two-entity documents), "
    "normalise each pattern's row, set the negative class to C; print the table, optionally "
    "save the heatmap (PNG) and the rules (JSON). Untyped entities take the NER tag of their head "
    "token (annotate the data first: relx data annotate)."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rules", help="mine and check regex cue patterns (symbolic branch of the hybrid model)")
    rsub = p.add_subparsers(dest="rules_command", required=True)

    m = rsub.add_parser("mine", help=MINE_HELP, description=MINE_DESCRIPTION)
    m.add_argument("train", help="training data (any format relx reads)")
    m.add_argument("--out", required=True, help="YAML pattern file to write")
    _data_args(m)
    m.add_argument("--min-precision", type=float, default=0.5, help="minimum train precision (default: 0.5)")
    m.add_argument("--min-support", type=int, default=5, help="minimum documents of the relation containing the n-gram (default: 5)")
    m.add_argument("--max-n", type=int, default=3, help="longest n-gram (default: 3)")
    m.add_argument("--max-per-relation", type=int, default=30, help="keep at most this many patterns per relation (0 = all)")
    m.set_defaults(func=run_mine)

    c = rsub.add_parser("check", help=CHECK_HELP, description=CHECK_DESCRIPTION)
    c.add_argument("rules", help="pattern file or shipped name")
    c.add_argument("data", help="labelled data (any format relx reads)")
    _data_args(c)
    c.add_argument("--patterns", action="store_true", help="also list every pattern's firings and precision")
    c.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="also write the report as JSON")
    c.set_defaults(func=run_check)

    s = rsub.add_parser("soft", help=SOFT_HELP, description=SOFT_DESCRIPTION)
    s.add_argument("data", help="labelled pair data (any format relx reads)")
    _data_args(s)
    s.add_argument("--na", type=float, default=0.2, help="the constant C on the negative class (default: 0.2)")
    s.add_argument("--png", default=None, help="save the patterns x relations heatmap here")
    s.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="also write the rules as JSON")
    s.set_defaults(func=run_soft)


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", default="auto", help="input format (default: auto-detect)")
    p.add_argument(
        "--negative",
        default=None,
        help=f"negative class (default: the one the reader records, else {SEMEVAL_NEGATIVE!r} for semeval, {DEFAULT_NEGATIVE!r} otherwise)",
    )


def _read(path: str, fmt: str, negative: str | None) -> tuple[list, str]:
    from relx.data import io as rio
    from relx.errors import RelxInputError

    fmt = rio.guess_format(path) if fmt == "auto" else fmt
    docs = rio.read(path, format=fmt)
    if not docs:
        raise RelxInputError("no documents", path)
    if negative is None:
        seen = {d.meta["negative"] for d in docs if d.meta.get("negative")}  # readers record the file's negative label
        negative = seen.pop() if len(seen) == 1 else default_negative(fmt)
    return docs, negative


def run_mine(args: argparse.Namespace) -> int:
    from relx.rules.mine import mine_ruleset
    from relx.utils import atomic_open, check_not_an_input

    check_not_an_input(args.out, args.train)
    docs, negative = _read(args.train, args.format, args.negative)
    settings = {"min_precision": args.min_precision, "min_support": args.min_support, "max_n": args.max_n}
    rules, text = mine_ruleset(docs, negative, origin=args.train, max_per_relation=args.max_per_relation or None, **settings)
    with atomic_open(args.out) as fh:
        fh.write(text)
    print(f"wrote {args.out}: {len(rules)} patterns for {len(rules.relations)} relations from {len(docs)} documents", file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    from relx.rules.check import coverage, format_coverage
    from relx.rules.patterns import RuleSet
    from relx.utils import check_not_an_input, write_json

    if args.json_out:
        check_not_an_input(args.json_out, args.rules, args.data)
    rules = RuleSet.load(args.rules)
    docs, negative = _read(args.data, args.format, args.negative)
    report = coverage(rules, docs, negative)
    sys.stdout.write(format_coverage(report, patterns=args.patterns))
    if args.json_out:
        write_json(args.json_out, {"rules": args.rules, "data": args.data, **report})
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0


def run_soft(args: argparse.Namespace) -> int:
    from relx.data.labels import LabelSet
    from relx.errors import RelxInputError
    from relx.models.pair import entity_count_problem
    from relx.rules.soft import SoftRules
    from relx.utils import check_not_an_input, write_json

    for out in (args.png, args.json_out):
        if out:
            check_not_an_input(out, args.data)
    docs, negative = _read(args.data, args.format, args.negative)
    for i, d in enumerate(docs, 1):
        problem = entity_count_problem(d)
        if problem is not None:
            raise RelxInputError(f"{problem} (soft rules count subject/object type pairs)", args.data, f"record {i}")
    rules = SoftRules.from_documents(docs, LabelSet.from_documents(docs, negative=negative), args.na)
    sys.stdout.write(rules.format_table())
    if args.png:
        rules.heatmap_png(args.png)
        print(f"wrote {args.png}", file=sys.stderr)
    if args.json_out:
        write_json(args.json_out, rules.to_json())
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0
