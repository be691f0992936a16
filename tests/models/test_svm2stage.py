"""Two-stage SVM: stage reports, C selection on dev, save -> load identical decision values."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxConfigError
from relx.evaluation.regimes import format_stage_reports
from relx.evaluation.two_stage import evaluate_two_stage
from relx.models.loading import load_model
from relx.models.svm2stage import RELATION, Svm2StageConfig, Svm2StageModel
from relx.training.config import FitContext, TrainerConfig
from tiny_models import tiny_config

PEOPLE = ["bill", "john", "mary", "anna", "peter", "sara"]
ORGS = ["acme", "globex", "initech", "umbrella", "hooli"]
TEMPLATES = [  # (words between subject and object, label or None)
    ("founded", "founder"),
    ("started the company", "founder"),
    ("works at", "employee"),
    ("is employed by", "employee"),
    ("visited", None),
    ("talked about", None),
]


def toy_docs(n: int, seed: int = 0) -> list[Document]:
    """Sentences 'PERSON <between> ORG .' whose between words decide the label (TACRED-style labels)."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        between, label = TEMPLATES[i % len(TEMPLATES)]
        toks = [rng.choice(PEOPLE), *between.split(), rng.choice(ORGS), "."]
        k = len(toks) - 2
        rels = [Relation(0, 1, label)] if label else []
        docs.append(Document(f"d{i}", toks, [Entity(0, 1, "PERSON"), Entity(k, k + 1, "ORGANIZATION")], rels))
    return docs


@pytest.fixture()
def fitted():
    train = toy_docs(60)
    labels = LabelSet.from_documents(train)
    model = Svm2StageModel(Svm2StageConfig(), labels)
    model.fit(train)
    return model, labels


def test_learns_toy_data(fitted):
    model, labels = fitted
    test = toy_docs(24, seed=1)
    preds = model.predict(test)
    assert [p.meta["pair_label"] for p in preds] == [labels.pair_label(d) for d in test]
    for p in preds:
        assert 0.0 <= p.meta["pair_score"] <= 1.0 and 0.0 <= p.meta["relation_score"] <= 1.0
        assert (p.meta["relation_score"] > 0.5) == bool(p.relations)


def test_stage_reports_shapes(fitted):
    model, _ = fitted
    rep = model.stage_reports(toy_docs(24, seed=2))
    binary, multi = rep["binary"], rep["multiclass"]
    assert set(binary["classes"]) == {"no_relation", RELATION}
    assert set(multi["classes"]) == {"founder", "employee"}  # gold relations only; negative not listed
    for table, n in ((binary, 24), (multi, 16)):
        assert table["n"] == n and 0.0 <= table["accuracy"] <= 1.0
        for avg in ("macro avg", "weighted avg"):
            assert set(table[avg]) == {"p", "r", "f1", "support"} and table[avg]["support"] == n
        for row in table["classes"].values():
            assert set(row) == {"p", "r", "f1", "support"}
    assert sum(r["support"] for r in binary["classes"].values()) == 24
    assert rep["pipeline"]["micro_f1"] == 1.0 and rep["pipeline"]["n"] == 24
    assert [r["averaging"].split()[0] for r in rep["all_data"]["rows"]] == ["weighted", "macro"]
    assert rep["relation_only"]["n"] == 16
    text = format_stage_reports(rep)
    assert "Stage 1" in text and "Stage 2" in text and "weighted avg" in text


def test_save_load_identical_decisions(fitted, tmp_path):
    model, _ = fitted
    docs = toy_docs(30, seed=3)
    model.save(tmp_path / "svm")
    assert sorted(p.name for p in (tmp_path / "svm").iterdir()) == ["config.json", "labels.json", "model.safetensors"]
    again = load_model(tmp_path / "svm")
    X, Y = model.features(docs), again.features(docs)
    assert (X != Y).nnz == 0
    for a, b in ((model.detector, again.detector), (model.classifier, again.classifier)):
        assert a.classes == b.classes and a.coef.dtype == b.coef.dtype == np.float32
        assert np.array_equal(a.decision(X), b.decision(Y))
    p1, p2 = model.predict(docs), again.predict(docs)
    assert [p.meta for p in p1] == [p.meta for p in p2]


def test_select_c_on_dev_uses_grid_and_trainer_metric():
    train, dev = toy_docs(48), toy_docs(18, seed=5)
    model = Svm2StageModel(Svm2StageConfig(c_grid=[0.01, 1.0]), LabelSet.from_documents(train))
    hist = model.fit(train, dev, ctx=FitContext(TrainerConfig(metric="macro_f1", epochs=99)), out_dir=None)
    sel = hist["selection"]
    assert sel["metric"] == "macro_f1" and len(sel["results"]) == 4 and hist["metric"] == "macro_f1"
    assert (model.config.c_detect, model.config.c_classify) == (sel["best"]["c_detect"], sel["best"]["c_classify"])
    assert hist["best"] == pytest.approx(sel["best"]["macro_f1"]) and {"train_seconds", "best_step", "step"} <= set(hist)


