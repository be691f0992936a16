"""build the model zoo's recipes on this machine (relx zoo build NAME) and list them (relx zoo list)

A recipe is a shipped config (configs/zoo/NAME.yaml) over the bundled data with a fixed seed and a CPU budget.
`build` trains it into RELX_HOME/models/NAME (RELX_HOME defaults to $XDG_CACHE_HOME/relx or ~/.cache/relx), prints
the test scores and the time it took; then relx.load("NAME"), `relx predict NAME` and `relx serve NAME` use it.
`list` is `relx models --zoo`.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    from relx.cli import command

    p = command(sub, "zoo", __doc__)
    zsub = p.add_subparsers(dest="zoo_command", required=True)
    b = zsub.add_parser("build", help="train a recipe into RELX_HOME/models/NAME and print its test scores")
    b.add_argument("name", help="recipe name (`relx zoo list`)")
    b.add_argument(
        "--force", action="store_true", help="rebuild a recipe that is already built (replaces only what `relx zoo build` wrote)"
    )
    b.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the recipe's)")
    b.set_defaults(func=run_build)
    lst = zsub.add_parser("list", help="the recipes, whether they are built, and their CPU build time (= relx models --zoo)")
    lst.set_defaults(func=run_list)


def run_list(args: argparse.Namespace) -> int:
    from relx.cli.models import print_zoo

    print_zoo()
    return 0


def run_build(args: argparse.Namespace) -> int:
    from relx.zoo import get_recipe
    from relx.zoo.build import build

    recipe = get_recipe(args.name)
    print(f"building zoo model {recipe.name}: {recipe.description} ({recipe.config_path.name}; {recipe.build_time})")
    built = build(args.name, force=args.force, threads=args.threads)
    minutes, seconds = divmod(round(built.seconds), 60)
    print(f"built {recipe.name} in {minutes} min {seconds:02d} s (wall time); model saved in {built.model_dir}")
    print(f'use it: relx.load("{recipe.name}"), `relx predict {recipe.name} --text "..."`, `relx serve {recipe.name}`')
    return 0
