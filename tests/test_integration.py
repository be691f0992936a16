"""Integration: real bundled SemEval data + the real MiniLM encoder (run by `make test`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relx.data.io import read
from relx.data.labels import LabelSet
from relx.evaluation.scorer import score_documents
from relx.models.base import load_model
from relx.models.marker import MarkerConfig, MarkerModel

DATA = Path(__file__).resolve().parents[1] / "data" / "semeval2010_task8"
pytestmark = pytest.mark.integration


def test_marker_minilm_on_semeval_slice(tmp_path):
    train = read(DATA / "TRAIN_FILE.TXT.gz", "semeval")
    test = read(DATA / "TEST_FILE_FULL.TXT.gz", "semeval")[:64]
    assert len(train) == 8000
    labels = LabelSet.from_documents(train, negative="Other")
    assert len(labels) == 19
    model = MarkerModel(MarkerConfig(mld=True, mse=True, max_length=64), labels)
    hist = model.fit(train[:64], None, max_steps=2, batch_size=32, progress=False, num_threads=2)
    assert hist["step"] == 2
    preds = model.predict(test)
    metrics = score_documents(test, preds, labels, scheme="semeval")
    assert 0.0 <= metrics["official_macro_f1"] <= 1.0 and metrics["n"] == 64
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m").predict(test)
    assert [d.meta["pair_label"] for d in again] == [d.meta["pair_label"] for d in preds]
