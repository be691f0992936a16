"""Soft type-constraint rules (soft-label distillation paper, "Type Constraints"): the pattern -> relation bipartite graph.

A pattern is (subject type, object type). Counting every training pair with a relation gives w_ij = how
often pattern p_i carries relation r_j; each pattern's row is normalised to P(r_j | p_i). The negative
class never co-occurs with a pattern, so its entry is the constant ``na`` (C, default 0.2). G(p) is the
row over the model's label ids; an unseen pattern gets 0 everywhere but C on the negative class.

Entity types: the entity's label, or for untyped entities (SemEval's nominals: ``O`` / ``ENTITY``) the
NER tag of the span's syntactic head token (``relx data annotate``), else ``O``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relx.data.annotate import span_head
from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.inference.extraction import UNTYPED_LABELS as UNTYPED


def entity_type(doc: Document, k: int) -> str:
    """The type of entity ``k`` used in patterns (see the module docstring)."""
    e = doc.entities[k]
    if e.label not in UNTYPED:
        return e.label
    if doc.ner is not None and doc.heads is not None and 0 < e.end <= len(doc.ner):
        return doc.ner[span_head(doc.heads, e.start, e.end)] or "O"
    return "O"


def pattern(doc: Document) -> str:
    """'SUBJTYPE|OBJTYPE' of a two-entity document."""
    return f"{entity_type(doc, 0)}|{entity_type(doc, 1)}"


@dataclass
class SoftRules:
    """Row-normalised pattern x label matrix; ``labels`` in LabelSet id order, ``counts`` the raw w_ij."""

    labels: list[str]
    negative: str
    na: float = 0.2
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def from_documents(cls, docs: Iterable[Document], labels: LabelSet, na: float = 0.2) -> SoftRules:
        counts: dict[str, Counter] = {}
        for d in docs:
            lab = labels.pair_label(d)
            row = counts.setdefault(pattern(d), Counter())
            if lab != labels.negative:
                row[lab] += 1
        return cls(list(labels.labels), labels.negative, na, {p: dict(c) for p, c in sorted(counts.items())})

    def row(self, pat: str) -> list[float]:
        """G(p) over ``labels``: P(r | p) for the relations, C for the negative class."""
        c = self.counts.get(pat, {})
        total = sum(c.values())
        return [self.na if lab == self.negative else (c.get(lab, 0) / total if total else 0.0) for lab in self.labels]

    def vector(self, doc: Document) -> list[float]:
        return self.row(pattern(doc))

    @property
    def patterns(self) -> list[str]:
        """Patterns by support (pairs with a relation), most first."""
        return sorted(self.counts, key=lambda p: (-sum(self.counts[p].values()), p))

    def to_json(self) -> dict[str, Any]:
        return {"labels": self.labels, "negative": self.negative, "na": self.na, "counts": self.counts}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SoftRules:
        return cls(
            list(data["labels"]),
            str(data["negative"]),
            float(data["na"]),
            {str(p): {str(k): int(v) for k, v in c.items()} for p, c in data["counts"].items()},
        )

    def format_table(self, top: int = 5) -> str:
        """Per pattern: support and its most probable relations."""
        lines = [
            f"soft rules: {len(self.counts)} patterns (subject type|object type) x {len(self.labels)} labels; "
            f"{self.negative} entry = C = {self.na}",
            f"{'pattern':<32}{'support':>9}  top relations P(r|p)",
        ]
        for p in self.patterns:
            row = dict(zip(self.labels, self.row(p)))
            best = sorted(((v, k) for k, v in row.items() if k != self.negative and v > 0), reverse=True)[:top]
            lines.append(f"{p:<32}{sum(self.counts[p].values()):>9}  " + ", ".join(f"{k} {v:.2f}" for v, k in best))
        return "\n".join(lines) + "\n"

    def heatmap_png(self, path: str | Path, max_patterns: int = 40) -> Path:
        """Figure 4 shape: patterns (rows, by support) x relations (columns), colour = P(r | p)."""
        import numpy as np
        from matplotlib.figure import Figure

        from relx.evaluation.plots import save_figure

        pats = [p for p in self.patterns if sum(self.counts[p].values())][:max_patterns] or self.patterns[:max_patterns]
        cols = [lab for lab in self.labels if lab != self.negative and any(self.counts[p].get(lab) for p in pats)]
        mat = np.array([[dict(zip(self.labels, self.row(p)))[c] for c in cols] for p in pats]) if pats and cols else np.zeros((1, 1))
        fig = Figure(figsize=(min(max(7.0, 3 + 0.32 * len(cols)), 30), min(max(3.5, 2 + 0.3 * len(pats)), 20)))
        ax = fig.add_subplot(1, 1, 1)
        im = ax.imshow(mat, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(cols)), cols, rotation=90, fontsize=7)
        ax.set_yticks(range(len(pats)), [f"{p} ({sum(self.counts[p].values())})" for p in pats], fontsize=7)
        if mat.size <= 900:
            for i in range(mat.shape[0]):
                for j in range(mat.shape[1]):
                    if mat[i, j] >= 0.05:
                        ax.text(
                            j, i, f"{mat[i, j]:.2f}", ha="center", va="center", fontsize=5, color="black" if mat[i, j] > 0.6 else "white"
                        )
        ax.set_xlabel("relation")
        ax.set_ylabel("pattern: subject type | object type (support)")
        fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="P(relation | pattern)")
        ax.set_title(f"Soft rules: {len(pats)} patterns x {len(cols)} relations\n({self.negative} = C = {self.na}, not shown)", fontsize=10)
        return save_figure(fig, path)
