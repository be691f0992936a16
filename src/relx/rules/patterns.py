"""Regular-expression cue patterns per relation, read from a YAML file, matched against a Document.

File format (see ``relx/rules/data/semeval.yaml``)::

    name: semeval
    source: hand-written            # or: mined
    relations:
      Cause-Effect(e2,e1):          # a pair label, exactly as LabelSet.pair_label writes it
        - '\\bcaused by\\b'          # a plain string: regex searched in the between text
        - regex: '\\bborn in\\b'     # a mapping adds constraints and notes
          scope: between            # between (default) | sentence
          order: subj_first         # any (default) | subj_first | obj_first
          subj_type: [PERSON]       # entity labels (case-insensitive) the subject must have
          obj_type: [CITY]
          subj_text: '^(?:flock|herd)$'   # regex on the (lowercased) mention text
          obj_text: '...'
          precision: 0.93           # informational (mined files); ignored by matching
          support: 41

What a pattern sees (all lowercased, tokens joined by single spaces, compiled case-insensitively):

* ``between``: the tokens strictly between the two mentions, whichever comes first in the sentence
  (:func:`relx.features.segments.segments`), e.g. ``was caused by the``.
* ``sentence``: the whole sentence with the subject mention (entities[0]) replaced by ``SUBJ`` and
  the object (entities[1]) by ``OBJ``, e.g. ``the SUBJ was caused by the OBJ .``.

A pattern *fires* when its regex is found (``re.search``) and every constraint holds. Two vectors
are offered (:meth:`RuleSet.vector`): ``level="relation"`` is multi-hot over the file's relations
(1 when any pattern of that relation fires; the paper's "one-hot vector of the predicted relation",
generalised to several cues firing), ``level="pattern"`` is multi-hot over the individual patterns,
so a downstream classifier can learn how much to trust each cue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.features.segments import segments

SCOPES = ("between", "sentence")
ORDERS = ("any", "subj_first", "obj_first")
LEVELS = ("relation", "pattern")
SHIPPED = ("semeval", "tacred")
_KEYS = {"regex", "scope", "order", "subj_type", "obj_type", "subj_text", "obj_text", "precision", "support", "note"}
_TOP_KEYS = {"name", "source", "description", "settings", "relations"}


@dataclass
class Pattern:
    """One cue: a compiled regex for ``relation`` plus optional order / entity constraints."""

    relation: str
    regex: str
    scope: str = "between"
    order: str = "any"
    subj_type: tuple[str, ...] = ()
    obj_type: tuple[str, ...] = ()
    subj_text: str | None = None
    obj_text: str | None = None
    precision: float | None = None
    support: int | None = None
    compiled: dict[str, re.Pattern] = field(default_factory=dict, repr=False)

    def fires(self, view: MatchView) -> bool:
        """True when the regex is found in this pattern's scope and all constraints hold."""
        if self.order != "any" and self.order != view.order:
            return False
        if self.subj_type and view.subj_type not in self.subj_type:
            return False
        if self.obj_type and view.obj_type not in self.obj_type:
            return False
        if self.subj_text is not None and not self.compiled["subj_text"].search(view.subj_text):
            return False
        if self.obj_text is not None and not self.compiled["obj_text"].search(view.obj_text):
            return False
        return self.compiled["regex"].search(view.between if self.scope == "between" else view.sentence) is not None


@dataclass
class MatchView:
    """The texts and attributes of one Document that patterns look at."""

    between: str
    sentence: str
    order: str
    subj_type: str
    obj_type: str
    subj_text: str
    obj_text: str

    @classmethod
    def of(cls, doc: Document) -> MatchView:
        subj_text, between, obj_text = segments(doc)
        s, o = doc.entities[0], doc.entities[1]
        words: list[str] = []
        for i, tok in enumerate(doc.tokens):
            if s.start <= i < s.end:
                if i == s.start:
                    words.append("SUBJ")
            elif o.start <= i < o.end:
                if i == o.start:
                    words.append("OBJ")
            else:
                words.append(tok.lower())
        order = "subj_first" if s.start <= o.start else "obj_first"
        return cls(between, " ".join(words), order, s.label.upper(), o.label.upper(), subj_text, obj_text)


