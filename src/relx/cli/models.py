"""list registered model names, or with --zoo the model zoo's recipes (built or not, CPU build time)

`relx models` prints every registered model type (what a config's model.type names). `relx models --zoo` prints
the zoo: recipes over the bundled data that `relx zoo build NAME` trains on this machine into RELX_HOME, with
their task, whether they are built (and where) and about how long a CPU build takes.
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    from relx.cli import command

    p = command(sub, "models", __doc__)
    p.add_argument("--zoo", action="store_true", help="list the model zoo's recipes instead")
    p.set_defaults(func=run)


def print_zoo() -> None:
    """One block per recipe: name, task, description, built (path) or not, estimated build time."""
    from relx.zoo import RECIPES, is_built, model_dir, relx_home

    print(f"model zoo (RELX_HOME = {relx_home()}); load a built one by name: relx.load(NAME), relx predict NAME, relx serve NAME\n")
    for name, recipe in RECIPES.items():
        state = f"built: {model_dir(name)}" if is_built(name) else f"not built: relx zoo build {name} ({recipe.build_time})"
        print(f"{name:10s} {recipe.task_line}\n{'':10s} {recipe.description}\n{'':10s} {state}\n")


def run(args: argparse.Namespace) -> int:
    if args.zoo:
        print_zoo()
        return 0
    from relx.registry import MODELS

    for name in MODELS.names():
        cls = MODELS.get(name)
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name:16s} {doc[0] if doc else ''}")
    return 0
