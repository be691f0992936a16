"""Experiment runner: YAML/dict config -> data -> model -> trainer -> dev/test scores -> saved model."""

from __future__ import annotations

import dataclasses
import logging
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relx.config import from_dict, to_dict
from relx.data.labels import LabelSet, is_negative
from relx.data.schema import Document
from relx.errors import RelxConfigError
from relx.registry import MODELS
from relx.training.config import EvaluationConfig, FitContext, TrainerConfig
from relx.utils import atomic_open, set_seed, write_json

log = logging.getLogger("relx.train")


@dataclass
class DataConfig:
    """Where the data comes from.

    With no ``dev`` file, ``dev_holdout`` training documents drawn at random with ``dev_seed`` become
    dev (a random draw, not the file's tail: SemEval's training file is ordered by annotation round,
    and its last 800 sentences have a very different label mix from the rest).
    """

    train: str = ""
    dev: str | None = None
    test: str | None = None
    format: str = "auto"
    negative: str = "no_relation"
    dev_holdout: int = 0
    dev_seed: int = 0
    relation_only: bool = False  # keep only documents with a relation in every split (two-stage regime, stage 2)
    max_neg_ratio: float | None = None  # under-sample TRAIN negatives to at most this many per positive (after dev holdout)
    max_test: int | None = None
    max_train_docs: int | None = None  # random training subset (seeded by trainer.seed, drawn once in REModel.fit)
    on_invalid: str = "error"  # invalid records: "error" stops at the first, "skip" drops them with a warning
    pairs: bool = False  # joint / triple data -> one document per ordered entity pair (`relx data pairs`), for pair classifiers

    def __post_init__(self) -> None:
        if self.on_invalid not in ("error", "skip"):
            raise RelxConfigError(f"config.data.on_invalid must be 'error' or 'skip', got {self.on_invalid!r}")


@dataclass
class RunConfig:
    """One run: the model section (``type`` + that model's Config fields), data, trainer (optimisation) and
    evaluation (scoring and dev selection) settings."""

    model: dict = field(default_factory=lambda: {"type": "marker"})
    data: DataConfig = field(default_factory=DataConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)


# Keys that moved out of ``trainer:``; the old place still works, with a one-line deprecation warning.
MOVED_KEYS = {"scheme": "evaluation", "metric": "evaluation", "symmetric": "evaluation", "max_train_docs": "data"}


def move_legacy_keys(raw: dict[str, Any]) -> None:
    """Move ``trainer.scheme/metric/symmetric`` to ``evaluation.*`` and ``trainer.max_train_docs`` to
    ``data.*`` in place, warning once per key on stderr; a key set in both places to different values is a
    RelxConfigError."""
    trainer = raw.get("trainer")
    if not isinstance(trainer, dict):
        return
    for key in [k for k in MOVED_KEYS if k in trainer]:
        section = MOVED_KEYS[key]
        target = raw.setdefault(section, {})
        if not isinstance(target, dict):
            return
        value = trainer.pop(key)
        if key in target and target[key] != value:
            raise RelxConfigError(
                f"config.trainer.{key} moved to {section}.{key}, which is also set (to {target[key]!r}): keep only {section}.{key}"
            )
        target[key] = value
        print(f"relx: warning: config.trainer.{key} is deprecated; write {section}.{key}", file=sys.stderr)


@dataclass
class RunResult:
    """What one run produced. ``summary`` is what ``result.json`` holds (test metrics under ``"test"``); the
    trained model, its labels, the run settings in force (``config``, e.g. ``trainer.symmetric`` filled in)
    and the splits are kept for callers that score further (dev predictions, triples, bootstrap)."""

    summary: dict[str, Any]
    model: Any
    labels: LabelSet
    config: RunConfig
    train: list[Document]
    dev: list[Document] | None
    test: list[Document] | None
    predictions: list[Document] | None = None  # test predictions (also in test_predictions.jsonl)
    model_dir: Path | None = None  # where the model was saved (None on a torchrun worker)

    @property
    def metrics(self) -> dict[str, Any] | None:
        """The test scores (None without a test split)."""
        return self.summary.get("test")


