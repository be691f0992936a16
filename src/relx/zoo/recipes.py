"""The named recipes of the model zoo: a shipped config (``configs/zoo/<name>.yaml``) over bundled data, with a
fixed seed and a CPU budget. Nothing is downloaded: ``relx zoo build NAME`` trains the recipe on this machine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# configs/zoo/ of the source checkout this package lives in (src/relx/zoo/recipes.py -> <root>/configs/zoo)
CONFIG_DIR = Path(__file__).resolve().parents[3] / "configs" / "zoo"

TASKS = {
    "joint": "raw text -> entities + relations",
    "pairs": "marked entity pairs -> relation label",
    "triples": "given entities -> all relation triples",
}


@dataclass(frozen=True)
class Recipe:
    """One zoo entry. ``config`` is a file name under :data:`CONFIG_DIR` (or an absolute path); ``task`` is a key of
    :data:`TASKS`; ``build_time`` an estimate of the CPU build time, quoted in listings and in the unbuilt-model error."""

    name: str
    config: str
    task: str
    description: str
    build_time: str
    data: str  # the bundled dataset folder under data/

    @property
    def config_path(self) -> Path:
        """The recipe's config file."""
        path = Path(self.config)
        return path if path.is_absolute() else CONFIG_DIR / path

    @property
    def task_line(self) -> str:
        """``joint (raw text -> entities + relations)``."""
        return f"{self.task} ({TASKS.get(self.task, '?')})"


# Build times: measured with `relx zoo build` where stated, otherwise derived from benchmarks/results/*.md
# (same model, data and budget; see each config's header for the numbers used).
RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(
            "conll04",
            "conll04.yaml",
            "joint",
            "people, organisations and locations and their relations (Work_For, Kill, Live_In, ...) from news text",
            "≈ 6.5 min on 2 CPU cores",
            "conll04",
        ),
        Recipe(
            "scierc",
            "scierc.yaml",
            "joint",
            "scientific terms (Task, Method, Metric, ...) and their relations (Used-for, Part-of, ...) from abstracts",
            "≈ 25 min on 2 CPU cores",
            "scierc",
        ),
        Recipe(
            "semeval",
            "semeval.yaml",
            "pairs",
            "SemEval-2010 Task 8 nominal relations (Cause-Effect, Member-Collection, ...) between two marked nouns",
            "≈ 5 min on 2 CPU cores",
            "semeval2010_task8",
        ),
        Recipe(
            "webnlg",
            "webnlg.yaml",
            "triples",
            "WebNLG DBpedia triples (birthPlace, country, ...) between given entities, overlapping triples included",
            "≈ 35 min on 1-2 CPU cores",
            "webnlg",
        ),
    )
}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name`` (KeyError naming the known ones otherwise)."""
    if name not in RECIPES:
        raise KeyError(f"unknown zoo recipe {name!r} (known: {', '.join(RECIPES)}; see `relx models --zoo`)")
    return RECIPES[name]
