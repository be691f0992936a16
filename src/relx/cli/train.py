"""`relx train --config FILE [--set key=value ...] --out DIR [--resume | --overwrite] [--skip-invalid]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from relx.errors import RelxConfigError, RelxInputError

RUN_MARKERS = ("result.json", "model", "last", "best", "history.json")  # what a finished, saved or interrupted run leaves
# Folders that training replaces as a whole (atomic swaps): the run's, and those of a composite model's stages.
STAGES = ("detector", "classifier", "teacher")
REPLACED_DIRS = ("model", "best", "last") + tuple(f"{stage}/{name}" for stage in STAGES for name in ("model", "best", "last"))


OVERWRITE_HELP = (
    "train from scratch into an OUT that already holds a run: replaces the run's own files "
    "(model/, best/, last/, result.json, history.json, ...); other files in OUT are kept"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train and evaluate a model from a YAML config")
    p.add_argument("--config", required=True, help="YAML with model / data / trainer sections")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. trainer.epochs=2")
    p.add_argument("--out", required=True, help="run directory (best/, last/, model/, result.json)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from OUT/last")
    again.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    p.add_argument("--skip-invalid", action="store_true", help="drop invalid data records with a warning (data.on_invalid=skip)")
    p.set_defaults(func=run)


def check_run_directory(out: str | Path, resume: bool, overwrite: bool) -> None:
    """Refuse to train into a directory holding a previous run unless resuming or overwriting, and refuse
    (always) when a folder that training replaces as a whole (model/, best/, last/, ...) is not one relx wrote:
    relx deletes nothing it did not write."""
    from relx.utils import relx_directory

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RelxInputError("exists and is not a directory (--out names the run directory)", out)
    foreign = [rel for rel in REPLACED_DIRS if not relx_directory(out / rel)]
    if foreign:
        raise RelxInputError(
            f"run directory holds {', '.join(f'{rel}/' for rel in foreign)} that relx did not write (not a relx model or checkpoint), "
            "and training would replace it: move it away or choose another --out",
            out,
        )
    found = [name for name in RUN_MARKERS if (out / name).exists()]
    if found and not (resume or overwrite):
        raise RelxInputError(
            f"run directory already holds a run ({', '.join(found)}); pass --overwrite to replace it or --resume to continue it", out
        )


def run(args: argparse.Namespace) -> int:
    from relx.config import load_config, resolve_data_paths, set_path
    from relx.training.run import parse_run_config, run_experiment

    check_run_directory(args.out, args.resume, args.overwrite)
    raw = load_config(args.config, args.set)  # bases merged; errors name the file
    if args.skip_invalid:
        set_path(raw, "data.on_invalid", "skip")
    try:
        parse_run_config(raw)  # unknown keys / models first: they explain more than a missing file
        resolve_data_paths(raw, args.config)
    except RelxConfigError as exc:  # name the config file with the key
        raise RelxConfigError(f"{args.config}: {exc}") from None
    import shlex

    origin = shlex.join(["relx", "train", "--config", str(args.config), *(f"--set={kv}" for kv in args.set), "--out", str(args.out)])
    summary = run_experiment(raw, args.out, resume=args.resume, origin=origin).summary
    print(f"saved model to {args.out}/model (train {summary.get('train_seconds', 0):.0f}s, best dev {summary['best_dev']})")
    return 0
