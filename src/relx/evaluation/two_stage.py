"""Fit and score the two-stage SVM in one call: headline numbers, stage-wise reports and timings."""

from __future__ import annotations

import time
from typing import Any

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.models.svm2stage import RELATION, Svm2StageConfig, Svm2StageModel


def evaluate_two_stage(
    config: Svm2StageConfig,
    train: list[Document],
    dev: list[Document] | None,
    test: list[Document],
    negative: str,
    scheme: str = "tacred",
    metric: str = "micro_f1",
) -> tuple[dict[str, Any], list[Document], Svm2StageModel]:
    """Fit on ``train`` (C per stage chosen on ``dev`` when ``config.c_grid``), then score ``test``.

    Returns (headline numbers, test predictions, model). Timings are wall-clock seconds on this
    machine; ``sentences_per_second`` covers featurisation + both stages on the test documents.
    """
    labels = LabelSet.from_documents(train + (dev or []), negative=negative)
    model = Svm2StageModel(config, labels)
    hist = model.fit(train, dev, scheme=scheme, metric=metric)
    t0 = time.perf_counter()
    preds = model.predict(test)
    seconds = time.perf_counter() - t0
    rep = model.stage_reports(test, scheme)
    pipe, binary, multi = rep["pipeline"], rep["binary"], rep["multiclass"]
    keys = ("micro_p", "micro_r", "micro_f1", "macro_f1", "accuracy", "official_macro_f1", "official_micro_f1")
    out = {
        "c_detect": config.c_detect,
        "c_classify": config.c_classify,
        "dev_metric": metric,
        "dev": hist["best"],
        "train_docs": len(train),
        "dev_docs": len(dev or []),
        "test_docs": len(test),
        "train_seconds": hist["train_seconds"],
        "predict_seconds": seconds,
        "sentences_per_second": len(test) / max(seconds, 1e-9),
        "n_features": model.features(test[:1]).shape[1],
        "notes": [] if model.cues is None else model.cues.notes,
        "test": {k: pipe[k] for k in keys if k in pipe},
        "binary": {
            "accuracy": binary["accuracy"],
            "macro_f1": binary["macro avg"]["f1"],
            "weighted_f1": binary["weighted avg"]["f1"],
            "relation": binary["classes"].get(RELATION),
            "negative": binary["classes"].get(negative),
        },
        "multiclass": {"accuracy": multi["accuracy"], "macro_f1": multi["macro avg"]["f1"], "weighted_f1": multi["weighted avg"]["f1"]},
        "all_data": rep["all_data"]["rows"],
        "relation_only": rep["relation_only"]["rows"],
    }
    return out, preds, model
