"""`relx predict` (being written)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="(not ready)")
    p.set_defaults(func=lambda args: 1)
