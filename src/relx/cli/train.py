"""`relx train --config FILE [--set key=value ...] --out DIR [--resume]`."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train and evaluate a model from a YAML config")
    p.add_argument("--config", required=True, help="YAML with model / data / trainer sections")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override, e.g. trainer.epochs=2")
    p.add_argument("--out", required=True, help="run directory (best/, last/, model/, result.json)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relx.config import apply_overrides, load_yaml
    from relx.training.run import run_experiment

    raw = apply_overrides(load_yaml(args.config), args.set)
    result = run_experiment(raw, args.out, resume=args.resume)
    print(f"saved model to {args.out}/model (train {result['train_seconds']:.0f}s, best dev {result['best_dev']})")
    return 0
