"""How well a rule set's cues agree with gold labels: per-relation and per-pattern coverage / precision."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.rules.patterns import RuleSet


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def coverage(rules: RuleSet, docs: Sequence[Document], negative: str = "no_relation") -> dict[str, Any]:
    """Per relation: gold documents, documents where it fires, correct firings, precision, recall.

    ``precision`` = correct / fired, ``recall`` (coverage) = correct / gold. Per pattern the same
    counts. ``any_fired`` = documents where at least one pattern fires.
    """
    docs = [d for d in docs if len(d.entities) >= 2]
    labels = LabelSet.from_documents(docs, negative=negative)
    gold = [labels.pair_label(d) for d in docs]
    gold_n = Counter(gold)
    fired_rel: Counter = Counter()
    correct_rel: Counter = Counter()
    fired_pat: Counter = Counter()
    correct_pat: Counter = Counter()
    any_fired = 0
    for doc, g in zip(docs, gold):
        hits = rules.matches(doc)
        any_fired += bool(hits)
        for i in hits:
            fired_pat[i] += 1
            correct_pat[i] += rules.patterns[i].relation == g
        for rel in {rules.patterns[i].relation for i in hits}:
            fired_rel[rel] += 1
            correct_rel[rel] += rel == g
    n_pat = Counter(p.relation for p in rules.patterns)
    names = rules.relations + sorted(set(gold_n) - set(rules.relations) - {negative})
    rows = [
        {
            "relation": r,
            "patterns": n_pat[r],
            "gold": gold_n[r],
            "fired": fired_rel[r],
            "correct": correct_rel[r],
            "precision": _ratio(correct_rel[r], fired_rel[r]),
            "recall": _ratio(correct_rel[r], gold_n[r]),
        }
        for r in names
    ]
    pats = [
        {
            "relation": p.relation,
            "regex": p.regex,
            "fired": fired_pat[i],
            "correct": correct_pat[i],
            "precision": _ratio(correct_pat[i], fired_pat[i]),
        }
        for i, p in enumerate(rules.patterns)
    ]
    fired, correct = sum(fired_rel.values()), sum(correct_rel.values())
    positives = sum(n for lab, n in gold_n.items() if lab != negative)
    return {
        "documents": len(docs),
        "negative": negative,
        "gold_negative": gold_n[negative],
        "any_fired": any_fired,
        "micro_precision": _ratio(correct, fired),
        "micro_recall": _ratio(correct, positives),
        "relations": rows,
        "patterns": pats,
    }


def _fmt(x: float | None) -> str:
    return "    -" if x is None else f"{x:5.3f}"


def format_coverage(report: dict[str, Any], patterns: bool = False) -> str:
    """Readable text tables of :func:`coverage` output."""
    width = max([len(r["relation"]) for r in report["relations"]] + [8])
    lines = [f"{'relation':<{width}}  pats   gold  fired  correct  precision  recall", "-" * (width + 48)]
    for r in report["relations"]:
        lines.append(
            f"{r['relation']:<{width}}  {r['patterns']:4d}  {r['gold']:5d}  {r['fired']:5d}  {r['correct']:7d}"
            f"      {_fmt(r['precision'])}   {_fmt(r['recall'])}"
        )
    lines.append("-" * (width + 48))
    lines.append(
        f"{report['documents']} documents ({report['gold_negative']} {report['negative']!r}); "
        f"some pattern fires on {report['any_fired']}; micro precision {_fmt(report['micro_precision']).strip()}, "
        f"micro recall {_fmt(report['micro_recall']).strip()} (relation level)"
    )
    if patterns:
        lines += ["", f"{'fired':>5}  {'correct':>7}  precision  relation / regex"]
        for p in report["patterns"]:
            lines.append(f"{p['fired']:5d}  {p['correct']:7d}      {_fmt(p['precision'])}  {p['relation']}  {p['regex']}")
    return "\n".join(lines) + "\n"
