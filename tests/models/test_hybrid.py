"""Hybrid model (BiLSTM+attention / regex cues / segment TF-IDF): ablation switches and persistence."""

from __future__ import annotations

import pytest
import torch

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.hybrid import HybridModel
from relx.models.loading import load_model
from tiny_models import tiny_config

FAST = {"epochs": 15, "batch_size": 4, "lr": 1e-2, "warmup_ratio": 0.0, "progress": False, "seed": 0, "weight_decay": 0.0, "num_threads": 1}


def build(pair_docs, **overrides) -> HybridModel:
    torch.manual_seed(0)
    model = HybridModel(tiny_config(HybridModel, {}, **overrides), LabelSet.from_documents(pair_docs))
    model.prepare(pair_docs)
    return model


@pytest.mark.parametrize("branch", ["use_lstm", "use_rules", "use_tfidf"])
def test_each_branch_alone_forwards(pair_docs, branch):
    switches = {"use_lstm": False, "use_rules": False, "use_tfidf": False, branch: True}
    model = build(pair_docs, **switches)
    batch = model.collate([model.featurize(d) for d in pair_docs])
    out = model(batch)
    assert out.logits.shape == (4, len(model.labels)) and torch.isfinite(out.loss)
    assert ("words" in batch) == switches["use_lstm"] and ("rules" in batch) == switches["use_rules"]
    assert ("tfidf_idx" in batch) == switches["use_tfidf"]
    expected_width = {"use_lstm": 2 * 16 * 2, "use_rules": len(model.rules or []), "use_tfidf": 8}[branch]
    assert model.ffn.in_features == expected_width  # lstm: attention + sentence max (tiny config), 2H each
    if branch == "use_lstm":  # tiny config: POS / NER / type channels on, each from the documents' own fields
        assert set(model.tokens.vocabs) - {"word"} == {"pos", "ner", "type"} and {"pos", "ner", "type"} <= set(batch)
        assert model.tokens.lstm.lstm.input_size == model.tokens.word_dim + 3 * 4 + 2 * 4


def test_all_branches_off_is_a_config_error(pair_docs):
    with pytest.raises(RelxConfigError, match="at least one branch"):
        HybridModel(tiny_config(HybridModel, {}, use_lstm=False, use_rules=False, use_tfidf=False), LabelSet.from_documents(pair_docs))
    with pytest.raises(RelxConfigError, match="rules_level"):
        HybridModel(tiny_config(HybridModel, {}, rules_level="token"), LabelSet.from_documents(pair_docs))


def test_rules_levels_and_mined_rules(pair_docs):
    rel = build(pair_docs, use_lstm=False, use_tfidf=False, rules_level="relation")
    pat = build(pair_docs, use_lstm=False, use_tfidf=False, rules_level="pattern")
    assert rel.ffn.in_features == len(rel.rules.relations) and pat.ffn.in_features == len(pat.rules)
    mined = build(pair_docs, use_lstm=False, use_tfidf=False, rules="mined", mine_min_support=1, mine_min_precision=1.0, mine_max_n=1)
    assert mined.rules.source == "mined" and "founder(e1,e2)" in mined.rules.relations  # 'founded' between bill gates / microsoft


def test_save_load_same_predictions_with_tfidf_and_rules_state(pair_docs, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("relations:\n  founder(e1,e2):\n    - '\\bfounded\\b'\n  employee(e1,e2):\n    - '\\bworks at\\b'\n", encoding="utf-8")
    torch.manual_seed(0)
    labels = LabelSet.from_documents(pair_docs)
    model = HybridModel(tiny_config(HybridModel, {}, word_vectors="random", rules=str(rules)), labels)
    model.fit(pair_docs, pair_docs, **FAST)
    preds = model.predict(pair_docs)
    model.save(tmp_path / "m")
    rules.unlink()  # the saved model keeps the pattern text, TF-IDF vocabularies and word vocabulary itself
    again = load_model(tmp_path / "m")
    assert again.rules.relations == ["founder(e1,e2)", "employee(e1,e2)"]
    assert again.tfidf.to_json() == model.tfidf.to_json() and again.tokens.vocabs["word"].words == model.tokens.vocabs["word"].words
    for a, b in zip(preds, again.predict(pair_docs)):
        assert a.meta["pair_label"] == b.meta["pair_label"]
        assert a.meta["pair_score"] == pytest.approx(b.meta["pair_score"], abs=1e-6)
