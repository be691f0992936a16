"""Cascade: any registered model as detector or classifier; binary / relation-only training views; save/load."""

from __future__ import annotations

import pytest
from test_svm2stage import toy_docs  # tests/ is on sys.path (pytest rootdir import mode)

from relx.data.labels import LabelSet
from relx.errors import RelxConfigError
from relx.models.cascade import CascadeConfig, CascadeModel
from relx.models.loading import load_model
from relx.models.neural import NeuralREModel
from relx.models.svm2stage import Svm2StageModel
from relx.training.config import FitContext, TrainerConfig
from tiny_models import tiny_config, tiny_fit_kwargs


def test_training_views(pair_docs):
    labels = LabelSet.from_documents(pair_docs)
    model = CascadeModel(tiny_config(CascadeModel), labels)
    binary = model.binary_docs(pair_docs)
    det_labels = model.detector_labels()
    assert [det_labels.pair_label(d) for d in binary] == ["relation", "relation", "relation", "no_relation"]
    assert det_labels.labels == ["no_relation", "relation"] and model.detector.labels.labels == det_labels.labels
    assert [d.id for d in model.relation_docs(pair_docs)] == ["0", "1", "2"]
    assert pair_docs[2].relations[0].head == 1  # the originals are untouched


def test_svm_cascade_fit_predict_save_load(tmp_path):
    train, test = toy_docs(60), toy_docs(24, seed=1)
    labels = LabelSet.from_documents(train)
    model = CascadeModel(tiny_config(CascadeModel), labels)
    hist = model.fit(train, toy_docs(12, seed=2), ctx=FitContext(TrainerConfig(metric="micro_f1")))
    assert hist["best"] == 1.0 and set(hist["history"]) == {"detector", "classifier"}
    preds = model.predict(test)
    assert [p.meta["pair_label"] for p in preds] == [labels.pair_label(d) for d in test]
    assert isinstance(model.detector, Svm2StageModel) and model.classifier.detector.classes == ["relation"]  # relation-only stage
    model.save(tmp_path / "c")
    for sub in ("detector", "classifier"):
        assert (tmp_path / "c" / sub / "config.json").is_file() and (tmp_path / "c" / sub / "model.safetensors").is_file()
    again = load_model(tmp_path / "c")
    assert [p.meta for p in again.predict(test)] == [p.meta for p in preds]


def test_marker_classifier_stage(resources, pair_docs, tmp_path):
    """A neural model fills the classifier stage (tiny random BERT)."""
    from relx.models.marker import MarkerModel

    labels = LabelSet.from_documents(pair_docs)
    svm = {"type": "svm2stage", "c_detect": 10.0, "c_classify": 10.0}
    marker = {"type": "marker", "encoder": resources["bert"], "max_length": 32, "dropout": 0.0}
    model = CascadeModel(CascadeConfig(detector=svm, classifier=marker), labels)
    assert isinstance(model.classifier, NeuralREModel)
    model.fit(pair_docs, None, **{**tiny_fit_kwargs(MarkerModel), "epochs": 3})  # a few steps: this tests the wiring
    preds = model.predict(pair_docs)
    assert preds[3].meta["pair_label"] == "no_relation"  # the detector (which overfits) stops the negative
    assert all(p.meta["pair_label"] in labels for p in preds)
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "classifier" / "encoder").is_dir()
    again = load_model(tmp_path / "m").predict(pair_docs)
    assert [p.meta["pair_label"] for p in again] == [p.meta["pair_label"] for p in preds]
    for a, b in zip(preds, again):
        assert a.meta["pair_score"] == pytest.approx(b.meta["pair_score"], abs=1e-5)


def test_stage_trainer_overrides(tmp_path):
    tc = TrainerConfig(epochs=3, lr=1e-4)
    ctx = FitContext(tc, tmp_path, resume=True)
    sub = ctx.for_stage("detector", {"epochs": 7})
    assert sub.trainer.epochs == 7 and sub.trainer.lr == 1e-4 and sub.out_dir == tmp_path / "detector" and sub.resume
    assert tc.epochs == 3 and ctx.out_dir == tmp_path
    assert FitContext().for_stage("x", {}).out_dir is None
    with pytest.raises(RelxConfigError, match="unknown setting"):
        ctx.for_stage("classifier", {"epoch": 5})  # a typo is an error, not ignored


def test_config_errors(pair_docs):
    labels = LabelSet.from_documents(pair_docs)
    with pytest.raises(RelxConfigError, match="detector.type is required"):
        CascadeModel(CascadeConfig(detector={"c_detect": 1.0}), labels)
    with pytest.raises(RelxConfigError, match="cannot contain a cascade"):
        CascadeModel(CascadeConfig(classifier={"type": "cascade"}), labels)
    with pytest.raises(RelxConfigError, match="unknown key"):
        CascadeModel(CascadeConfig(classifier={"type": "svm2stage", "bogus": 1}), labels)
