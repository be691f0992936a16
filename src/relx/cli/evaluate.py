"""`relx evaluate --gold G --pred P --scheme tacred|semeval|relations [--negative L] [--json OUT] [--confusion PNG]`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NEGATIVE = {"tacred": "no_relation", "semeval": "Other", "relations": "no_relation"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="score predicted relx JSONL against gold (TACRED micro, macro, weighted, SemEval official, relation-level)",
        description=(
            "Align gold and predicted documents by id. The sentence-level schemes (tacred, semeval) score the (e1, e2) pair "
            "label of documents with exactly two entities, the same spans on both sides; 'relations' scores every relation "
            "as (head span, label, tail span): missing ones are false negatives, extra ones false positives."
        ),
    )
    p.add_argument("--gold", required=True, help="gold relx JSONL")
    p.add_argument("--pred", required=True, help="predicted relx JSONL with the same document ids")
    p.add_argument(
        "--scheme", choices=sorted(NEGATIVE), default="tacred",
        help="scoring semantics (default: tacred); 'relations' for documents with several entities or relations",
    )
    p.add_argument("--negative", default=None, help="negative label (default: no_relation for tacred/relations, Other for semeval)")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="also write all metrics as JSON")
    p.add_argument("--confusion", default=None, metavar="PNG", help="also draw the confusion matrix as PNG (sentence-level schemes)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relx.data.schema import read_jsonl
    from relx.errors import RelxConfigError, RelxInputError
    from relx.evaluation.scorer import RELATION_SCHEME, document_pair_labels, format_report, score_labels, score_relations
    from relx.utils import write_json

    if args.confusion and args.scheme == RELATION_SCHEME:
        raise RelxConfigError(f"--confusion needs a sentence-level scheme (tacred or semeval), not {RELATION_SCHEME!r}")
    negative = args.negative or NEGATIVE[args.scheme]
    gold, pred = list(read_jsonl(args.gold)), list(read_jsonl(args.pred))
    if not gold:
        raise RelxInputError("no documents", args.gold)
    g: list[str] = []
    p: list[str] = []
    if args.scheme == RELATION_SCHEME:
        metrics = score_relations(gold, pred, negative, gold_name=args.gold, pred_name=args.pred)
    else:
        _, g, p = document_pair_labels(gold, pred, negative, args.scheme, gold_name=args.gold, pred_name=args.pred)
        metrics = score_labels(g, p, negative, args.scheme)
    title = f"{Path(args.pred).name} vs {Path(args.gold).name} (scheme {args.scheme}, negative {negative!r})"
    sys.stdout.write(format_report(metrics, title=title))
    if args.json_out:
        write_json(args.json_out, {"gold": str(args.gold), "pred": str(args.pred), **metrics})
        print(f"wrote {args.json_out}", file=sys.stderr)
    if args.confusion:
        from relx.evaluation.plots import confusion_matrix_png

        labels = [negative] + sorted((set(g) | set(p)) - {negative})
        confusion_matrix_png(g, p, args.confusion, labels=labels)
        print(f"wrote {args.confusion}", file=sys.stderr)
    return 0
