"""Two-stage SVM (appendix A.1 of ``lstm-bert-gpt2-svm_tacred.txt``).

Stage 1 is a binary SVM, relation vs negative, trained on every document. Stage 2 is a multi-class
SVM over the relation labels, trained on the gold relations only and applied to the documents stage
1 marks as relations. Both read the same features: per-segment TF-IDF (subject / between / object
word n-grams, :class:`relx.features.SegmentTfidf`) side by side with the syntax cue block
(:class:`relx.features.SyntaxFeatures`: entity types, POS between, dependency path...).

* ``kernel: linear`` uses ``LinearSVC`` (one-vs-rest); ``kernel: rbf`` uses ``SVC``. Only linear
  models can be saved: their weights are stored as float32 ``coef``/``intercept`` arrays in
  model.safetensors and the vocabularies/idf/class lists as JSON, nothing pickled. Predictions always
  use those float32 arrays, so a reloaded model gives bit-identical decision values. Saving an rbf
  model raises RelxConfigError (support vectors would have to be re-implemented; use linear).
* Scores: SVM margins are not probabilities. ``meta["relation_score"]`` = sigmoid(stage-1 margin);
  stage 2 turns its one-vs-rest margins into a softmax. ``meta["pair_score"]`` is the score of the
  predicted label: ``sigmoid(m1) * softmax(m2)[label]`` for a relation, ``1 - sigmoid(m1)`` for
  the negative class.
* Degenerate stages: training data without negatives (relation-only regime) gives a stage 1 that
  always says "relation"; a single relation label gives a constant stage 2. So the model also works
  as the detector or the classifier of a ``cascade``.
* ``c_grid`` + a dev set: ``fit`` picks C per stage on dev (:meth:`Svm2StageModel.select_c_on_dev`)
  by the trainer's ``metric``/``scheme``; the test set is never looked at.

Why not a ``cascade`` configuration: a cascade of two ``svm2stage`` stages (same settings) fits each
stage's TF-IDF / cue vocabulary on its own view of the data (the classifier sees only relation
documents) and selects C per stage on that stage's dev view, where this model shares one feature space
between the stages and selects (C1, C2) jointly on the end-to-end dev metric. Measured with
configs/semeval/svm2stage.yaml: official macro-F1 78.94 (dev 79.32) here vs 78.87 (dev 79.25) as a
cascade, so the numbers of benchmarks/RESULTS.md would change. Both share the pair contract and
:func:`relx.models.base.pair_prediction`.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxConfigError
from relx.evaluation.regimes import all_data_report, classification_table, relation_only_report
from relx.evaluation.scorer import score_documents, score_labels
from relx.features import SegmentTfidf, SyntaxFeatures
from relx.models.base import ModelKind, REModel, assign_predictions, pair_prediction, register
from relx.models.neural import save_atomically
from relx.training.config import FitContext

RELATION = "relation"


@dataclass
class Svm2StageConfig:
    kernel: str = "linear"  # linear (LinearSVC, saveable) | rbf (SVC, cannot be saved)
    c_detect: float = 1.0  # C of stage 1 (relation vs negative)
    c_classify: float = 1.0  # C of stage 2 (relation labels, trained on gold relations)
    class_weight_detect: str | None = None  # None | balanced
    class_weight_classify: str | None = None  # None | balanced
    c_grid: list[float] = field(default_factory=list)  # with a dev set: choose C per stage on dev from this grid
    detect_margin: float = 0.0  # stage 1 says "relation" when its margin is >= this (0: the SVM's own sign rule)
    margin_grid: list[float] = field(default_factory=list)  # with c_grid and a dev set: choose detect_margin on dev too
    ngram_max: int = 2  # word n-grams 1..ngram_max per segment
    min_df: int = 1
    max_features: int | None = None  # per segment
    sublinear_tf: bool = True
    syntax: bool = True  # POS / NER / dependency cues when the documents carry them (false: lexical cues only)
    syntax_weight: float = 1.0  # scale of the cue block next to the TF-IDF blocks (0: no cue block, pure TF-IDF)
    gamma: float | None = None  # rbf only (None = sklearn "scale")
    max_iter: int = 10000
    seed: int = 0


class Stage:
    """One SVM stage: class names plus float32 linear weights (or a fitted sklearn SVC for rbf)."""

    def __init__(self, classes: list[str], coef: np.ndarray | None = None, intercept: np.ndarray | None = None, estimator: Any = None):
        self.classes, self.coef, self.intercept, self.estimator = list(classes), coef, intercept, estimator

    def decision(self, X: sp.csr_matrix) -> np.ndarray:
        """Margins, (n, 1) for two classes (positive = classes[1]) or (n, k); (n, 0) for one class."""
        if len(self.classes) < 2:
            return np.zeros((X.shape[0], 0))
        if self.estimator is not None:
            return np.asarray(self.estimator.decision_function(X), dtype=np.float64).reshape(X.shape[0], -1)
        return np.asarray(X @ self.coef.T, dtype=np.float64) + self.intercept  # (n, k)

    def proba(self, X: sp.csr_matrix) -> np.ndarray:
        """(n, len(classes)) scores: sigmoid of the margin for two classes, softmax of margins otherwise."""
        m = self.decision(X)
        if len(self.classes) < 2:
            return np.ones((X.shape[0], len(self.classes)))
        if len(self.classes) == 2:
            pos = 1.0 / (1.0 + np.exp(-m[:, 0]))
            return np.stack([1.0 - pos, pos], axis=1)
        e = np.exp(m - m.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: sp.csr_matrix) -> list[str]:
        if not self.classes:
            return []
        return [self.classes[i] for i in self.proba(X).argmax(axis=1)]


def fit_stage(X: sp.csr_matrix, y: list[str], C: float, class_weight: str | None, cfg: Svm2StageConfig) -> Stage:
    """Fit one stage; a single class in ``y`` gives a constant stage."""
    classes = sorted(set(y))
    if len(classes) < 2:
        return Stage(classes, np.zeros((0, X.shape[1]), np.float32), np.zeros(0, np.float32))
    if cfg.kernel == "linear":
        from sklearn.svm import LinearSVC

        clf = LinearSVC(C=C, class_weight=class_weight, max_iter=cfg.max_iter, random_state=cfg.seed).fit(X, y)
        return Stage([str(c) for c in clf.classes_], clf.coef_.astype(np.float32), clf.intercept_.astype(np.float32))
    if cfg.kernel == "rbf":
        from sklearn.svm import SVC

        clf = SVC(C=C, kernel="rbf", gamma=cfg.gamma or "scale", class_weight=class_weight, random_state=cfg.seed).fit(X, y)
        return Stage([str(c) for c in clf.classes_], estimator=clf)
    raise RelxConfigError(f"svm2stage: unknown kernel {cfg.kernel!r} (linear | rbf)")


def relation_margin(stage: Stage, X: sp.csr_matrix) -> np.ndarray:
    """Stage 1's signed margin toward "relation" (n,): +inf / -inf for a constant stage that always / never says it."""
    if len(stage.classes) < 2:
        return np.full(X.shape[0], np.inf if RELATION in stage.classes else -np.inf)
    m = stage.decision(X)[:, 0]  # positive = classes[1]
    return m if stage.classes[1] == RELATION else -m


