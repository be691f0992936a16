"""LabelSet: label <-> id mapping with a negative class and direction helpers.

Sentence-level classification labels are *pair labels* for the ordered pair (e1, e2) =
(entities[0], entities[1]). A directed SemEval label ``Cause-Effect(e2,e1)`` is stored in a
Document as ``Relation(head=1, tail=0, label="Cause-Effect")``; TACRED labels carry no suffix
and are stored as ``Relation(0, 1, label)``. The negative class is "no Relation".
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from relx.data.schema import Document, Relation
from relx.errors import RelxInputError
from relx.utils import write_json

DEFAULT_NEGATIVE = "no_relation"
SEMEVAL_NEGATIVE = "Other"
NEGATIVE_LABELS = (DEFAULT_NEGATIVE, SEMEVAL_NEGATIVE)  # labels the sentence-level readers take for "no relation"


def default_negative(name: str) -> str:
    """The one default-negative map: ``'Other'`` for the SemEval format / scoring scheme, ``'no_relation'`` for every other."""
    return SEMEVAL_NEGATIVE if name == "semeval" else DEFAULT_NEGATIVE


_DIRECTED = re.compile(r"^(?P<type>.+)\((?P<a>e[12]),(?P<b>e[12])\)$")


def split_directed(label: str) -> tuple[str, bool | None]:
    """'Cause-Effect(e2,e1)' -> ('Cause-Effect', True); 'per:title' -> ('per:title', None)."""
    m = _DIRECTED.match(label)
    if not m:
        return label, None
    return m.group("type"), m.group("a") == "e2"


def relation_type(label: str) -> str:
    """Label without its direction suffix."""
    return split_directed(label)[0]


def is_negative(doc: Document, labels: LabelSet | str) -> bool:
    """The one definition of "no relation" for sentence-level pair data: the (entities[0], entities[1])
    pair has no relation, or only the negative label. With a LabelSet, a label outside the set also
    counts as negative (as in training features); with a string, that string is the negative label."""
    if isinstance(labels, LabelSet):
        return labels.pair_id(doc) == 0
    rel = doc.pair_relation(0, 1) if len(doc.entities) >= 2 else None
    return rel is None or rel.label == labels


class LabelSet:
    """Ordered labels; id 0 is always the negative label."""

    def __init__(self, labels: Iterable[str], negative: str = "no_relation"):
        labels = [lab for lab in labels if lab != negative]
        self.negative = negative
        self.labels: list[str] = [negative] + sorted(dict.fromkeys(labels))
        self.index = {lab: i for i, lab in enumerate(self.labels)}

    # --- mapping -------------------------------------------------------
    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, label: str) -> bool:
        return label in self.index

    def id(self, label: str) -> int:
        if label not in self.index:
            raise RelxInputError(f"unknown label {label!r} (label set has {len(self)} labels)")
        return self.index[label]

    def label(self, idx: int) -> str:
        return self.labels[idx]

    @property
    def directed(self) -> bool:
        return any(split_directed(lab)[1] is not None for lab in self.labels)

    # --- documents <-> pair labels -------------------------------------
    def pair_label(self, doc: Document, head: int = 0, tail: int = 1) -> str:
        """Pair label of (entities[head], entities[tail]); negative when no relation."""
        rel = doc.pair_relation(head, tail)
        if rel is None:
            return self.negative
        if split_directed(rel.label)[1] is not None:
            return rel.label  # already a directed pair label
        if self.directed or rel.head != head:
            if rel.label == self.negative:
                return self.negative
            return f"{rel.label}({'e1,e2' if rel.head == head else 'e2,e1'})"
        return rel.label

    def pair_id(self, doc: Document) -> int:
        """Id of the pair label of (entities[0], entities[1]); a label outside the set counts as negative (0)."""
        label = self.pair_label(doc)
        return self.index.get(label, 0)

    def to_relation(self, label: str, head: int = 0, tail: int = 1, score: float | None = None) -> Relation | None:
        """Inverse of pair_label: None for the negative class."""
        if label == self.negative:
            return None
        rtype, reverse = split_directed(label)
        if reverse is None:
            return Relation(head, tail, label, score)
        return Relation(tail, head, rtype, score) if reverse else Relation(head, tail, rtype, score)

    # --- construction / persistence ------------------------------------
    @classmethod
    def from_documents(cls, docs: Iterable[Document], negative: str = "no_relation", directed: bool | None = None) -> LabelSet:
        """Collect pair labels from docs. Directed when any label carries a direction or a reversed pair."""
        docs = list(docs)
        if directed is None:
            directed = any(r.head > r.tail or split_directed(r.label)[1] is not None for d in docs for r in d.relations)
        probe = cls([negative, "x(e1,e2)"] if directed else [], negative)
        found = {probe.pair_label(d) for d in docs}
        if directed:  # both directions of every type, so the classifier can emit either
            types = {relation_type(lab) for lab in found if lab != negative}
            found = {f"{t}({d})" for t in types for d in ("e1,e2", "e2,e1")}
        return cls(found, negative)

    def to_json(self) -> dict:
        return {"negative": self.negative, "labels": self.labels}

    def save(self, path: str | Path) -> None:
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> LabelSet:
        """Read a ``labels.json`` ({"negative": str, "labels": [str]}, plain or .gz); RelxInputError naming the file otherwise."""
        from relx.data.textio import load_json  # textio imports nothing of relx.data

        return cls.from_json(load_json(path), path)

    @classmethod
    def from_json(cls, d: Any, path: str | Path | None = None) -> LabelSet:
        """The LabelSet of parsed ``labels.json`` content; the one check of its shape (``LabelSet.load`` and
        model directories use it). Problems raise RelxInputError located at ``path``."""
        shape = ' (expected {"labels": [...], "negative": "..."})'
        if not isinstance(d, dict):
            raise RelxInputError(f"a label set must be a JSON object, got a JSON {type(d).__name__}{shape}", path)
        for key in ("labels", "negative"):
            if key not in d:
                raise RelxInputError(f"label set has no field {key!r}{shape}", path)
        labels, negative = d["labels"], d["negative"]
        if not isinstance(labels, list) or not all(isinstance(lab, str) for lab in labels):
            raise RelxInputError(f"label set field 'labels' must be a list of strings, got {json.dumps(labels)[:40]}{shape}", path)
        if not isinstance(negative, str):
            raise RelxInputError(f"label set field 'negative' must be a string, got {json.dumps(negative)[:40]}{shape}", path)
        return cls(labels, negative)
