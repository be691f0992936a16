"""Mine cue patterns from training data: frequent between-entity word n-grams per relation.

For every training document the n-grams (n = 1..max_n) of its lowercased between-entity tokens are
collected once. An n-gram ``g`` becomes a pattern of relation ``r`` when

* support   = #documents labelled ``r`` whose between text contains ``g``  >= ``min_support``, and
* precision = support / #documents (any label, negatives included) containing ``g`` >= ``min_precision``.

Direction: the label is the pair label (``Cause-Effect(e2,e1)``, ``org:founded_by``). When the data
has both mention orders (TACRED: the subject may follow the object) n-grams are counted separately
per order and emitted with ``order: subj_first | obj_first``; when the subject always comes first
(SemEval) order is left out. A longer n-gram is dropped when one of its contiguous sub-n-grams is
already kept for the same relation and order with at least the same precision (it fires on a subset
of the same documents, so it adds nothing). Each relation keeps at most ``max_per_relation``
patterns, highest support first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.features.segments import between_span
from relx.rules.patterns import RuleSet


@dataclass
class MinedPattern:
    """A mined n-gram cue with its training statistics."""

    relation: str
    ngram: tuple[str, ...]
    order: str  # any | subj_first | obj_first
    precision: float
    support: int
    count: int  # documents (any label) containing the n-gram in this order

    @property
    def regex(self) -> str:
        return ngram_regex(self.ngram)


def ngram_regex(ngram: Sequence[str]) -> str:
    """Regex matching the tokens of ``ngram`` as whole tokens of a space-joined text."""
    import re

    body = " ".join(re.escape(t) for t in ngram)
    left = r"\b" if re.match(r"\w", ngram[0]) else r"(?<!\S)"
    right = r"\b" if re.search(r"\w$", ngram[-1]) else r"(?!\S)"
    return f"{left}{body}{right}"


def _ngrams(tokens: Sequence[str], max_n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for n in range(1, max_n + 1) for i in range(len(tokens) - n + 1)}


def _order(doc: Document) -> str:
    return "subj_first" if doc.entities[0].start <= doc.entities[1].start else "obj_first"


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


MINING_DEFAULTS: dict[str, Any] = {"min_precision": 0.5, "min_support": 5, "max_n": 3, "max_per_relation": 30}


def mine_patterns(
    docs: Iterable[Document],
    negative: str = "no_relation",
    min_precision: float = 0.5,
    min_support: int = 5,
    max_n: int = 3,
    max_per_relation: int | None = 30,
    order_aware: bool | None = None,
) -> list[MinedPattern]:
    """Mined patterns, grouped by relation (sorted), each group by support then precision (descending)."""
    docs = [d for d in docs if len(d.entities) >= 2]
    labels = LabelSet.from_documents(docs, negative=negative)
    if order_aware is None:
        order_aware = len({_order(d) for d in docs}) > 1
    total: Counter = Counter()
    per_rel: Counter = Counter()
    for d in docs:
        b0, b1 = between_span(d)
        order = _order(d) if order_aware else "any"
        label = labels.pair_label(d)
        for g in _ngrams([t.lower() for t in d.tokens[b0:b1]], max_n):
            total[(g, order)] += 1
            if label != negative:
                per_rel[(label, g, order)] += 1
    candidates: dict[tuple[str, str], list[MinedPattern]] = {}
    for (rel, g, order), support in per_rel.items():
        count = total[(g, order)]
        if support >= min_support and support / count >= min_precision:
            candidates.setdefault((rel, order), []).append(MinedPattern(rel, g, order, support / count, support, count))
    out: list[MinedPattern] = []
    for rel in sorted({r for r, _ in candidates}):
        kept: list[MinedPattern] = []
        for order in ("any", "subj_first", "obj_first"):
            group: list[MinedPattern] = []
            for p in sorted(candidates.get((rel, order), []), key=lambda p: (len(p.ngram), -p.precision, p.ngram)):
                if not any(_contains(p.ngram, q.ngram) and q.precision >= p.precision for q in group):
                    group.append(p)
            kept.extend(group)
        kept.sort(key=lambda p: (-p.support, -p.precision, p.ngram))
        out.extend(kept[:max_per_relation] if max_per_relation else kept)
    return out


def _quote(s: str) -> str:
    """YAML single-quoted scalar (backslashes stay literal)."""
    return "'" + s.replace("'", "''") + "'"


def mined_yaml(patterns: Sequence[MinedPattern], settings: dict, origin: str = "training data", n_docs: int | None = None) -> str:
    """A readable pattern file: header comments, settings, one mapping per pattern with its statistics."""
    docs = f" ({n_docs} documents)" if n_docs is not None else ""
    lines = [
        f"# Mined by `relx rules mine` from {origin}{docs}; NOT hand-written.",
        "# Between-entity word n-grams per relation; precision = support / documents containing the n-gram (train).",
        "name: mined",
        "source: mined",
        "settings: {" + ", ".join(f"{k}: {'null' if v is None else v}" for k, v in settings.items()) + "}",
        "relations:",
    ]
    if not patterns:
        lines[-1] = "relations: {}"
    current = None
    for p in patterns:
        if p.relation != current:
            current = p.relation
            lines.append(f"  {_quote(p.relation)}:")
        order = "" if p.order == "any" else f", order: {p.order}"
        lines.append(
            f"    - {{regex: {_quote(p.regex)}{order}, precision: {p.precision:.3f}, support: {p.support}}}"
            f"  # {' '.join(p.ngram)!r} in {p.count} docs"
        )
    return "\n".join(lines) + "\n"


def mine_ruleset(
    docs: Sequence[Document], negative: str = "no_relation", origin: str = "training data", **settings: Any
) -> tuple[RuleSet, str]:
    """Mine, render as YAML and parse it back: (rule set, YAML text). The rule set may be empty.

    ``settings``: ``min_precision``, ``min_support``, ``max_n``, ``max_per_relation`` of :func:`mine_patterns`."""
    unknown = sorted(set(settings) - set(MINING_DEFAULTS))
    if unknown:
        raise TypeError(f"mine_ruleset: unknown settings {unknown}")
    settings = {**MINING_DEFAULTS, **settings}
    mined = mine_patterns(docs, negative, **settings)
    text = mined_yaml(mined, settings, origin, len(docs))
    return RuleSet.from_yaml(text, origin, allow_empty=True), text
