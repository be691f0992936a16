"""One generic training loop for every NeuralREModel."""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from relx.data.schema import Document
from relx.models.base import ModelOutput
from relx.models.neural import NeuralREModel, to_device
from relx.training.checkpoint import check_resumable, has_checkpoint, load_checkpoint, save_checkpoint
from relx.training.config import HF_SCHEDULERS, FitContext, TrainerConfig
from relx.utils import resolve_device, set_seed, write_json

__all__ = ["FitContext", "TrainState", "Trainer", "TrainerConfig"]
log = logging.getLogger("relx.train")


def dev_metrics(dev: list[Document], preds: list[Document], labels: Any, cfg: TrainerConfig) -> dict:
    """The one way a fit scores its dev predictions (the Trainer's evaluations, threshold / C selection,
    the cascade): ``score_documents`` with the trainer's ``scheme`` and ``symmetric`` relation types."""
    from relx.evaluation.scorer import score_documents

    return score_documents(dev, preds, labels, scheme=cfg.scheme, symmetric=cfg.symmetric)


@dataclass
class TrainState:
    """Progress of one run; saved in every checkpoint and restored by ``--resume``."""

    step: int = 0  # optimizer steps taken
    epoch: int = 0  # finished epochs
    batch_in_epoch: int = 0  # micro-batches of the current epoch already consumed
    best: float | None = None  # best dev metric so far
    best_step: int | None = None
    bad_evals: int = 0  # dev evaluations since the last improvement
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0