def parse_run_config(raw: dict[str, Any]) -> tuple[RunConfig, type, Any]:
    """Validate the four sections (keys moved out of ``trainer:`` are moved first, see ``move_legacy_keys``);
    returns (run config, model class, model config)."""
    move_legacy_keys(raw)
    cfg = from_dict(RunConfig, raw, "config")
    model_raw = dict(cfg.model)
    mtype = model_raw.pop("type", None)
    if not mtype:
        raise RelxConfigError("config.model.type is required (see `relx models`)")
    cls = MODELS.get(mtype)
    cfg.evaluation.validate()
    ev = cfg.evaluation  # the fit contract (FitContext) carries selection settings and the subset size in TrainerConfig
    cfg.trainer = dataclasses.replace(
        cfg.trainer, scheme=ev.scheme, metric=ev.metric, symmetric=list(ev.symmetric), max_train_docs=cfg.data.max_train_docs
    )
    cfg.trainer.validate()
    return cfg, cls, from_dict(cls.Config, model_raw, f"config.model ({mtype})")


def load_splits(data: DataConfig) -> tuple[list[Document], list[Document] | None, list[Document] | None, dict[str, int]]:
    """Read train/dev/test; carve dev from train when asked. The 4th value counts the invalid records
    skipped per split file under ``data.on_invalid: skip`` ({"train": n, "dev": n, "test": n})."""
    from relx.data.io import read_with_report

    invalid = {"train": 0, "dev": 0, "test": 0}

    def read(path: str, split: str) -> list[Document]:
        docs, report = read_with_report(path, data.format, on_invalid=data.on_invalid)
        invalid[split] = report.skipped
        return docs

    if not data.train:
        raise RelxConfigError("config.data.train is required")
    train = read(data.train, "train")
    dev = read(data.dev, "dev") if data.dev else None
    if dev is None and data.dev_holdout:
        if data.dev_holdout >= len(train):
            raise RelxConfigError(f"data.dev_holdout={data.dev_holdout} leaves no training data ({len(train)} documents)")
        picked = set(random.Random(data.dev_seed).sample(range(len(train)), data.dev_holdout))
        dev = [d for i, d in enumerate(train) if i in picked]
        train = [d for i, d in enumerate(train) if i not in picked]
    test = read(data.test, "test") if data.test else None
    if test is not None and data.max_test:
        test = test[: data.max_test]
    if data.pairs:
        train, dev, test = (None if s is None else to_pair_documents(s, data.negative) for s in (train, dev, test))
    if data.relation_only:
        train, dev, test = (None if s is None else [d for d in s if not is_negative(d, data.negative)] for s in (train, dev, test))
    return train, dev, test, invalid


def to_pair_documents(docs: list[Document], negative: str) -> list[Document]:
    """``data.pairs``: every ordered entity pair of every sentence as a two-entity document (see relx.data.pairs)."""
    from relx.data.pairs import to_pairs

    pairs, summary = to_pairs(docs, negative)
    for line in summary.lines():
        log.info("data.pairs: %s", line)
    return pairs


def apply_undersampling(train: list[Document], labels: LabelSet, data: DataConfig) -> tuple[list[Document], int]:
    """Under-sample negatives of the training split when ``data.max_neg_ratio`` is set; returns (docs, #dropped)."""
    if data.max_neg_ratio is None:
        return train, 0
    from relx.data.sampling import undersample_negatives

    n_neg = sum(1 for d in train if is_negative(d, labels))
    kept = undersample_negatives(train, labels, data.max_neg_ratio, seed=data.dev_seed)
    dropped = len(train) - len(kept)
    log.info(
        "max_neg_ratio=%s: dropped %d of %d training negatives; %d training documents left", data.max_neg_ratio, dropped, n_neg, len(kept)
    )
    return kept, dropped


