"""MarkerFrontEnd: the ``none`` style reads entity starts; truncation keeps both entities for every style."""

from __future__ import annotations

import pytest

from relx.data.schema import Document, Entity
from relx.nn.front_end import MarkerFrontEnd


def _doc(n: int = 40) -> Document:
    tokens = ["the"] * n
    tokens[2:4], tokens[n - 3] = ["bill", "gates"], "microsoft"
    return Document("d", tokens, [Entity(2, 4, "PER"), Entity(n - 3, n - 2, "ORG")])


def test_none_style_inserts_nothing_and_anchors_entity_starts(tiny_bert):
    enc = MarkerFrontEnd.bert(str(tiny_bert), "none", 128)
    doc = _doc(12)
    feat = enc.featurize(doc)
    plain = enc.tokenizer(doc.tokens, is_split_into_words=True, add_special_tokens=False)
    assert feat["input_ids"][1:-1] == plain["input_ids"]  # no marker tokens
    words = plain.word_ids()
    assert words[feat["e1"] - 1] == 2 and words[feat["e2"] - 1] == 9  # first subword of each entity
    assert words[feat["bounds"][1] - 1] == 3 and words[feat["bounds"][3] - 1] == 9


@pytest.mark.parametrize("style", ["plain", "typed", "punct", "typed_punct", "none"])
def test_truncation_keeps_both_entities(tiny_bert, style):
    enc = MarkerFrontEnd.bert(str(tiny_bert), style, 16)
    enc.set_entity_types([_doc()])
    feat = enc.featurize(_doc(60))
    ids = feat["input_ids"]
    assert len(ids) <= 16 and ids[0] == enc.tokenizer.cls_token_id and ids[-1] == enc.tokenizer.sep_token_id
    tokens = enc.tokenizer.convert_ids_to_tokens(ids)
    assert "microsoft" in "".join(tokens).replace("##", "") and "bill" in tokens
    assert all(0 < p < len(ids) - 1 for p in (feat["e1"], feat["e2"], *feat["bounds"]))
