"""Scoring (TACRED / SemEval official, triples, joint NER+RE), analysis and plots.

The public scorer names are loaded on first use, so importing :mod:`relx.evaluation.metrics` (scheme
names for the CLI) does not pull in numpy."""

from typing import Any

__all__ = ["score_labels", "score_documents", "score_triples", "score_joint", "format_report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from relx.evaluation import scorer

        return getattr(scorer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
