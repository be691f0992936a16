"""Training settings (TrainerConfig) and the typed fit contract (FitContext) every REModel.fit receives."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from relx.errors import RelxConfigError

HF_SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial")


@dataclass
class TrainerConfig:
    """Optimisation and selection settings shared by all neural models. In a run config ``metric``, ``scheme``
    and ``symmetric`` are written under ``evaluation:`` and ``max_train_docs`` under ``data:``;
    ``relx.training.run.parse_run_config`` copies them here, where ``REModel.fit`` reads them."""

    epochs: int = 3
    max_steps: int | None = None  # optimizer steps; caps epochs when set
    batch_size: int = 32
    eval_batch_size: int = 64
    lr: float = 5e-5
    head_lr: float | None = None  # lr of non-encoder layers (None = lr)
    weight_decay: float = 0.01
    scheduler: str = "linear"  # linear | cosine | constant | ... | any torch.optim.lr_scheduler class name
    scheduler_kwargs: dict = field(default_factory=dict)
    warmup_ratio: float | None = None  # None: 0.1 for linear/cosine/constant, 0 for torch schedulers
    grad_clip: float | None = 1.0
    grad_accum: int = 1
    amp: bool = True  # bf16 (or fp16 + scaler) autocast, CUDA only
    eval_every: int | None = None  # optimizer steps between dev evaluations (None = once per epoch)
    metric: str = "micro_f1"  # key of the scorer output used for selection (maximised); joint: e.g. re_strict_micro_f1
    scheme: str = "tacred"  # scorer semantics for dev evaluation: tacred | semeval | relations | joint (NER + RE, SpERT settings)
    symmetric: list[str] = field(default_factory=list)  # joint scheme: relation types scored order-free (SciERC Compare...)
    patience: int | None = None  # dev evaluations without improvement before stopping
    train_eval_docs: int = 0  # score this many training documents (fixed random sample) at every evaluation: train_fit_* in history.json
    seed: int = 13
    device: str = "auto"
    num_threads: int | None = None
    log_every: int = 50
    progress: bool = True
    max_train_docs: int | None = None  # random training subset (drawn once, in relx.training.run)

    def warmup(self) -> float:
        """The warmup fraction in force (see ``warmup_ratio``)."""
        if self.warmup_ratio is not None:
            return self.warmup_ratio
        return 0.1 if self.scheduler in HF_SCHEDULERS else 0.0

    def validate(self) -> None:
        """Raise RelxConfigError (naming the ``trainer.*`` key) for settings the Trainer cannot honour."""
        import torch

        for key in ("epochs", "batch_size", "eval_batch_size", "grad_accum"):
            if getattr(self, key) < 1:
                raise RelxConfigError(f"trainer.{key}: must be >= 1, got {getattr(self, key)}")
        name = self.scheduler
        if name not in HF_SCHEDULERS:
            cls = getattr(torch.optim.lr_scheduler, name, None)
            if not (
                isinstance(cls, type)
                and issubclass(cls, (torch.optim.lr_scheduler.LRScheduler, torch.optim.lr_scheduler.ReduceLROnPlateau))
            ):
                raise RelxConfigError(
                    f"trainer.scheduler: unknown scheduler {name!r}; use one of {', '.join(HF_SCHEDULERS)} "
                    "or a torch.optim.lr_scheduler class name (e.g. ReduceLROnPlateau, StepLR)"
                )
            if name == "ReduceLROnPlateau" and self.warmup() > 0:
                raise RelxConfigError("trainer.warmup_ratio: ReduceLROnPlateau cannot be combined with warmup; set trainer.warmup_ratio: 0")
        if not 0 <= self.warmup() < 1:
            raise RelxConfigError(f"trainer.warmup_ratio: must be in [0, 1), got {self.warmup_ratio}")
        self.validate_selection()

    def validate_selection(self) -> None:
        """Raise RelxConfigError (one line) for an unknown ``scheme`` or a ``metric`` that scheme does not report."""
        EvaluationConfig(self.metric, self.scheme, self.symmetric).validate("trainer")


@dataclass
class EvaluationConfig:
    """How a run is scored: the ``evaluation:`` section of a run config. Dev selection maximises ``metric``
    of ``scheme``; test is scored with the same scheme. (The fit contract, FitContext, carries the three
    values in its TrainerConfig for the models.)"""

    metric: str = "micro_f1"  # key of the scorer output used for selection (maximised); joint: e.g. re_strict_micro_f1
    scheme: str = "tacred"  # tacred | semeval | relations | joint (NER + RE, SpERT settings)
    symmetric: list[str] = field(default_factory=list)  # joint scheme: relation types scored order-free (SciERC Compare...)

    def validate(self, section: str = "evaluation") -> None:
        """Raise RelxConfigError (one line, naming ``section.key``) for an unknown scheme or a metric it does not report."""
        from relx.evaluation.scorer import DOCUMENT_SCHEMES, scheme_metrics

        if self.scheme not in DOCUMENT_SCHEMES:
            raise RelxConfigError(f"{section}.scheme: unknown scheme {self.scheme!r} (choose from {', '.join(DOCUMENT_SCHEMES)})")
        known = scheme_metrics(self.scheme)
        if self.metric not in known:
            raise RelxConfigError(
                f"{section}.metric: scheme {self.scheme!r} has no metric {self.metric!r} (choose from {', '.join(known)})"
            )


def subsample(train: list[Any], trainer: TrainerConfig) -> list[Any]:
    """The random training subset of ``trainer.max_train_docs`` (seeded by ``trainer.seed``); drawn once, in
    ``REModel.fit``, for every model family."""
    if trainer.max_train_docs and len(train) > trainer.max_train_docs:
        import random

        return random.Random(trainer.seed).sample(train, trainer.max_train_docs)
    return train


@dataclass
class FitContext:
    """What every ``REModel.fit`` gets: trainer settings (scheme, metric and seed live there), the run
    directory for checkpoints and whether to resume from it. Training subsets are drawn before fit."""

    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    out_dir: Path | None = None
    resume: bool = False

    @property
    def scheme(self) -> str:
        return self.trainer.scheme

    @property
    def metric(self) -> str:
        return self.trainer.metric

    @property
    def seed(self) -> int:
        return self.trainer.seed

    @classmethod
    def make(cls, ctx: FitContext | None = None, **overrides: Any) -> FitContext:
        """``ctx`` (or a default one) with ``out_dir`` / ``resume`` / TrainerConfig fields overridden.

        Unknown names are errors, never ignored."""
        ctx = ctx or cls()
        own = {k: overrides.pop(k) for k in ("out_dir", "resume") if k in overrides}
        names = {f.name for f in dataclasses.fields(TrainerConfig)}
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise RelxConfigError(f"fit(): unknown setting(s) {', '.join(unknown)} (TrainerConfig fields: {', '.join(sorted(names))})")
        trainer = dataclasses.replace(ctx.trainer, **overrides) if overrides else ctx.trainer
        out_dir = own.get("out_dir", ctx.out_dir)
        return cls(trainer, Path(out_dir) if out_dir is not None else None, bool(own.get("resume", ctx.resume)))

    def for_stage(self, name: str, overrides: dict) -> FitContext:
        """A sub-context for one stage of a composite model: own ``out_dir/name`` and trainer overrides."""
        sub = FitContext.make(self, **overrides)
        sub.out_dir = self.out_dir / name if self.out_dir is not None else None
        return sub
