"""Symbolic relation cues: regex patterns per relation (YAML files), matching, and mining from data.

* :class:`RuleSet` loads a pattern file (or a shipped set: ``semeval``, ``tacred``) and turns a
  Document into a multi-hot vector over relations or patterns.
* :func:`mine_patterns` / :func:`mine_ruleset` mine between-entity n-gram cues with their train
  precision and support (``relx rules mine``).
"""

from relx.rules.mine import MinedPattern, mine_patterns, mine_ruleset, mined_yaml, ngram_regex
from relx.rules.patterns import LEVELS, SHIPPED, MatchView, Pattern, RuleSet

__all__ = [
    "RuleSet",
    "Pattern",
    "MatchView",
    "LEVELS",
    "SHIPPED",
    "MinedPattern",
    "mine_patterns",
    "mine_ruleset",
    "mined_yaml",
    "ngram_regex",
]
