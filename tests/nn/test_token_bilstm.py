"""TokenBiLSTM: a model trained with POS/NER tags warns (once) when the input has none."""

from __future__ import annotations

import copy
import logging

import torch

from relx.data.labels import LabelSet
from relx.models.feature_bilstm import FeatureBiLSTMModel
from tiny_models import tiny_config


def test_missing_tags_warn_once(pair_docs, caplog):
    assert all(d.pos and d.ner for d in pair_docs)
    torch.manual_seed(0)
    model = FeatureBiLSTMModel(tiny_config(FeatureBiLSTMModel), LabelSet.from_documents(pair_docs))
    model.prepare(pair_docs)
    with caplog.at_level(logging.WARNING, logger="relx.train"):
        model.featurize(pair_docs[0])
        assert not caplog.records  # tagged input: silent
        bare = [copy.copy(d) for d in pair_docs]
        for d in bare:
            d.pos, d.ner = None, None
        feats = [model.featurize(d) for d in bare]
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "POS" in messages[0] and "NER" in messages[1] and "relx data annotate" in messages[0]
    assert all(set(f["pos"]) == {model.tokens.vocabs["pos"].id("<none>")} for f in feats)