def test_relation_only_training_gives_constant_detector():
    train = [d for d in toy_docs(30) if d.relations]
    model = Svm2StageModel(Svm2StageConfig(), LabelSet.from_documents(train))
    model.fit(train)
    assert model.detector.classes == [RELATION]
    preds = model.predict(toy_docs(12, seed=4))
    assert all(p.meta["pair_label"] in {"founder", "employee"} for p in preds)


def test_lexical_only_and_no_cue_block(pair_docs):
    bare = [dataclasses.replace(d, pos=None, ner=None, heads=None, deprels=None) for d in pair_docs]
    labels = LabelSet.from_documents(bare)
    with_cues = Svm2StageModel(tiny_config(Svm2StageModel), labels)
    with_cues.fit(bare)
    no_cues = Svm2StageModel(tiny_config(Svm2StageModel, syntax_weight=0.0), labels)
    no_cues.fit(bare)
    assert no_cues.cues is None and with_cues.cues.notes
    assert no_cues.features(bare).shape[1] == with_cues.tfidf.n_features < with_cues.features(bare).shape[1]


def test_rbf_fits_but_cannot_be_saved(tmp_path):
    train = toy_docs(36)
    model = Svm2StageModel(Svm2StageConfig(kernel="rbf", c_detect=10.0, c_classify=10.0), LabelSet.from_documents(train))
    model.fit(train)
    assert len(model.predict(train[:6])) == 6
    with pytest.raises(RelxConfigError, match="kernel: linear"):
        model.save(tmp_path / "rbf")


def test_unknown_kernel_and_unfitted():
    model = Svm2StageModel(Svm2StageConfig(kernel="poly"), LabelSet.from_documents(toy_docs(6)))
    with pytest.raises(RelxConfigError, match="not fitted"):
        model.predict(toy_docs(2))
    with pytest.raises(RelxConfigError, match="unknown kernel"):
        model.fit(toy_docs(12))


def test_evaluate_two_stage_numbers():
    out, preds, model = evaluate_two_stage(
        Svm2StageConfig(c_grid=[0.1, 1.0]), toy_docs(48), toy_docs(12, seed=6), toy_docs(18, seed=7), "no_relation", metric="micro_f1"
    )
    assert out["test"]["micro_f1"] == 1.0 and out["test_docs"] == len(preds) == 18
    assert out["binary"]["relation"]["support"] == 12 and out["multiclass"]["accuracy"] == 1.0
    assert out["sentences_per_second"] > 0 and out["c_detect"] in (0.1, 1.0)


def test_max_train_docs_subsamples_like_the_trainer(tmp_path):
    """A run draws the max_train_docs subset once (relx.training.config.subsample, in REModel.fit), the same draw for every model."""
    from relx.data.schema import write_jsonl
    from relx.training.run import run_experiment

    train = toy_docs(60)
    write_jsonl(tmp_path / "train.jsonl", train)
    raw = {
        "model": {"type": "svm2stage"},
        "data": {"train": str(tmp_path / "train.jsonl"), "format": "jsonl"},
        "trainer": {"max_train_docs": 12, "seed": 1, "progress": False},
    }
    result = run_experiment(raw, tmp_path / "run", verbose=False).summary
    model = load_model(tmp_path / "run" / "model")
    assert result["train_docs"] == 12
    seen = {t for d in random.Random(1).sample(train, 12) for t in d.tokens}
    assert {t.split(":", 1)[1].split()[0] for t in model.tfidf.feature_names() if t.startswith("subject:")} <= seen


def test_detect_margin_moves_the_stage1_decision_and_is_chosen_on_dev_from_margin_grid():
    train, dev = toy_docs(60), toy_docs(30, seed=1)
    labels = LabelSet.from_documents(train)
    model = Svm2StageModel(Svm2StageConfig(), labels)
    model.fit_context(train, None, FitContext(TrainerConfig(progress=False)))
    n_neg = sum(d.meta["pair_label"] == labels.negative for d in model.predict(dev))
    assert 0 < n_neg < len(dev)
    model.config.detect_margin = 1e9  # nothing reaches it: every pair is negative
    assert all(d.meta["pair_label"] == labels.negative for d in model.predict(dev))
    model.config.detect_margin = -1e9  # everything is a relation
    assert not any(d.meta["pair_label"] == labels.negative for d in model.predict(dev))
    picked = Svm2StageModel(Svm2StageConfig(c_grid=[0.1, 1.0], margin_grid=[-1e9, 1e9]), labels)
    sel = picked.fit_context(train, dev, FitContext(TrainerConfig(progress=False)))["selection"]
    assert len(sel["results"]) == 2 * 2 * 3 and picked.config.detect_margin == 0.0  # the sign rule wins on separable data
