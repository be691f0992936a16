"""`relx models`: list registered model names."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list registered model names")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relx.registry import MODELS

    for name in MODELS.names():
        cls = MODELS.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name:16s} {doc[0] if doc else ''}")
    return 0