@register("svm2stage")
class Svm2StageModel(REModel):
    """Binary relation detector + multi-class relation classifier, both SVMs on TF-IDF + syntax features."""

    Config = Svm2StageConfig
    kind = ModelKind.PAIR

    def __init__(self, config: Svm2StageConfig, labels: LabelSet):
        super().__init__(config, labels)
        self.tfidf: SegmentTfidf | None = None
        self.cues: SyntaxFeatures | None = None
        self.detector: Stage | None = None
        self.classifier: Stage | None = None

    # --- features --------------------------------------------------------------
    def fit_features(self, train: list[Document]) -> None:
        """Learn TF-IDF vocabularies (and the cue vocabulary) on the training documents."""
        cfg = self.config
        self.tfidf = SegmentTfidf((1, cfg.ngram_max), cfg.min_df, max_features=cfg.max_features, sublinear_tf=cfg.sublinear_tf).fit(train)
        self.cues = SyntaxFeatures(syntax=cfg.syntax).fit(train) if cfg.syntax_weight else None

    def features(self, docs: list[Document]) -> sp.csr_matrix:
        """(n, d) CSR: segment TF-IDF blocks, then ``syntax_weight`` x the cue block."""
        if self.tfidf is None:
            raise RelxConfigError("svm2stage model is not fitted")
        blocks = [self.tfidf.transform(docs)]
        if self.cues is not None:
            blocks.append(self.cues.transform(docs) * self.config.syntax_weight)
        return sp.hstack(blocks, format="csr")

    def _binary(self, y: list[str]) -> list[str]:
        return [RELATION if lab != self.labels.negative else lab for lab in y]

    # --- training --------------------------------------------------------------
    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        """Fit both stages (choosing C on dev by ``ctx.metric`` / ``ctx.scheme`` when ``c_grid`` is set)."""
        t0 = time.perf_counter()
        scheme, metric = ctx.scheme, ctx.metric
        selection = None
        if self.config.c_grid and dev:
            selection = self.select_c_on_dev(train, dev, self.config.c_grid, scheme, metric)
        else:
            self.fit_features(train)
            X, y = self.features(train), [self.labels.pair_label(d) for d in train]
            pos = [i for i, lab in enumerate(y) if lab != self.labels.negative]
            self.detector = fit_stage(X, self._binary(y), self.config.c_detect, self.config.class_weight_detect, self.config)
            self.classifier = fit_stage(X[pos], [y[i] for i in pos], self.config.c_classify, self.config.class_weight_classify, self.config)
        seconds = time.perf_counter() - t0
        best = None
        if dev:
            from relx.training.trainer import dev_metrics

            best = dev_metrics(dev, self.predict(dev), self.labels, ctx.trainer).get(metric)
        return {
            "train_seconds": seconds,
            "best": best,
            "best_step": 0,
            "step": 1,
            "metric": metric,
            "history": [] if selection is None else selection["results"],
            "selection": selection,
        }

    def select_c_on_dev(
        self, train: list[Document], dev: list[Document], grid: list[float], scheme: str = "tacred", metric: str = "micro_f1"
    ) -> dict:
        """Fit features once, one stage per C in ``grid`` and stage; keep the pair of Cs best on dev.

        Every (C1, C2) combination is scored on dev by ``metric`` (a key of ``score_labels``); ties
        go to the first in grid order. The chosen Cs are written into ``self.config``.
        """
        cfg, neg = self.config, self.labels.negative
        self.fit_features(train)
        X, Xd = self.features(train), self.features(dev)
        y, yd = [self.labels.pair_label(d) for d in train], [self.labels.pair_label(d) for d in dev]
        pos = [i for i, lab in enumerate(y) if lab != neg]
        dets = {c: fit_stage(X, self._binary(y), c, cfg.class_weight_detect, cfg) for c in grid}
        clss = {c: fit_stage(X[pos], [y[i] for i in pos], c, cfg.class_weight_classify, cfg) for c in grid}
        margins = {c: relation_margin(s, Xd) for c, s in dets.items()}
        cls_pred = {c: s.predict(Xd) for c, s in clss.items()}
        results = []
        for c1, c2, t in itertools.product(grid, grid, [cfg.detect_margin, *[m for m in cfg.margin_grid if m != cfg.detect_margin]]):
            pred = [b if a >= t else neg for a, b in zip(margins[c1], cls_pred[c2])]
            results.append({"c_detect": c1, "c_classify": c2, "detect_margin": t, metric: score_labels(yd, pred, neg, scheme)[metric]})
        best = max(results, key=lambda r: r[metric])  # max keeps the first of equal values
        cfg.c_detect, cfg.c_classify, cfg.detect_margin = best["c_detect"], best["c_classify"], best["detect_margin"]
        self.detector, self.classifier = dets[cfg.c_detect], clss[cfg.c_classify]
        return {"metric": metric, "scheme": scheme, "grid": list(grid), "results": results, "best": best}

    # --- prediction ------------------------------------------------------------
    def _decide(self, X: sp.csr_matrix) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Pair labels, pair scores and relation scores for feature rows ``X``."""
        if self.detector is None or self.classifier is None:
            raise RelxConfigError("svm2stage model is not fitted")
        n, neg = X.shape[0], self.labels.negative
        margin = relation_margin(self.detector, X)  # (n,)
        rel = 1.0 / (1.0 + np.exp(-margin))
        is_rel = margin >= self.config.detect_margin
        labels, scores = [neg] * n, 1.0 - rel
        idx = np.flatnonzero(is_rel)
        if idx.size and self.classifier.classes:
            cp = self.classifier.proba(X[idx])  # (m, k)
            for j, i in enumerate(idx):
                labels[i] = self.classifier.classes[int(cp[j].argmax())]
                scores[i] = rel[i] * float(cp[j].max())
        return labels, scores, rel

    def predict(self, docs: list[Document], batch_size: int = 64, engine: Any = None) -> list[Document]:
        """Documents with the predicted relation; meta: pair_label, pair_score, relation_score."""
        labels, scores, rel = self._decide(self.features(docs)) if docs else ([], np.zeros(0), np.zeros(0))
        return assign_predictions(
            docs, [pair_prediction(self.labels, lab, float(s), relation_score=float(r)) for lab, s, r in zip(labels, scores, rel)]
        )

    # --- reports -----------------------------------------------------------------
    def stage_reports(self, docs: list[Document], scheme: str = "tacred") -> dict[str, Any]:
        """Stage 1 on all ``docs`` (Table 6 shape), stage 2 on the gold relations (Table 7 shape),
        the combined pipeline scores and the two evaluation regimes (Tables 4-5 shape)."""
        neg = self.labels.negative
        X, gold = self.features(docs), [self.labels.pair_label(d) for d in docs]
        detected = [RELATION if m >= self.config.detect_margin else neg for m in relation_margin(self.detector, X)]  # type: ignore[arg-type]
        binary = classification_table(self._binary(gold), detected, neg)
        pos = [i for i, lab in enumerate(gold) if lab != neg]
        multi = classification_table([gold[i] for i in pos], self.classifier.predict(X[pos]) if pos else [], neg, include_negative=False)  # type: ignore[union-attr]
        preds = self.predict(docs)
        return {
            "binary": binary,
            "multiclass": multi,
            "pipeline": score_documents(docs, preds, self.labels, scheme),
            "all_data": all_data_report(docs, preds, neg, scheme),
            "relation_only": relation_only_report(docs, preds, neg, scheme),
        }

    # --- persistence -------------------------------------------------------------
    def state_json(self) -> dict:
        if self.config.kernel != "linear":
            raise RelxConfigError(
                "svm2stage: only kernel: linear models can be saved (rbf support vectors are not stored); retrain with kernel: linear"
            )
        if self.tfidf is None or self.detector is None or self.classifier is None:
            raise RelxConfigError("svm2stage model is not fitted; nothing to save")
        return {
            "tfidf": self.tfidf.to_json(),
            "syntax": None if self.cues is None else self.cues.to_json(),
            "detector_classes": self.detector.classes,
            "classifier_classes": self.classifier.classes,
        }

    def save_weights(self, directory: Path) -> None:
        from safetensors.numpy import save_file

        arrays = {
            f"{name}.{part}": np.ascontiguousarray(getattr(stage, part), dtype=np.float32)
            for name, stage in (("detector", self.detector), ("classifier", self.classifier))
            for part in ("coef", "intercept")
        }
        save_atomically(directory / "model.safetensors", lambda tmp: save_file(arrays, tmp))

    def load_state_json(self, state: dict) -> None:
        self.tfidf = SegmentTfidf.from_json(state["tfidf"])
        self.cues = None if state.get("syntax") is None else SyntaxFeatures.from_json(state["syntax"])
        self._classes = {"detector": list(state["detector_classes"]), "classifier": list(state["classifier_classes"])}

    def weight_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the saved arrays implied by the restored JSON state: coef (k, features), intercept (k,),
        k = 0 for a one-class stage, 1 for two classes, else the number of classes."""
        n = self.tfidf.n_features + (self.cues.n_features if self.cues is not None else 0)
        shapes = {}
        for name, classes in self._classes.items():
            k = 0 if len(classes) < 2 else 1 if len(classes) == 2 else len(classes)
            shapes |= {f"{name}.coef": (k, n), f"{name}.intercept": (k,)}
        return shapes

    def load_weights(self, directory: Path) -> None:
        from safetensors.numpy import load_file

        from relx.models.persistence import check_safetensors

        path = Path(directory) / "model.safetensors"
        check_safetensors(path, self.weight_shapes())  # load_file reads the whole file: its header is checked against the state first
        w = load_file(str(path))
        self.detector, self.classifier = (Stage(self._classes[n], w[f"{n}.coef"], w[f"{n}.intercept"]) for n in ("detector", "classifier"))
