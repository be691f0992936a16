"""`relx compare RUN_A RUN_B [--gold FILE] [--scheme S] [--metric M] [--resamples N] [--json OUT]`; RUN_A / RUN_B may
each be a comma-separated list of runs, one per seed (paired by position: the seeds' mean is compared)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="paired bootstrap significance of two runs' test predictions",
        description="RUN_A / RUN_B: run directories of `relx train` (test_predictions.jsonl, result.json, model/labels.json) or "
        "prediction files. Gold, scheme, metric and negative label come from the runs' result.json unless given; two runs "
        "that name different files as their test set are compared when the files hold the same documents. A comma-separated "
        "list of runs on each side (one per seed, paired by position; tacred / semeval / joint schemes) compares the seeds' mean, "
        "each resample drawing the same test documents for every seed. "
        "Prints both scores, A - B with its 95% interval and the share of resamples where A is not better (p).",
    )
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("--gold", default=None, help="gold test file (default: data.test of the runs' result.json)")
    p.add_argument("--scheme", default=None, choices=["tacred", "semeval", "relations", "joint"], help="default: the runs' trainer.scheme")
    p.add_argument(
        "--metric", default=None, help="default: official_macro_f1 (semeval), micro_f1 (tacred, relations), the run's metric (joint)"
    )
    p.add_argument("--negative", default=None, help="negative label (default: the run's labels.json)")
    p.add_argument("--resamples", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT")
    p.set_defaults(func=run)


def _run_info(path: str) -> tuple[Path, dict[str, Any]]:
    """(predictions file, result.json content or {}) of a run directory or a predictions file."""
    from relx.data.labels import LabelSet
    from relx.data.textio import load_json
    from relx.errors import RelxInputError

    p = Path(path)
    if p.is_dir():
        pred = p / "test_predictions.jsonl"
        if not pred.is_file():
            raise RelxInputError("run directory has no test_predictions.jsonl (train with a test split, or pass the predictions file)", p)
        result = load_json(p / "result.json") if (p / "result.json").is_file() else {}
        labels = p / "model" / "labels.json"
        if labels.is_file():
            result["negative"] = LabelSet.load(labels).negative
        return pred, result
    if not p.is_file():
        raise RelxInputError("no such run directory or predictions file", p)
    return p, {}


def _agreed(values: list[Any], what: str, flag: str) -> Any:
    from relx.errors import RelxConfigError

    found = {json.dumps(v, sort_keys=True) for v in values if v is not None}
    if len(found) > 1:
        raise RelxConfigError(f"the two runs differ in {what} ({' vs '.join(sorted(found))}); choose one with {flag}")
    return json.loads(found.pop()) if found else None


def _gold(given: str | None, runs: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """(path, documents) of the gold test set: ``given``, else the runs' data.test; two runs naming different files
    agree when the files hold the same documents (compared by content, not path)."""
    from relx.data import io
    from relx.errors import RelxConfigError
    from relx.evaluation.compare import document_difference

    if given:
        return given, list(io.read(given))
    paths = list(dict.fromkeys(str(t) for r in runs if (t := r.get("data", {}).get("test"))))
    if not paths:
        raise RelxConfigError("no gold test file: pass --gold (the runs' result.json does not name one)")
    gold = list(io.read(paths[0]))
    for other in paths[1:]:
        reason = document_difference(gold, list(io.read(other)))
        if reason is not None:
            raise RelxConfigError(f"the runs scored different test sets ({paths[0]} vs {other}: {reason}); choose one with --gold")
    return paths[0], gold


def run(args: argparse.Namespace) -> int:
    from relx.data import io
    from relx.errors import RelxConfigError
    from relx.evaluation.compare import DEFAULT_METRIC, compare_predictions, compare_seeds, format_comparison
    from relx.utils import write_json

    side_a, side_b = ([_run_info(x) for x in arg.split(",") if x] for arg in (args.run_a, args.run_b))
    if len(side_a) != len(side_b) or not side_a:
        raise RelxConfigError(f"A has {len(side_a)} run(s) and B {len(side_b)}: give one run per seed on each side, paired by position")
    runs = [r for _, r in side_a + side_b]
    gold_path, gold = _gold(args.gold, runs)
    scheme = args.scheme or _agreed([r.get("trainer", {}).get("scheme") for r in runs], "scheme", "--scheme") or "tacred"
    metric = args.metric or (
        _agreed([r.get("trainer", {}).get("metric") for r in runs], "metric", "--metric") if scheme == "joint" else None
    )
    metric = metric or DEFAULT_METRIC[scheme]
    negative = args.negative or _agreed([r.get("negative") for r in runs], "negative label", "--negative") or "no_relation"
    symmetric = _agreed([r.get("trainer", {}).get("symmetric") for r in runs], "symmetric types", "--scheme") or []
    if len(side_a) > 1:
        preds = [[list(io.read(p)) for p, _ in side] for side in (side_a, side_b)]
        res = compare_seeds(gold, preds[0], preds[1], scheme, negative, metric, args.resamples, args.seed, symmetric)
    else:
        (pa, _), (pb, _) = side_a[0], side_b[0]
        res = compare_predictions(
            gold, list(io.read(pa)), list(io.read(pb)), scheme, negative, metric, args.resamples, args.seed, symmetric
        )
    sys.stdout.write(format_comparison(res, str(args.run_a), str(args.run_b)))
    if args.json_out:
        write_json(args.json_out, {"a": str(args.run_a), "b": str(args.run_b), "gold": str(gold_path), **res})
        print(f"wrote {args.json_out}", file=sys.stderr)
    return 0