class _Losses:
    """Running sums of the loss and every auxiliary loss, kept on the device (read only when logged)."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.n = 0

    def add(self, out: ModelOutput) -> None:
        self.n += 1
        for k, v in {"loss": out.loss, **out.extras}.items():
            v = v.detach()
            self.sums[k] = self.sums[k] + v if k in self.sums else v.clone()

    def means(self) -> dict[str, float]:
        return {k: float(v) / self.n for k, v in self.sums.items()} if self.n else {}


class Trainer:
    """fit(model, train, dev) with warmup, clipping, accumulation, AMP, early stopping, atomic checkpoints."""

    def __init__(self, config: TrainerConfig | None = None):
        self.cfg = config or TrainerConfig()
        self.cfg.validate()

    # --- setup -------------------------------------------------------------------------
    def _optimizer(self, model: NeuralREModel, device: str) -> torch.optim.Optimizer:
        groups = model.optimizer_groups(self.cfg.lr, self.cfg.head_lr, self.cfg.weight_decay)
        # fused AdamW: one kernel per step on CUDA and CPU (on 2 CPU threads ~8x faster than the foreach
        # path for MiniLM, a tenth of a training step)
        return torch.optim.AdamW(groups, lr=self.cfg.lr, fused=device.startswith(("cuda", "cpu")))

    def _scheduler(self, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        """HF schedule (linear/cosine/constant with warmup) or a torch scheduler (warmup chained in front)."""
        name, warmup = self.cfg.scheduler, int(self.cfg.warmup() * total_steps)
        if name in HF_SCHEDULERS:
            from transformers import get_scheduler

            name = "constant_with_warmup" if name == "constant" else name
            return get_scheduler(name, optimizer, num_warmup_steps=warmup, num_training_steps=max(total_steps, 1))
        lrs = torch.optim.lr_scheduler
        if name == "ReduceLROnPlateau":  # stepped with the dev metric, which is maximised
            return lrs.ReduceLROnPlateau(optimizer, **{**self.cfg.scheduler_kwargs, "mode": "max"})
        sched = getattr(lrs, name)(optimizer, **self.cfg.scheduler_kwargs)
        if warmup <= 0:
            return sched
        ramp = lrs.LinearLR(optimizer, start_factor=1.0 / (warmup + 1), total_iters=warmup)
        return lrs.SequentialLR(optimizer, [ramp, sched], milestones=[warmup])

    def _epoch_batches(self, model: NeuralREModel, feats: list[dict], epoch: int) -> list[list[int]]:
        """Length-bucketed, shuffled batches; deterministic per (seed, epoch) so resume can skip."""
        rng = random.Random(self.cfg.seed * 1000 + epoch)
        order = sorted(range(len(feats)), key=lambda i: model.feature_length(feats[i]) + rng.random() * 4)
        batches = [order[s : s + self.cfg.batch_size] for s in range(0, len(order), self.cfg.batch_size)]
        rng.shuffle(batches)
        return batches

    def _autocast(self, device: str) -> Any:
        if self.cfg.amp and device.startswith("cuda"):
            return torch.autocast("cuda", dtype=torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
        return torch.autocast("cpu", enabled=False)

    def _featurize(self, model: NeuralREModel, docs: list[Document], desc: str) -> list[dict]:
        chunk = 2048
        parts = range(0, len(docs), chunk)
        bar = tqdm(parts, desc=desc, disable=not self.cfg.progress or len(docs) <= chunk, leave=False)
        return [f for s in bar for f in model.featurize_many(docs[s : s + chunk])]

    # --- main loop -----------------------------------------------------------------------
    def fit(
        self,
        model: NeuralREModel,
        train: list[Document],
        dev: list[Document] | None = None,
        out_dir: str | Path | None = None,
        resume: bool = False,
    ) -> dict:
        """Train ``model`` in place; returns history, best dev metric and timings. Best dev weights are restored."""
        cfg = self.cfg
        set_seed(cfg.seed)
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        from relx.training import distributed

        device = distributed.local_device(resolve_device(cfg.device))
        self.dist = distributed.from_env(device)
        self.out = Path(out_dir) if out_dir else None
        resuming = bool(resume and self.out and has_checkpoint(self.out / "last"))
        if resuming:
            check_resumable(self.out / "last", model, cfg)
            model.restore(self.out / "last")  # state JSON, rebuilt layers, weights: before featurizing
        else:
            model.prepare(train)
        model.to(device)
        self.model, self.device, self.dev = model, device, dev
        self.net = self.dist.wrap(model, device)  # DDP under torchrun, else the model itself
        self.feats = self._featurize(model, train, "featurize")
        self.dev_feats = self._featurize(model, dev, "featurize dev") if dev else None
        self.fit_sample = self._fit_sample(train)  # train curve: (docs, feats) scored at every evaluation, or None
        steps_per_epoch = math.ceil(math.ceil(len(self.feats) / cfg.batch_size) / cfg.grad_accum)
        self.total = cfg.max_steps or steps_per_epoch * cfg.epochs
        self.optimizer = self._optimizer(model, device)
        self.scheduler = self._scheduler(self.optimizer, self.total)
        bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        self.scaler = torch.amp.GradScaler("cuda", enabled=cfg.amp and device.startswith("cuda") and not bf16)
        st = TrainState()
        if resuming:
            st = TrainState(**load_checkpoint(self.out / "last", self.optimizer, self.scheduler))  # type: ignore[operator]
            log.info("resumed from %s at step %d", self.out / "last", st.step)
        self.best_state: dict | None = None
        self.t0 = time.perf_counter() - st.train_seconds
        self.bar = tqdm(
            total=self.total, initial=st.step, desc="train", disable=not cfg.progress or not self.dist.is_main, dynamic_ncols=True
        )
        self.window = _Losses()  # train losses since the last dev evaluation (history.json)
        stop = st.step >= self.total
        while not stop and (cfg.max_steps or st.epoch < cfg.epochs):
            stop = self._epoch(st)
        self.bar.close()
        if not st.history or st.history[-1]["step"] != st.step:  # final evaluation
            self._evaluate(st)
        st.train_seconds = time.perf_counter() - self.t0
        self._restore_best(st)
        return {
            "best": st.best,
            "best_step": st.best_step,
            "history": st.history,
            "train_seconds": st.train_seconds,
            "step": st.step,
            "metric": cfg.metric,
        }

    def _epoch(self, st: TrainState) -> bool:
        """Run (the rest of) one epoch; returns True when training must stop."""
        cfg, model = self.cfg, self.model
        batches = self._epoch_batches(model, self.feats, st.epoch)
        model.train()
        running = _Losses()  # progress-bar losses, reset every log_every steps
        for b in range(st.batch_in_epoch, len(batches)):
            window_start = b - b % cfg.grad_accum
            window = min(cfg.grad_accum, len(batches) - window_start)  # the last window may be shorter
            batch = to_device(model.collate([self.feats[i] for i in self.dist.shard(batches[b])]), self.device)
            model.train_fraction = st.step / max(self.total, 1)  # share of the optimizer steps done (annealing schedules)
            with self._autocast(self.device):
                output = self.net(batch)
            self.scaler.scale(output.loss / window).backward()
            running.add(output)
            self.window.add(output)
            st.batch_in_epoch = b + 1
            if b + 1 < window_start + window:
                continue
            self._step()
            st.step += 1
            self.bar.update(1)
            if st.step % cfg.log_every == 0 or st.step == 1:
                self.bar.set_postfix({k: f"{v:.4f}" for k, v in running.means().items()})
                running = _Losses()
            if cfg.eval_every and st.step % cfg.eval_every == 0 and self._evaluate(st):
                return True
            if st.step >= self.total:
                if b + 1 == len(batches):  # the last step ended the epoch too: its evaluation row names this epoch
                    st.epoch, st.batch_in_epoch = st.epoch + 1, 0
                return True
        st.epoch, st.batch_in_epoch = st.epoch + 1, 0
        return not cfg.eval_every and self._evaluate(st)

    def _fit_sample(self, train: list[Document]) -> tuple[list[Document], list[dict]] | None:
        """``train_eval_docs`` training documents (seeded sample, drawn apart from the training RNG) and their features."""
        n = min(self.cfg.train_eval_docs, len(train))
        if n <= 0:
            return None
        picked = sorted(random.Random(self.cfg.seed).sample(range(len(train)), n))
        return [train[i] for i in picked], [self.feats[i] for i in picked]

    def _step(self) -> None:
        self.scaler.unscale_(self.optimizer)
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        if not isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self.scheduler.step()

    def _evaluate(self, st: TrainState) -> bool:
        """Score dev, keep the best weights, write checkpoints; returns True when patience ran out."""
        cfg, model, out = self.cfg, self.model, self.out
        st.train_seconds = time.perf_counter() - self.t0
        row: dict[str, Any] = {"step": st.step, "epoch": st.epoch, **{f"train_{k}": v for k, v in self.window.means().items()}}
        self.window = _Losses()
        improved = True
        if self.dev:
            preds = model.predict(self.dev, batch_size=cfg.eval_batch_size, feats=self.dev_feats)
            metrics = dev_metrics(self.dev, preds, model.labels, cfg)
            value = float(metrics[cfg.metric])
            row.update({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
            improved = st.best is None or value > st.best
            if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                self.scheduler.step(value)
            st.best, st.best_step, st.bad_evals = (value, st.step, 0) if improved else (st.best, st.best_step, st.bad_evals + 1)
            if self.dist.is_main:
                tqdm.write(f"[eval] step {st.step} {cfg.metric}={value:.4f} (best {st.best:.4f} @ {st.best_step})")
        if self.fit_sample:  # the same metrics on training documents: under-fitting vs a generalisation gap
            docs, feats = self.fit_sample
            fit = dev_metrics(docs, model.predict(docs, batch_size=cfg.eval_batch_size, feats=feats), model.labels, cfg)
            row.update({f"train_fit_{k}": v for k, v in fit.items() if isinstance(v, (int, float))})
        st.history.append(row)
        out = out if self.dist.is_main else None  # other ranks keep their best weights in memory
        if improved:
            if out:
                model.save(out / "best", metrics={"dev": row, "step": st.step})
            else:
                self.best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
        if out:
            save_checkpoint(out / "last", model, self.optimizer, self.scheduler, dataclasses.asdict(st), cfg)
            write_json(out / "history.json", st.history)
        return bool(self.dev and cfg.patience is not None and st.bad_evals >= cfg.patience)

    def _restore_best(self, st: TrainState) -> None:
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        elif self.out and (self.out / "best" / "model.safetensors").is_file() and st.best is not None:
            self.model.load_weights(self.out / "best")
