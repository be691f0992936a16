"""`relx data convert | stats | annotate`."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    from relx.cli import data_annotate, data_convert, data_stats

    p = sub.add_parser("data", help="convert, annotate and describe datasets")
    dsub = p.add_subparsers(dest="data_command", required=True)
    data_convert.add_parser(dsub)
    data_stats.add_parser(dsub)
    data_annotate.add_parser(dsub)