def run_experiment(
    raw: dict[str, Any], out_dir: str | Path, resume: bool = False, verbose: bool = True, origin: str | None = None
) -> RunResult:
    """Train and evaluate one configuration (the only place a run happens: ``relx train``, the demo, ``relx
    bench``, ``relx zoo build`` and the benchmark scripts all come here); the model is saved in ``out_dir/model``
    with its model card (README.md, :mod:`relx.models.card`; ``origin`` is the command that rebuilds it)."""
    import copy

    from relx.evaluation.scorer import format_report, score_documents

    raw_config = copy.deepcopy(raw)  # for the model card, before parsing moves legacy keys
    cfg, cls, model_cfg = parse_run_config(raw)
    out = Path(out_dir)
    set_seed(cfg.trainer.seed)
    train, dev, test, invalid = load_splits(cfg.data)
    if cfg.trainer.scheme == "joint" and not cfg.trainer.symmetric and cfg.data.format in ("spert", "auto"):
        from relx.data.readers.spert_types import symmetric_beside

        cfg.evaluation.symmetric = sorted(symmetric_beside(cfg.data.train)[0])  # from the SpERT types file beside the data
        cfg.trainer.symmetric = list(cfg.evaluation.symmetric)
    labels = cls.build_labels(train + (dev or []), cfg.data.negative)
    train, dropped = apply_undersampling(train, labels, cfg.data)
    if verbose and cfg.data.max_neg_ratio is not None:
        print(f"max_neg_ratio={cfg.data.max_neg_ratio}: dropped {dropped} training negatives, {len(train)} training documents left")
    model = cls(model_cfg, labels)
    if dev is not None and not cfg.data.dev:
        with atomic_open(out / "dev_ids.txt") as fh:
            fh.write("".join(f"{d.id}\n" for d in dev))
    history = model.fit(train, dev, FitContext(cfg.trainer, out, resume))
    from relx.training.distributed import is_main_process

    done = RunResult({}, model, labels, cfg, train, dev, test)
    if not is_main_process():  # torchrun: rank 0 scores test and writes the results
        done.summary = {"model": cls.registered_name, "best_dev": history["best"], "rank": "worker"}
        return done
    result: dict[str, Any] = {
        "model": cls.registered_name,
        "config": to_dict(model_cfg),
        "trainer": to_dict(cfg.trainer),
        "data": to_dict(cfg.data),
        "evaluation": to_dict(cfg.evaluation),
        "train_docs": min(len(train), cfg.trainer.max_train_docs or len(train)),
        "dev_docs": len(dev or []),
        "train_seconds": history["train_seconds"],
        "train_negatives_dropped": dropped,
        "best_dev": history["best"],
        "best_step": history["best_step"],
        "steps": history["step"],
        "invalid_records_skipped": invalid,
        **{k: history[k] for k in ("threshold", "teacher") if history.get(k)},  # kernel: dev threshold sweep; students: the teacher stage
    }
    done.summary = result
    if test:
        t0 = time.perf_counter()
        preds = done.predictions = model.predict(test, batch_size=cfg.trainer.eval_batch_size)
        result["test_seconds"] = time.perf_counter() - t0
        metrics = score_documents(test, preds, labels, scheme=cfg.trainer.scheme, symmetric=cfg.trainer.symmetric)
        result["test"] = metrics
        if verbose:
            print(format_report(metrics, title=f"test ({len(test)} documents, scheme {cfg.trainer.scheme})"))
        from relx.data.schema import write_jsonl

        write_jsonl(out / "test_predictions.jsonl", preds)
    done.model_dir = out / "model"
    model.save(done.model_dir, metrics=result, card=run_card(result, model, labels, raw_config, test, origin))
    write_json(out / "result.json", result)
    return done


def run_card(
    result: dict[str, Any], model: Any, labels: LabelSet, raw: dict[str, Any], test: list[Document] | None, origin: str | None
) -> str:
    """The model card (README.md) of a finished run: see :func:`relx.models.card.render_card`."""
    from relx.models.card import render_card

    relation_labels = [lab for lab in labels.labels if lab != labels.negative]
    profile = getattr(model, "profile", None) or {}
    kind = getattr(getattr(type(model), "kind", None), "value", "model")
    return render_card(result, relation_labels, profile.get("entity_types"), kind, raw, len(test) if test else None, origin)
