"""Cascade: any registered model detects relations, any registered model classifies them.

The two-stage regime of ``lstm-bert-gpt2-svm_tacred.txt`` (section 4 and appendix A.1) made generic:

* the **detector** is trained on binary labels: every positive pair label becomes ``relation_label``
  (default ``"relation"``), the negative class stays;
* the **classifier** is trained on the documents with a gold relation only (relation-only regime),
  with the full label set;
* ``predict`` runs the classifier on the documents the detector marks as relations; the others get
  the negative class. ``pair_score`` = detector score x classifier score for a relation, the
  detector's score of the negative class otherwise (``meta["relation_score"]`` keeps the
  detector's own score of its decision).

Config::

    model:
      type: cascade
      detector: {type: svm2stage, c_detect: 0.1}      # any registered model + its config keys
      classifier: {type: marker, marker_style: typed_punct}
      detector_trainer: {}     # TrainerConfig overrides for the detector (epochs, lr, ...)
      classifier_trainer: {}   # ... and for the classifier

Each stage is saved with its own normal ``save`` in ``detector/`` and ``classifier/`` and loaded
with :func:`relx.models.loading.load_model`. Sentence-level documents (entities[0], entities[1]) only.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relx.config import from_dict
from relx.data.labels import LabelSet, is_negative
from relx.data.schema import Document, Relation
from relx.errors import RelxConfigError
from relx.models.base import Decoded, ModelKind, REModel, assign_predictions, pair_prediction, register
from relx.models.loading import blank_model
from relx.registry import MODELS
from relx.training.config import FitContext


@dataclass
class CascadeConfig:
    detector: dict = field(default_factory=lambda: {"type": "svm2stage"})  # registered type + its config
    classifier: dict = field(default_factory=lambda: {"type": "svm2stage"})  # registered type + its config
    relation_label: str = "relation"  # the detector's single positive label
    detector_trainer: dict = field(default_factory=dict)  # TrainerConfig / fit kwarg overrides for the detector
    classifier_trainer: dict = field(default_factory=dict)  # ... for the classifier


def build_stage(spec: dict, labels: LabelSet, where: str) -> REModel:
    """Instantiate ``{type: name, **config}`` with ``labels``."""
    spec = dict(spec or {})
    name = spec.pop("type", None)
    if not name:
        raise RelxConfigError(f"{where}.type is required (see `relx models`)")
    if name == "cascade":
        raise RelxConfigError(f"{where}: a cascade cannot contain a cascade")
    cls = MODELS.get(name)
    return cls(from_dict(cls.Config, spec, f"{where} ({name})"), labels)


@register("cascade")
class CascadeModel(REModel):
    """Detector (relation vs negative) then classifier (relation type), each any registered model."""

    Config = CascadeConfig
    kind = ModelKind.PAIR

    def __init__(self, config: CascadeConfig, labels: LabelSet, detector: REModel | None = None, classifier: REModel | None = None):
        super().__init__(config, labels)
        self.detector = detector or build_stage(config.detector, self.detector_labels(), "config.model.detector")
        self.classifier = classifier or build_stage(config.classifier, labels, "config.model.classifier")

    def detector_labels(self) -> LabelSet:
        return LabelSet([self.config.relation_label], negative=self.labels.negative)

    # --- data views --------------------------------------------------------------
    def binary_docs(self, docs: list[Document]) -> list[Document]:
        """Copies whose relation is ``relation_label`` (entities 0 -> 1) when the pair has any relation."""
        out = []
        for d in docs:
            new = copy.copy(d)
            new.relations = [] if is_negative(d, self.labels) else [Relation(0, 1, self.config.relation_label)]
            out.append(new)
        return out

    def relation_docs(self, docs: list[Document]) -> list[Document]:
        return [d for d in docs if not is_negative(d, self.labels)]

    # --- training / prediction ------------------------------------------------------
    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        """Train the detector on binary labels, then the classifier on the gold relations (each in ``out_dir/<stage>``)."""
        t0 = time.perf_counter()
        dev_bin = self.binary_docs(dev) if dev else None
        h_det = self.detector.fit(self.binary_docs(train), dev_bin, ctx.for_stage("detector", self.config.detector_trainer))
        dev_rel = self.relation_docs(dev) if dev else None
        h_cls = self.classifier.fit(self.relation_docs(train), dev_rel or None, ctx.for_stage("classifier", self.config.classifier_trainer))
        metric = ctx.metric
        best = None
        if dev:
            from relx.training.trainer import dev_metrics

            best = dev_metrics(dev, self.predict(dev), self.labels, ctx.trainer).get(metric)
        return {
            "train_seconds": time.perf_counter() - t0,
            "best": best,
            "best_step": 0,
            "metric": metric,
            "step": int((h_det or {}).get("step") or 0) + int((h_cls or {}).get("step") or 0),
            "history": {"detector": h_det, "classifier": h_cls},
        }

    def predict(self, docs: list[Document], batch_size: int = 64, engine: Any = None) -> list[Document]:
        """Classifier on the documents the detector marks as relations; meta: pair_label, pair_score, relation_score."""
        det = self.detector.predict(docs, batch_size=batch_size, engine=engine)
        neg = self.labels.negative
        hits = [i for i, p in enumerate(det) if p.meta.get("pair_label", neg) != neg]
        cls = dict(zip(hits, self.classifier.predict([docs[i] for i in hits], batch_size=batch_size, engine=engine))) if hits else {}
        preds: list[Decoded] = []
        for i, d in enumerate(det):
            d_score = float(d.meta.get("pair_score", 1.0))
            label, score = neg, d_score
            if i in cls:
                label = cls[i].meta.get("pair_label", neg)
                score = d_score * float(cls[i].meta.get("pair_score", 1.0))
            preds.append(pair_prediction(self.labels, label if label in self.labels else neg, score, relation_score=d_score))
        return assign_predictions(docs, preds)

    # --- persistence ---------------------------------------------------------------------
    def save_weights(self, directory: Path) -> None:
        self.detector.save(directory / "detector")
        self.classifier.save(directory / "classifier")

    @classmethod
    def blank(cls, directory: Path, config: CascadeConfig, labels: LabelSet) -> CascadeModel:
        return cls(
            config, labels, detector=blank_model(Path(directory) / "detector"), classifier=blank_model(Path(directory) / "classifier")
        )

    def load_weights(self, directory: Path) -> None:
        """Each stage restores itself from its own subdirectory."""
        self.detector.restore(Path(directory) / "detector")
        self.classifier.restore(Path(directory) / "classifier")

    def to(self, device: Any) -> CascadeModel:
        """Move torch stages to ``device`` (feature models stay where they are)."""
        for stage in (self.detector, self.classifier):
            if hasattr(stage, "to"):
                stage.to(device)
        return self
