"""reproduce a paper's tables: run its benchmark suite, regenerate benchmarks/RESULTS.md

Suites (benchmarks/suites.yaml): hybrid-mld, lstm-bert-svm, soft-label-kd, kernel-matrix, two-phase, speed,
all. Finished runs are never repeated; an interrupted run resumes from its checkpoint.

Usage: `relx bench SUITE [--budget B] [--tacred DIR] [--threads N] [--root DIR] [--report-only] [--dry-run] [--list]`.
"""

from __future__ import annotations

import argparse

from relx.cli import command


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "bench", __doc__)
    p.add_argument("suite", nargs="?", default=None, help="suite name or 'all'")
    p.add_argument("--budget", default="cpu-small", choices=["cpu-small", "cpu-full", "gpu"])
    p.add_argument("--tacred", default=None, metavar="DIR", help="your TACRED copy (train/dev/test.json): also run the suite's TACRED rows")
    p.add_argument("--threads", type=int, default=2, help="CPU threads per training (default 2)")
    p.add_argument("--root", default=None, help="the relx checkout holding benchmarks/ (default: the current directory)")
    p.add_argument("--suites", default=None, help="another suites file (default: benchmarks/suites.yaml)")
    p.add_argument("--report-only", action="store_true", help="only rebuild the tables, plots and RESULTS.md from saved rows")
    p.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    p.add_argument("--list", action="store_true", help="list the suites and their budgets")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from relx.cli.bench_suites import benchmarks_dir, load_suites, run_bench
    from relx.errors import RelxConfigError

    if args.list or args.suite is None:
        bench = benchmarks_dir(args.root)
        suites = load_suites(Path(args.suites) if args.suites else bench / "suites.yaml")
        for s in suites.values():
            print(f"{s.name:14s} {', '.join(s.budgets):28s} {'+ --tacred' if s.tacred else '':11s} {s.title}")
        if args.suite is None and not args.list:
            raise RelxConfigError("name a suite (or 'all'); the list is above")
        return 0
    if args.threads < 1:
        raise RelxConfigError(f"--threads must be >= 1, got {args.threads}")
    path = run_bench(
        args.suite,
        args.budget,
        args.threads,
        args.tacred,
        root=args.root,
        suites_file=args.suites,
        report_only=args.report_only,
        dry_run=args.dry_run,
    )
    if not args.dry_run:
        print(f"wrote {path}")
    return 0
