"""One generic training loop for every NeuralREModel."""

from __future__ import annotations

import copy
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
from relx.models.base import NeuralREModel, to_device
from relx.training.checkpoint import load_checkpoint, save_checkpoint
from relx.utils import resolve_device, set_seed, write_json

log = logging.getLogger("relx.train")


@dataclass
class TrainerConfig:
    """Optimisation and selection settings shared by all neural models."""

    epochs: int = 3
    max_steps: int | None = None  # optimizer steps; caps epochs when set
    batch_size: int = 32
    eval_batch_size: int = 64
    lr: float = 5e-5
    head_lr: float | None = None  # lr of non-encoder layers (None = lr)
    weight_decay: float = 0.01
    scheduler: str = "linear"  # linear | cosine | constant | any torch.optim.lr_scheduler class name
    scheduler_kwargs: dict = field(default_factory=dict)
    warmup_ratio: float = 0.1
    grad_clip: float | None = 1.0
    grad_accum: int = 1
    amp: bool = True  # bf16 (or fp16 + scaler) autocast, CUDA only
    eval_every: int | None = None  # optimizer steps between dev evaluations (None = once per epoch)
    metric: str = "micro_f1"  # key of the scorer output used for selection
    scheme: str = "tacred"  # scorer semantics for dev evaluation: tacred | semeval
    patience: int | None = None  # dev evaluations without improvement before stopping
    seed: int = 13
    device: str = "auto"
    num_threads: int | None = None
    log_every: int = 50
    progress: bool = True
    max_train_docs: int | None = None  # subsample training docs (CPU budgets, demos)