class RuleSet:
    """An ordered list of :class:`Pattern` s loaded from one YAML text (kept verbatim for saving)."""

    def __init__(self, patterns: Sequence[Pattern], text: str = "", name: str = "", source: str = ""):
        self.patterns = list(patterns)
        self.text, self.name, self.source = text, name, source
        self.relations: list[str] = list(dict.fromkeys(p.relation for p in self.patterns))
        self._rel_index = {r: i for i, r in enumerate(self.relations)}

    def __len__(self) -> int:
        return len(self.patterns)

    # --- loading -------------------------------------------------------------
    @classmethod
    def from_yaml(cls, text: str, origin: str = "<rules>", allow_empty: bool = False) -> RuleSet:
        """Parse and validate a pattern file's text; errors name ``origin`` and the bad pattern."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RelxInputError(f"not valid YAML ({' '.join(str(exc).split())})", origin) from None
        if not isinstance(data, dict) or not isinstance(data.get("relations"), dict):
            raise RelxInputError("a pattern file is a mapping with a 'relations' mapping (relation label -> list of regexes)", origin)
        unknown = sorted(set(data) - _TOP_KEYS)
        if unknown:
            raise RelxInputError(f"unknown top-level key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_TOP_KEYS))})", origin)
        patterns = []
        for relation, items in data["relations"].items():
            if not isinstance(items, list):
                raise RelxInputError("expected a list of patterns", origin, f"relation {relation!r}")
            for k, item in enumerate(items):
                patterns.append(_parse_pattern(str(relation), item, origin, f"relation {relation!r}, pattern {k + 1}"))
        if not patterns and not allow_empty:
            raise RelxInputError("the file defines no patterns", origin)
        return cls(patterns, text, str(data.get("name", "")), str(data.get("source", "")))

    @classmethod
    def load(cls, spec: str | Path) -> RuleSet:
        """A shipped set by name (``semeval``, ``tacred``) or a YAML file path."""
        if str(spec) in SHIPPED:
            text = resources.files("relx.rules").joinpath("data", f"{spec}.yaml").read_text(encoding="utf-8")
            return cls.from_yaml(text, f"relx/rules/data/{spec}.yaml")
        path = Path(spec)
        if not path.is_file():
            raise RelxInputError(f"pattern file not found (give a YAML path or one of: {', '.join(SHIPPED)})", path)
        return cls.from_yaml(path.read_text(encoding="utf-8"), str(path))

    # --- matching --------------------------------------------------------------
    def matches(self, doc: Document) -> list[int]:
        """Indexes of the patterns that fire on ``doc`` (entities[0] = subject, entities[1] = object)."""
        view = MatchView.of(doc)
        return [i for i, p in enumerate(self.patterns) if p.fires(view)]

    def dim(self, level: str = "relation") -> int:
        _check_level(level)
        return len(self.relations) if level == "relation" else len(self.patterns)

    def vector(self, doc: Document, level: str = "relation") -> list[float]:
        """Multi-hot list over relations (file order) or over patterns; see the module docstring."""
        out = [0.0] * self.dim(level)
        for i in self.matches(doc):
            out[self._rel_index[self.patterns[i].relation] if level == "relation" else i] = 1.0
        return out

    def fired_relations(self, doc: Document) -> list[str]:
        """Relations with at least one firing pattern, in file order."""
        fired = {self.patterns[i].relation for i in self.matches(doc)}
        return [r for r in self.relations if r in fired]


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise RelxInputError(f"unknown rules level {level!r} (choose from {', '.join(LEVELS)})")


def _compile(regex: Any, origin: str, where: str, what: str = "regex") -> re.Pattern:
    if not isinstance(regex, str) or not regex:
        raise RelxInputError(f"{what} must be a non-empty string, got {regex!r}", origin, where)
    try:
        return re.compile(regex, re.IGNORECASE)
    except re.error as exc:
        raise RelxInputError(f"bad regular expression {regex!r}: {exc}", origin, where) from None


def _labels(value: Any, origin: str, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise RelxInputError(f"{key} must be an entity label or a list of labels, got {value!r}", origin, where)
    return tuple(v.upper() for v in values)


def _parse_pattern(relation: str, item: Any, origin: str, where: str) -> Pattern:
    """One list item (a regex string or a mapping) -> a validated, compiled Pattern."""
    if isinstance(item, str):
        item = {"regex": item}
    if not isinstance(item, dict):
        raise RelxInputError(f"a pattern is a regex string or a mapping with 'regex', got {item!r}", origin, where)
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise RelxInputError(f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})", origin, where)
    if "regex" not in item:
        raise RelxInputError("missing 'regex'", origin, where)
    scope, order = item.get("scope", "between"), item.get("order", "any")
    if scope not in SCOPES:
        raise RelxInputError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}", origin, where)
    if order not in ORDERS:
        raise RelxInputError(f"order must be one of {', '.join(ORDERS)}, got {order!r}", origin, where)
    compiled = {"regex": _compile(item["regex"], origin, where)}
    for key in ("subj_text", "obj_text"):
        if item.get(key) is not None:
            compiled[key] = _compile(item[key], origin, where, key)
    return Pattern(
        relation,
        item["regex"],
        scope,
        order,
        _labels(item.get("subj_type"), origin, where, "subj_type"),
        _labels(item.get("obj_type"), origin, where, "obj_type"),
        item.get("subj_text"),
        item.get("obj_text"),
        item.get("precision"),
        item.get("support"),
        compiled,
    )
