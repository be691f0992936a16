"""score predicted relx JSONL against gold (TACRED micro, macro, weighted, SemEval official, relation-level)

Align gold and predicted documents by id. The sentence-level schemes (tacred, semeval) score the (e1, e2) pair
label of documents with exactly two entities, the same spans on both sides; 'relations' scores every relation
as (head span, label, tail span): missing ones are false negatives, extra ones false positives; 'joint' scores
entities and relations of joint extraction in the SpERT settings (NER, RE boundaries, RE strict), reading gold
and predictions in any format relx reads (e.g. SpERT JSON).

Usage: `relx evaluate --gold G --pred P --scheme tacred|semeval|relations|joint [--negative L] [--symmetric A,B] [--json OUT] [--confusion PNG] [--analysis overlap [--png PNG]]`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from relx.cli import command
from relx.evaluation.metrics import DOCUMENT_SCHEMES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "evaluate", __doc__)
    p.add_argument("--gold", required=True, help="gold documents: relx JSONL or any format relx reads (TACRED, SemEval, SpERT, CasRel...)")
    p.add_argument("--pred", required=True, help="predicted documents (relx JSONL) with the same document ids")
    p.add_argument(
        "--scheme",
        choices=sorted(DOCUMENT_SCHEMES),
        default="tacred",
        help="scoring semantics (default: tacred); 'relations' for documents with several entities or relations; "
        "'joint' for joint entity + relation extraction",
    )
    p.add_argument(
        "--symmetric",
        default=None,
        metavar="A,B",
        help="joint: relation types whose argument order is ignored (default: those marked symmetric in the SpERT "
        "*_types.json[.gz] beside --gold; '' for none)",
    )
    p.add_argument("--negative", default=None, help="negative label (default: no_relation for tacred/relations, Other for semeval)")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT", help="also write all metrics as JSON")
    p.add_argument("--confusion", default=None, metavar="PNG", help="also draw the confusion matrix as PNG (sentence-level schemes)")
    p.add_argument(
        "--analysis",
        choices=["overlap"],
        default=None,
        help="overlap: triple P/R/F1 on Normal / EPO / SEO sentences and by triples per sentence (x=1..>=5, Single/Double/Multiple), "
        "exact and starred (last word of each entity) match",
    )
    p.add_argument("--png", default=None, metavar="PNG", help="with --analysis overlap: draw the F1 bars as PNG")
    p.set_defaults(func=run)


def symmetric_types(args: argparse.Namespace) -> set[str]:
    """``--symmetric A,B`` as a set, else the types marked symmetric in the SpERT types file beside ``--gold``."""
    from relx.data.readers.spert_types import symmetric_option

    return symmetric_option(args.symmetric, args.gold)


def run(args: argparse.Namespace) -> int:
    from relx.data import io
    from relx.data.labels import default_negative
    from relx.errors import RelxConfigError, RelxInputError
    from relx.evaluation import scorer as sc
    from relx.utils import check_not_an_input, write_json

    for out in (args.json_out, args.confusion, args.png):
        if out:
            check_not_an_input(out, args.gold, args.pred)
    if args.confusion and args.scheme not in sc.SCHEMES:
        raise RelxConfigError(f"--confusion needs a sentence-level scheme (tacred or semeval), not {args.scheme!r}")
    if args.png and args.analysis != "overlap":
        raise RelxConfigError("--png draws the --analysis overlap bars; add --analysis overlap")
    if args.symmetric is not None and args.scheme != sc.JOINT_SCHEME:
        raise RelxConfigError(f"--symmetric needs --scheme {sc.JOINT_SCHEME}, not {args.scheme!r}")
    negative = args.negative or default_negative(args.scheme)
    gold, pred = list(io.read(args.gold)), list(io.read(args.pred))  # any format relx reads (auto-detected)
    if not gold:
        raise RelxInputError("no documents", args.gold)
    g: list[str] = []
    p: list[str] = []
    if args.scheme == sc.JOINT_SCHEME:
        metrics = sc.score_joint(gold, pred, symmetric_types(args), gold_name=args.gold, pred_name=args.pred)
    elif args.scheme == sc.RELATION_SCHEME:
        metrics = sc.score_relations(gold, pred, negative, gold_name=args.gold, pred_name=args.pred)
    else:
        _, g, p = sc.document_pair_labels(gold, pred, negative, args.scheme, gold_name=args.gold, pred_name=args.pred)
        metrics = sc.score_labels(g, p, negative, args.scheme)
    setting = "" if args.scheme == sc.JOINT_SCHEME else f", negative {negative!r}"
    title = f"{Path(args.pred).name} vs {Path(args.gold).name} (scheme {args.scheme}{setting})"
    sys.stdout.write(sc.format_report(metrics, title=title))
    if args.analysis == "overlap":
        metrics["overlap"] = overlap_analysis(args, gold, pred, negative)
    if args.json_out:
        write_json(args.json_out, {"gold": str(args.gold), "pred": str(args.pred), **metrics})
        print(f"wrote {args.json_out}", file=sys.stderr)
    if args.confusion:
        from relx.evaluation.plots import confusion_matrix_png

        labels = [negative] + sorted((set(g) | set(p)) - {negative})
        confusion_matrix_png(g, p, args.confusion, labels=labels)
        print(f"wrote {args.confusion}", file=sys.stderr)
    return 0


def overlap_analysis(args: argparse.Namespace, gold: list, pred: list, negative: str) -> dict:
    """Print the overlap / multiplicity tables (exact and starred match), draw ``--png``; returns the rows."""
    from relx.evaluation.overlap import format_overlap, overlap_png, overlap_scores

    out = {}
    for mode, name in (("exact", "exact match"), ("partial_last", "starred match: last word of each entity")):
        out[mode] = overlap_scores(gold, pred, mode, negative)
        sys.stdout.write("\n" + format_overlap(out[mode], title=f"triples by sentence type ({name})"))
    if args.png:
        overlap_png({Path(args.pred).name: out["exact"]}, args.png, title=f"{Path(args.pred).name}: exact-match F1")
        print(f"wrote {args.png}", file=sys.stderr)
    return out
