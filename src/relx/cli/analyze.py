"""all-data vs relation-only scores, length buckets and significance for one or more prediction files

Tables 2-3 (weighted/macro P/R/F1 on all data and on relation-only data) and Figure 1 (F1 by sentence-length
bucket) of the LSTM/BERT/GPT-2/SVM TACRED paper.

Usage: `relx analyze --gold G --pred P [P2 ...] [--negative L] [--scheme S] [--buckets 5] [--png OUT] [--json OUT]`.

Prints, for every prediction file, the two evaluation regimes of the LSTM/BERT/GPT-2/SVM TACRED
paper (Table 2: weighted and macro P/R/F1 on all data incl. the negative class; Table 3: the same on
the documents with a gold relation, positive labels only), the sentence-length bucket table
(Figure 1: equal-count buckets, micro and macro F1), and with two or more files a paired bootstrap
p-value that the first beats the second on micro F1. Scores are printed in % (like ``relx evaluate``); the
``--json`` file keeps them as fractions in [0, 1].
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from relx.cli import command
from relx.evaluation.metrics import SCHEMES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "analyze", __doc__)
    p.add_argument("--gold", required=True, help="gold documents (relx JSONL or any readable format)")
    p.add_argument("--pred", required=True, nargs="+", help="predicted relx JSONL file(s) with the gold document ids")
    p.add_argument("--format", default="auto", help="format of the gold file (default: guessed)")
    p.add_argument("--scheme", choices=sorted(SCHEMES), default="tacred", help="scoring semantics (default: tacred)")
    p.add_argument("--negative", default=None, help="negative label (default: no_relation for tacred, Other for semeval)")
    p.add_argument("--buckets", type=int, default=5, help="number of equal-count length buckets (default: 5, quintiles)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the first two files (default: 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--png", default=None, help="write the length-bucket plot (macro F1 per bucket, one line per file)")
    p.add_argument(
        "--json", dest="json_out", default=None, metavar="OUT", help="also write everything as JSON (scores as fractions in [0, 1])"
    )
    p.set_defaults(func=run)


def _names(paths: list[str]) -> list[str]:
    stems = [Path(p).name for p in paths]
    return stems if len(set(stems)) == len(stems) else [str(p) for p in paths]


def _bootstrap(gold: list, preds: dict[str, list], negative: str, scheme: str, n: int, seed: int) -> dict:
    from relx.evaluation.analysis import paired_bootstrap
    from relx.evaluation.scorer import document_pair_labels, score_labels

    (name_a, docs_a), (name_b, docs_b) = list(preds.items())[:2]
    _, g, a = document_pair_labels(gold, docs_a, negative, scheme)
    _, _, b = document_pair_labels(gold, docs_b, negative, scheme)
    out = paired_bootstrap(g, a, b, lambda x, y: score_labels(x, y, negative, scheme)["micro_f1"], n=n, seed=seed)
    return {"a": name_a, "b": name_b, "metric": "micro_f1", **out}


def run(args: argparse.Namespace) -> int:
    from relx.data.io import read
    from relx.data.labels import default_negative
    from relx.errors import RelxInputError
    from relx.evaluation.regimes import format_bucket_table, format_regime_tables, length_bucket_report, regime_tables
    from relx.utils import check_not_an_input, write_json

    for out in (args.json_out, args.png):
        if out:
            check_not_an_input(out, args.gold, *args.pred)
    negative = args.negative or default_negative(args.scheme)
    gold = read(args.gold, args.format)
    if not gold:
        raise RelxInputError("no documents", args.gold)
    preds = {name: read(path, "auto") for name, path in zip(_names(args.pred), args.pred)}
    tables = regime_tables(gold, preds, negative, args.scheme)
    out = sys.stdout
    out.write(f"{len(gold)} gold documents, scheme {args.scheme}, negative {negative!r}\n\n")
    out.write(format_regime_tables(tables) + "\n")
    buckets = length_bucket_report(gold, preds, negative, args.scheme, args.buckets, png=args.png)
    for name, rows in buckets.items():  # type: ignore[union-attr]
        out.write(format_bucket_table(rows, f"Length buckets: {name}") + "\n")
    result = {
        "gold": str(args.gold),
        "pred": list(args.pred),
        "scheme": args.scheme,
        "negative": negative,
        "regimes": tables,
        "buckets": buckets,
    }
    if len(preds) >= 2:
        boot = _bootstrap(gold, preds, negative, args.scheme, args.bootstrap, args.seed)
        result["bootstrap"] = boot
        out.write(
            f"Paired bootstrap ({boot['n']} resamples), micro F1 %: {boot['a']} {100 * boot['metric_a']:.2f} vs "
            f"{boot['b']} {100 * boot['metric_b']:.2f}, diff {100 * boot['diff']:+.2f} "
            f"[95% CI {100 * boot['ci_low']:+.2f}, {100 * boot['ci_high']:+.2f}], p = {boot['p_value']:.4f}\n"
        )
    if args.png:
        print(f"wrote {args.png}", file=sys.stderr)
    if args.json_out:
        write_json(args.json_out, result)
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0
