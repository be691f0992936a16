"""Dataset statistics: class counts, imbalance ratios, sentence lengths, overlap and multiplicity.

Conventions (see :func:`compute_stats`):

- A *pair dataset* (``pair_dataset``: every Document has exactly two entities and at most one
  relation, between them; TACRED, SemEval, ``relx data pairs`` output) reports its negative ratio
  as negative pairs : positive pairs. Otherwise ``negative_to_positive`` is documents without a
  relation : relations.
- ``labels`` counts *pair labels* (as :class:`~relx.data.labels.LabelSet` names them, e.g.
  ``Cause-Effect(e2,e1)``) when every Document is a sentence-level pair (at most one relation,
  between entities 0 and 1); otherwise every relation label is counted. Documents without any
  relation are counted under the negative name in both cases.
- Triples are :func:`relx.data.triples.listed_triples` with entity texts as keys (the same definition
  ``relx evaluate --analysis overlap`` uses): every triple the source listed, repeats and unlocated
  ones included. Overlap classes follow CopyRE / Table 2 of the kernel-matrix paper
  (:func:`relx.data.triples.overlap_class`): *Normal* (no two triples share an entity), *EPO* (the
  same ordered entity pair in two triples), *SEO* (two distinct pairs share an entity); a Document
  may be EPO and SEO at once. Multiplicity (distinct triples): *Single* (1), *Double* (2),
  *Multiple* (>= 3). Documents with no triple are counted under ``none`` in both, and in no other class.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from relx.data.labels import LabelSet, relation_type
from relx.data.schema import Document
from relx.data.triples import overlap_class as overlap_class  # re-exported: its home before relx.data.triples
from relx.data.triples import sentence_structure

LENGTH_BINS: list[tuple[str, int, int | None]] = [
    ("1-10", 1, 10),
    ("11-20", 11, 20),
    ("21-30", 21, 30),
    ("31-40", 31, 40),
    ("41-50", 41, 50),
    ("51-60", 51, 60),
    (">60", 61, None),
]


def _sorted_counts(counter: Counter) -> dict[str, int]:
    """Largest count first, ties by name."""
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _is_pair_dataset(docs: list[Document], negative: str) -> bool:
    for d in docs:
        rels = [r for r in d.relations if r.label != negative]
        if len(rels) > 1 or (rels and {rels[0].head, rels[0].tail} != {0, 1}):
            return False
    return True


def label_counts(docs: list[Document], negative: str = "no_relation") -> Counter:
    """Pair-label (or relation-label) counts, negative included (see module docstring)."""
    counts: Counter = Counter({negative: 0})  # the negative class is always reported
    if _is_pair_dataset(docs, negative):
        ls = LabelSet.from_documents(docs, negative=negative)
        counts.update(ls.pair_label(d) for d in docs)
        return counts
    for d in docs:
        rels = [r.label for r in d.relations if r.label != negative]
        counts.update(rels or [negative])
    return counts


def imbalance(counts: dict[str, int]) -> dict[str, Any] | None:
    """Smallest vs largest count as '1 : X' (Table 6 of the two-phase paper); None when empty."""
    counts = {k: v for k, v in counts.items() if v > 0}
    if not counts:
        return None
    small = min(counts.items(), key=lambda kv: (kv[1], kv[0]))
    large = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    value = large[1] / small[1]
    return {
        "smallest": {"label": small[0], "count": small[1]},
        "largest": {"label": large[0], "count": large[1]},
        "ratio": f"1 : {value:.1f}",
        "value": value,
    }


def length_stats(lengths: list[int]) -> dict[str, Any]:
    """min/max/mean/median, quintile boundaries (20/40/60/80 %) and a fixed-bin histogram."""
    hist = {name: 0 for name, _, _ in LENGTH_BINS}
    for n in lengths:
        for name, lo, hi in LENGTH_BINS:
            if n >= lo and (hi is None or n <= hi):
                hist[name] += 1
                break
    if not lengths:
        return {"min": 0, "max": 0, "mean": 0.0, "median": 0.0, "quintiles": [], "histogram": hist}
    quint = statistics.quantiles(lengths, n=5, method="inclusive") if len(lengths) > 1 else [float(lengths[0])] * 4
    return {
        "min": min(lengths),
        "max": max(lengths),
        "mean": statistics.fmean(lengths),
        "median": float(statistics.median(lengths)),
        "quintiles": [float(q) for q in quint],
        "histogram": hist,
    }


def multiplicity_class(n_triples: int) -> str:
    """Single / Double / Multiple by the number of distinct triples ("none" for 0)."""
    return {0: "none", 1: "Single", 2: "Double"}.get(n_triples, "Multiple")


def _structure(docs: list[Document], negative: str) -> tuple[dict[str, int], dict[str, int]]:
    overlap = dict.fromkeys(("Normal", "EPO", "SEO", "none"), 0)
    mult = dict.fromkeys(("Single", "Double", "Multiple", "none"), 0)
    for d in docs:
        classes, n_triples = sentence_structure(d, negative)
        for cls in classes or {"none"}:
            overlap[cls] += 1
        mult[multiplicity_class(n_triples)] += 1
    return overlap, mult


def compute_stats(docs: Iterable[Document], negative: str = "no_relation") -> dict[str, Any]:
    """All dataset statistics as a JSON-ready dict (see the module docstring for definitions)."""
    docs = list(docs)
    labels = label_counts(docs, negative)
    positives = {k: v for k, v in labels.items() if k != negative}
    n_rel = sum(1 for d in docs for r in d.relations if r.label != negative)
    n_neg = labels.get(negative, 0)
    types = Counter(relation_type(r.label) for d in docs for r in d.relations if r.label != negative)
    types[negative] = n_neg
    ent_types = Counter(e.label for d in docs for e in d.entities)
    ratio = n_neg / n_rel if n_rel else None
    overlap, mult = _structure(docs, negative)
    return {
        "documents": len(docs),
        "pair_dataset": bool(docs) and all(len(d.entities) == 2 for d in docs) and _is_pair_dataset(docs, negative),
        "negative": negative,
        "labels": _sorted_counts(labels),
        "relation_types": _sorted_counts(types),
        "relations": n_rel,
        "entities": sum(len(d.entities) for d in docs),
        "entity_types": _sorted_counts(ent_types),
        "negative_to_positive": {
            "ratio": f"{ratio:.2f}:1" if ratio is not None else "n/a",
            "value": ratio,
            "negatives": n_neg,
            "positives": n_rel,
        },
        "most_imbalanced": {"relations": imbalance(positives), "entity_types": imbalance(dict(ent_types))},
        "length": length_stats([len(d.tokens) for d in docs]),
        "overlap": overlap,
        "multiplicity": mult,
    }


# --- text rendering ----------------------------------------------------------------------------


def _table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    """Fixed-width table: numeric columns right-aligned, text columns left-aligned."""
    from relx.evaluation.report import text_table

    numeric = [k > 0 and all(isinstance(r[k], (int, float)) or r[k] is None or _is_pct(r[k]) for r in rows) for k in range(len(header))]
    return text_table(header, [[_fmt(c) for c in row] for row in rows], title, right=numeric, indent="  ", underline=False)


def _is_pct(value: Any) -> bool:
    return isinstance(value, str) and (value == "-" or value.replace(".", "", 1).isdigit())


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _pct(n: int, total: int) -> str:
    return f"{100.0 * n / total:.1f}" if total else "-"


def _count_table(title: str, first: str, counts: dict[str, int]) -> str:
    total = sum(counts.values())
    rows = [[k, v, _pct(v, total)] for k, v in counts.items()]
    rows.append(["Total", total, "100.0" if total else "-"])
    return _table(title, [first, "Count", "%"], rows)


def _imbalance_table(stats: dict[str, Any]) -> str:
    rows = []
    for task, key in (("RE", "relations"), ("NER", "entity_types")):
        imb = stats["most_imbalanced"][key]
        if imb is None:
            rows.append([task, "-", "-", "-"])
            continue
        small, large = imb["smallest"], imb["largest"]
        rows.append([task, f"{small['label']} ({small['count']:,})", f"{large['label']} ({large['count']:,})", imb["ratio"]])
    return _table("Most imbalanced distribution (smallest : largest)", ["Task", "Smallest", "Largest", "Ratio"], rows)


def _length_block(length: dict[str, Any], n_docs: int) -> str:
    quint = ", ".join(f"{q:g}" for q in length["quintiles"]) or "-"
    head = (
        f"Sentence length (tokens): min {length['min']}, max {length['max']}, "
        f"mean {length['mean']:.1f}, median {length['median']:g}; quintile boundaries {quint}"
    )
    rows = [[name, n, _pct(n, n_docs)] for name, n in length["histogram"].items()]
    return head + "\n" + _table("", ["Tokens", "Documents", "%"], rows).lstrip("\n")


def format_stats(stats: dict[str, Any]) -> str:
    """Readable fixed-width tables (label counts like Table 12 of the TACRED survey, ratios like Table 6)."""
    n = stats["documents"]
    neg = stats["negative_to_positive"]
    if stats.get("pair_dataset"):
        ratio = f"Negative ratio (pairs, negative {stats['negative']!r} : positive) = {neg['ratio']}"
    else:
        ratio = f"Documents without a relation ({stats['negative']}) : relations = {neg['ratio']}"
    counts = f" ({neg['negatives']:,} : {neg['positives']:,})" if "negatives" in neg else ""
    summary = f"Documents: {n:,}   Relations: {stats['relations']:,}   Entities: {stats['entities']:,}\n{ratio}{counts}"
    blocks = [summary, _count_table("Labels", "Relation", stats["labels"])]
    if set(stats["relation_types"]) != set(stats["labels"]):
        blocks.append(_count_table("Relation types (direction ignored)", "Relation type", stats["relation_types"]))
    if stats["entity_types"]:
        blocks.append(_count_table("Entity types", "Entity type", stats["entity_types"]))
    blocks.append(_imbalance_table(stats))
    blocks.append(_length_block(stats["length"], n))
    blocks.append(_table("Overlap and multiplicity (documents)", ["Class", "Documents", "%"], _structure_rows(stats, n)))
    return "\n\n".join(blocks) + "\n"


def _structure_rows(stats: dict[str, Any], n: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for key in ("overlap", "multiplicity"):
        for cls, count in stats[key].items():
            if cls != "none":
                rows.append([cls, count, _pct(count, n)])
    rows.append(["No triple", stats["multiplicity"]["none"], _pct(stats["multiplicity"]["none"], n)])
    rows.append(["All", n, "100.0" if n else "-"])
    return rows
