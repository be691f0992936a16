"""`relx data convert | stats | annotate | pairs`."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    from relx.cli import data_annotate, data_convert, data_pairs, data_stats

    p = sub.add_parser("data", help="convert, annotate and describe datasets; build pair data from joint data")
    dsub = p.add_subparsers(dest="data_command", required=True)
    data_convert.add_parser(dsub)
    data_stats.add_parser(dsub)
    data_annotate.add_parser(dsub)
    data_pairs.add_parser(dsub)