class Trainer:
    """fit(model, train, dev) with warmup, clipping, accumulation, AMP, early stopping, checkpoints."""

    def __init__(self, config: TrainerConfig | None = None):
        self.cfg = config or TrainerConfig()

    # --- setup -----------------------------------------------------------------
    def _optimizer(self, model: NeuralREModel, device: str) -> torch.optim.Optimizer:
        groups = model.optimizer_groups(self.cfg.lr, self.cfg.head_lr, self.cfg.weight_decay)
        fused = device.startswith("cuda")
        return torch.optim.AdamW(groups, lr=self.cfg.lr, fused=fused)

    def _scheduler(self, optimizer: torch.optim.Optimizer, total_steps: int) -> Any:
        name = self.cfg.scheduler
        if name in ("linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts", "polynomial"):
            from transformers import get_scheduler

            if name == "constant":
                name = "constant_with_warmup"
            warmup = int(self.cfg.warmup_ratio * total_steps)
            return get_scheduler(name, optimizer, num_warmup_steps=warmup, num_training_steps=max(total_steps, 1))
        cls = getattr(torch.optim.lr_scheduler, name, None)
        if cls is None:
            raise KeyError(f"unknown scheduler {name!r}: use linear, cosine, constant or a torch.optim.lr_scheduler class name")
        return cls(optimizer, **self.cfg.scheduler_kwargs)

    def _epoch_batches(self, model: NeuralREModel, feats: list[dict], epoch: int) -> list[list[int]]:
        """Length-bucketed, shuffled batches; deterministic per (seed, epoch) so resume can skip."""
        rng = random.Random(self.cfg.seed * 1000 + epoch)
        order = sorted(range(len(feats)), key=lambda i: (model.feature_length(feats[i]) + rng.random() * 4))
        batches = [order[s : s + self.cfg.batch_size] for s in range(0, len(order), self.cfg.batch_size)]
        rng.shuffle(batches)
        return batches

    def _autocast(self, device: str) -> Any:
        if self.cfg.amp and device.startswith("cuda"):
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.autocast("cuda", dtype=dtype)
        return torch.autocast("cpu", enabled=False)

    # --- main loop ---------------------------------------------------------------
    def fit(self, model: NeuralREModel, train: list[Document], dev: list[Document] | None = None, out_dir: str | Path | None = None, resume: bool = False) -> dict:
        """Train ``model`` in place; returns history, best dev metric and timings. Best dev weights are restored."""
        cfg = self.cfg
        set_seed(cfg.seed)
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        device = resolve_device(cfg.device)
        if cfg.max_train_docs and len(train) > cfg.max_train_docs:
            train = random.Random(cfg.seed).sample(train, cfg.max_train_docs)
        out = Path(out_dir) if out_dir else None
        if not (resume and out and (out / "last" / "trainer_state.json").is_file()):
            model.prepare(train)
        model.to(device)
        feats = [model.featurize(d) for d in tqdm(train, desc="featurize", disable=not cfg.progress, leave=False)]
        dev_feats = [model.featurize(d) for d in dev] if dev else None
        steps_per_epoch = math.ceil(math.ceil(len(feats) / cfg.batch_size) / cfg.grad_accum)
        total = cfg.max_steps or steps_per_epoch * cfg.epochs
        optimizer = self._optimizer(model, device)
        scheduler = self._scheduler(optimizer, total)
        scaler = torch.amp.GradScaler("cuda", enabled=cfg.amp and device.startswith("cuda") and not torch.cuda.is_bf16_supported())
        st = {"step": 0, "epoch": 0, "batch_in_epoch": 0, "best": None, "best_step": None, "bad_evals": 0, "history": [], "train_seconds": 0.0}
        if resume and out and (out / "last" / "trainer_state.json").is_file():
            st.update(load_checkpoint(out / "last", model, optimizer, scheduler))
            log.info("resumed from %s at step %d", out / "last", st["step"])
        best_state = None
        t0 = time.perf_counter() - st["train_seconds"]
        bar = tqdm(total=total, initial=st["step"], desc="train", disable=not cfg.progress, dynamic_ncols=True)
        running: dict[str, float] = {}  # for the progress bar, reset every log_every steps
        window: dict[str, float] = {}  # train losses since the last dev evaluation (history.json)
        stop = st["step"] >= total
        while not stop and st["epoch"] < (cfg.epochs if not cfg.max_steps else 10**9):
            batches = self._epoch_batches(model, feats, st["epoch"])
            model.train()
            for b_idx in range(st["batch_in_epoch"], len(batches)):
                batch = to_device(model.collate([feats[i] for i in batches[b_idx]]), device)
                with self._autocast(device):
                    output = model(batch)
                scaler.scale(output.loss / cfg.grad_accum).backward()
                _accumulate(running, output)
                _accumulate(window, output)
                st["batch_in_epoch"] = b_idx + 1
                if (b_idx + 1) % cfg.grad_accum and b_idx + 1 != len(batches):
                    continue
                self._step(model, optimizer, scheduler, scaler)
                st["step"] += 1
                bar.update(1)
                if st["step"] % cfg.log_every == 0 or st["step"] == 1:
                    bar.set_postfix({k: f"{v / running['_n']:.4f}" for k, v in running.items() if k != "_n"})
                    running = {}
                if cfg.eval_every and st["step"] % cfg.eval_every == 0:
                    st["train_losses"], window = _means(window), {}
                    best_state, stop = self._evaluate(model, dev, dev_feats, st, best_state, optimizer, scheduler, out, t0)
                if st["step"] >= total or stop:
                    stop = True
                    break
            if st["batch_in_epoch"] == len(batches):  # the epoch ran to its end
                st["epoch"] += 1
                st["batch_in_epoch"] = 0
                if not cfg.eval_every:
                    st["train_losses"], window = _means(window), {}
                    best_state, stop_early = self._evaluate(model, dev, dev_feats, st, best_state, optimizer, scheduler, out, t0)
                    stop = stop or stop_early
        bar.close()
        if not st["history"] or st["history"][-1]["step"] != st["step"]:  # final evaluation
            st["train_losses"] = _means(window)
            best_state, _ = self._evaluate(model, dev, dev_feats, st, best_state, optimizer, scheduler, out, t0)
        st["train_seconds"] = time.perf_counter() - t0
        if best_state is not None:
            model.load_state_dict(best_state)
        elif out and (out / "best" / "model.safetensors").is_file() and st["best"] is not None:
            model.load_weights(out / "best")
        return {k: st[k] for k in ("best", "best_step", "history", "train_seconds", "step")} | {"metric": cfg.metric}

    def _step(self, model: NeuralREModel, optimizer: Any, scheduler: Any, scaler: Any) -> None:
        scaler.unscale_(optimizer)
        if self.cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), self.cfg.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        if not isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step()

    def _evaluate(self, model: NeuralREModel, dev: list[Document] | None, dev_feats: list[dict] | None, st: dict, best_state: Any, optimizer: Any, scheduler: Any, out: Path | None, t0: float) -> tuple[Any, bool]:
        """Score dev, keep the best weights, write checkpoints; returns (best_state, stop)."""
        from relx.evaluation.scorer import score_documents

        cfg = self.cfg
        st["train_seconds"] = time.perf_counter() - t0
        row: dict[str, Any] = {"step": st["step"], "epoch": st["epoch"], **{f"train_{k}": v for k, v in st.pop("train_losses", {}).items()}}
        improved = True
        if dev:
            preds = model.predict(dev, batch_size=cfg.eval_batch_size, feats=dev_feats)
            metrics = score_documents(dev, preds, model.labels, scheme=cfg.scheme)
            value = float(metrics[cfg.metric])
            row.update({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
            improved = st["best"] is None or value > st["best"]
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(value)
            if improved:
                st["best"], st["best_step"], st["bad_evals"] = value, st["step"], 0
            else:
                st["bad_evals"] += 1
            tqdm.write(f"[eval] step {st['step']} {cfg.metric}={value:.4f} (best {st['best']:.4f} @ {st['best_step']})")
        st["history"].append(row)
        if improved:
            if out:
                model.save(out / "best", metrics={"dev": row, "step": st["step"]})
            else:
                best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
        if out:
            save_checkpoint(out / "last", model, optimizer, scheduler, {k: st[k] for k in st})
            write_json(out / "history.json", st["history"])
        stop = bool(dev and cfg.patience is not None and st["bad_evals"] >= cfg.patience)
        return best_state, stop


def _means(acc: dict[str, float]) -> dict[str, float]:
    """Averages of accumulated losses (every auxiliary loss under its own name)."""
    return {k: v / acc["_n"] for k, v in acc.items() if k != "_n"} if acc else {}


def _accumulate(running: dict[str, float], output: Any) -> None:
    running["_n"] = running.get("_n", 0) + 1
    running["loss"] = running.get("loss", 0.0) + float(output.loss.detach())
    for k, v in output.extras.items():
        running[k] = running.get(k, 0.0) + float(v.detach())
