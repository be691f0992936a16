"""`relx bench`: run a paper's benchmark suite (benchmarks/suites.yaml) and regenerate benchmarks/RESULTS.md.

A suite names, per budget, benchmark-script invocations; every script resumes (finished rows are kept, an
interrupted run continues from its checkpoint), so re-running a suite only does what is missing. The
scripts are the only code path that trains and scores; this module orders them, substitutes placeholders
and assembles their Markdown sections and plots into one results page.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from relx.errors import RelxConfigError, RelxInputError

BUDGETS = ("cpu-small", "cpu-full", "gpu")
FIELDS = ("title", "paper", "datasets", "encoder", "paper_numbers", "budgets", "report", "sections", "plots")


@dataclass
class Suite:
    name: str
    title: str
    paper: str | None
    datasets: str
    encoder: str
    paper_numbers: str
    budgets: dict[str, list[str]]
    tacred: list[str] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)


def benchmarks_dir(root: str | Path | None = None) -> Path:
    """The benchmarks/ folder of the relx checkout at ``root`` (default: the current directory)."""
    base = Path(root) if root else Path.cwd()
    if (base / "benchmarks" / "suites.yaml").is_file():
        return base / "benchmarks"
    raise RelxConfigError(
        f"relx bench needs a relx source checkout (benchmarks/suites.yaml) in {base}: run it from the repository root or pass --root"
    )


def load_suites(path: Path) -> dict[str, Suite]:
    """Parse and check a suites file (one clear error naming the suite and key)."""
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RelxInputError(f"invalid YAML ({str(exc).splitlines()[0]})", path) from None
    if not isinstance(raw, dict) or not raw:
        raise RelxInputError("a suites file maps suite names to suites", path)
    suites = {}
    for name, body in raw.items():
        if not isinstance(body, dict) or not isinstance(body.get("budgets"), dict):
            raise RelxInputError(f"suite {name!r}: needs a 'budgets' mapping", path)
        unknown = set(body) - set(FIELDS) - {"tacred"}
        if unknown:
            raise RelxInputError(f"suite {name!r}: unknown keys {sorted(unknown)}", path)
        for budget, steps in body["budgets"].items():
            if budget not in BUDGETS or not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
                raise RelxInputError(f"suite {name!r}: budget {budget!r} must be one of {', '.join(BUDGETS)} with a list of commands", path)
        suites[name] = Suite(
            name=name,
            title=str(body.get("title", name)),
            paper=body.get("paper"),
            datasets=str(body.get("datasets", "")),
            encoder=str(body.get("encoder", "")),
            paper_numbers=str(body.get("paper_numbers", "")),
            budgets=body["budgets"],
            tacred=list(body.get("tacred") or []),
            report=list(body.get("report") or []),
            sections=list(body.get("sections") or []),
            plots=list(body.get("plots") or []),
        )
    return suites


def select(suites: dict[str, Suite], name: str) -> list[Suite]:
    if name == "all":
        return list(suites.values())
    if name not in suites:
        raise RelxConfigError(f"unknown suite {name!r} (known: {', '.join([*suites, 'all'])})")
    return [suites[name]]


def commands(suite: Suite, budget: str, threads: int, tacred: str | None) -> list[list[str]]:
    """The suite's script invocations for ``budget`` (+ its TACRED steps when ``tacred`` is given), placeholders filled."""
    if budget not in suite.budgets:
        raise RelxConfigError(f"suite {suite.name!r} has no budget {budget!r} (it has: {', '.join(suite.budgets)})")
    steps = list(suite.budgets[budget]) + (list(suite.tacred) if tacred else [])
    values = {"threads": str(threads), "tacred": tacred or "", "budget": budget}
    out = []
    for step in steps:
        try:
            out.append([part.format(**values) for part in shlex.split(step)])
        except KeyError as exc:
            raise RelxConfigError(f"suite {suite.name!r}: unknown placeholder {exc} in {step!r}") from None
    return out


def run_script(bench: Path, argv: list[str], dry_run: bool = False) -> None:
    """Run ``benchmarks/<argv[0]> argv[1:]`` with this interpreter (src on PYTHONPATH); stop on failure."""
    script = bench / argv[0]
    if not script.is_file():
        raise RelxConfigError(f"suite step names a missing script: {script}")
    cmd = [sys.executable, str(script), *argv[1:]]
    print(f"$ python benchmarks/{' '.join(shlex.quote(a) for a in argv)}", flush=True)
    if dry_run:
        return
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(bench.parent / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, cwd=bench.parent)
    if res.returncode != 0:
        raise RelxConfigError(
            f"step failed (exit {res.returncode}): benchmarks/{' '.join(argv)}; fix it and re-run (finished rows are kept)"
        )
    print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)


LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\))")  # [text](target) and ![alt](target)
ABSOLUTE = re.compile(r"^([a-z][a-z0-9+.-]*:|[/#])", re.IGNORECASE)  # a scheme, a root path or an anchor


def demote(markdown: str, folder: str = "") -> str:
    """Shift headings two levels down so a script's page nests under its suite heading, and rewrite its relative
    link and image targets (written from inside ``folder``) so they still resolve from the page above it."""

    def rebase(m: re.Match[str]) -> str:
        target = m.group(2)
        if not folder or ABSOLUTE.match(target):
            return m.group(0)
        return m.group(1) + posixpath.normpath(posixpath.join(folder, target)) + m.group(3)

    out, fence = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence:
            line = LINK.sub(rebase, "##" + line if line.startswith("#") else line)
        out.append(line)
    return "\n".join(out)


def results_page(bench: Path, suites: list[Suite]) -> str:
    """benchmarks/RESULTS.md: per suite its paper, data, encoder, the scripts' sections and the plots."""
    results = bench / "results"
    lines = [
        "# relx benchmark results",
        "",
        "Regenerated by `relx bench SUITE` (or `relx bench all --report-only`) from the result files under "
        "`benchmarks/results/`; every number there comes from the committed script named in its section, "
        "with the budget and hardware in its rows. Suites and budgets: `benchmarks/suites.yaml`.",
        "",
    ]
    for s in suites:
        lines += [f"## {s.title} (`relx bench {s.name}`)", ""]
        if s.paper:
            lines.append(f"- Paper: `../shared/papers/{s.paper}`")
        lines += [
            f"- Data: {s.datasets}",
            f"- Encoder: {s.encoder}",
            f"- Paper numbers: {s.paper_numbers}",
            f"- Budgets: {', '.join(f'`--budget {b}`' for b in s.budgets)}",
            "",
        ]
        sections = [
            demote(p.read_text(encoding="utf-8"), results.name).rstrip() for p in (results / sec for sec in s.sections) if p.is_file()
        ]
        lines += [x for sec in sections for x in (sec, "")] or ["_No results yet: run `relx bench " + s.name + "`._", ""]
        shown = "\n".join(sections)
        pngs = sorted({p.name for pat in s.plots for p in results.glob("*.png") if fnmatch.fnmatch(p.name, pat)})
        for name in pngs:  # a plot its section already shows is not shown twice
            if f"](results/{name})" not in shown:
                lines += [f"![{name}](results/{name})", ""]
    return "\n".join(lines).rstrip() + "\n"


def write_results_page(bench: Path, suites: dict[str, Suite]) -> Path:
    from relx.utils import atomic_open

    path = bench / "RESULTS.md"
    with atomic_open(path) as fh:
        fh.write(results_page(bench, list(suites.values())))
    return path


def run_bench(
    name: str,
    budget: str = "cpu-small",
    threads: int = 2,
    tacred: str | None = None,
    root: str | Path | None = None,
    suites_file: str | Path | None = None,
    report_only: bool = False,
    dry_run: bool = False,
) -> Path:
    """Run suite ``name`` (or ``all``) at ``budget``, then its report steps, then rewrite RESULTS.md; returns its path."""
    bench = benchmarks_dir(root)
    suites = load_suites(Path(suites_file) if suites_file else bench / "suites.yaml")
    chosen = select(suites, name)
    if budget not in BUDGETS:
        raise RelxConfigError(f"unknown budget {budget!r} (use {', '.join(BUDGETS)})")
    if tacred is not None and not Path(tacred).is_dir():
        raise RelxInputError("--tacred needs a folder with train.json, dev.json and test.json (TACRED format)", tacred)
    for s in chosen:
        if not report_only:
            for argv in commands(s, budget, threads, str(Path(tacred).resolve()) if tacred else None):
                run_script(bench, argv, dry_run=dry_run)
        for step in s.report:
            run_script(bench, shlex.split(step), dry_run=dry_run)
    if dry_run:
        return bench / "RESULTS.md"
    return write_results_page(bench, suites)
