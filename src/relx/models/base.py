"""Model contract: REModel (fit/predict/save/load) and NeuralREModel (featurize/collate/forward/decode)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from relx.config import from_dict, to_dict
from relx.data.labels import LabelSet
from relx.data.schema import Document, Relation
from relx.errors import RelxInputError
from relx.registry import MODELS
from relx.utils import write_json

FORMAT_VERSION = 1


@dataclass
class ModelOutput:
    """What ``forward`` returns. ``extras`` holds named auxiliary losses (logged separately)."""

    loss: torch.Tensor | None
    logits: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


class REModel:
    """Base of every model family: documents in, documents out."""

    Config: type = object
    registered_name: str = "?"

    def __init__(self, config: Any, labels: LabelSet):
        self.config = config
        self.labels = labels

    @classmethod
    def tiny_config(cls, resources: dict | None = None, **overrides: Any) -> Any:
        """A config small enough for unit tests. ``resources`` names test assets built by
        tests/conftest.py: ``bert`` (tiny random BERT dir), ``gpt2`` (tiny GPT-2 dir), ``glove``
        (small word-vector file). Subclasses override."""
        return cls.Config(**overrides)

    @classmethod
    def tiny_fit_kwargs(cls) -> dict:
        """fit() kwargs with which the tiny config overfits four documents (contract test)."""
        return {}

    def fit(self, train: list[Document], dev: list[Document] | None = None, **kwargs: Any) -> dict:
        raise NotImplementedError

    def predict(self, docs: list[Document], batch_size: int = 64) -> list[Document]:
        raise NotImplementedError

    # --- persistence -----------------------------------------------------
    def state_json(self) -> dict:
        """Extra JSON state (vocabularies...) saved beside the config."""
        return {}

    def load_state_json(self, state: dict) -> None:
        """Restore what state_json saved (called before weights are loaded)."""

    def save(self, directory: str | Path, metrics: dict | None = None) -> Path:
        """Write config.json, labels.json, weights and extras; every file atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_json(
            directory / "config.json",
            {"type": self.registered_name, "format_version": FORMAT_VERSION, "config": to_dict(self.config), "state": self.state_json()},
        )
        self.labels.save(directory / "labels.json")
        self.save_weights(directory)
        if metrics is not None:
            write_json(directory / "metrics.json", metrics)
        return directory

    def save_weights(self, directory: Path) -> None:
        """Subclasses write model.safetensors (and tokenizer files)."""

    @classmethod
    def from_saved(cls, directory: Path, config: Any, labels: LabelSet, state: dict) -> REModel:
        """Rebuild an instance from a saved directory (no pretrained weights downloaded)."""
        raise NotImplementedError


def load_model(directory: str | Path, device: str | None = None) -> REModel:
    """Load any saved relx model directory (JSON + safetensors only; nothing is unpickled)."""
    directory = Path(directory)
    cfg_path = directory / "config.json"
    if not cfg_path.is_file():
        raise RelxInputError("not a relx model directory (config.json missing)", directory)
    meta = json.loads(cfg_path.read_text(encoding="utf-8"))
    cls = MODELS.get(meta["type"])
    config = from_dict(cls.Config, meta["config"], f"{cfg_path}:config")
    labels = LabelSet.load(directory / "labels.json")
    model = cls.from_saved(directory, config, labels, meta.get("state", {}))
    if device is not None and hasattr(model, "to"):
        model.to(device)
    return model


def assign_predictions(docs: list[Document], relations: list[list[Relation]], meta: list[dict] | None = None) -> list[Document]:
    """Copies of ``docs`` whose relations are replaced by predictions."""
    out = []
    for i, (doc, rels) in enumerate(zip(docs, relations)):
        new = copy.copy(doc)
        new.relations = list(rels)
        new.meta = dict(doc.meta)
        if meta is not None:
            new.meta.update(meta[i])
        out.append(new)
    return out


class NeuralREModel(REModel, nn.Module):
    """A torch model trained by the generic Trainer.

    Subclasses implement ``featurize`` (Document -> feature dict, cached), ``collate``
    (features -> batch of tensors), ``forward`` (batch -> ModelOutput) and ``decode``.
    """

    def __init__(self, config: Any, labels: LabelSet):
        nn.Module.__init__(self)
        REModel.__init__(self, config, labels)

    # --- subclass API ------------------------------------------------------
    def prepare(self, train: list[Document]) -> None:
        """Build data-dependent state (vocabularies, type markers) before training."""

    def featurize(self, doc: Document) -> dict:
        raise NotImplementedError

    def feature_length(self, feat: dict) -> int:
        """Length used for bucketing batches."""
        return len(feat.get("input_ids", ()))

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def decode(self, batch: dict[str, torch.Tensor], out: ModelOutput) -> tuple[list[list[Relation]], list[dict]]:
        """Relations per document and a meta dict per document (e.g. pair label + probability)."""
        raise NotImplementedError

    def optimizer_groups(self, lr: float, head_lr: float | None, weight_decay: float) -> list[dict]:
        """AdamW groups: pretrained encoder at ``lr``, new layers at ``head_lr``; no decay on bias/norm."""
        groups: dict[tuple[bool, bool], list] = {}
        for name, p in self.named_parameters():
            if not p.requires_grad:
                continue
            key = (name.startswith("encoder."), p.ndim < 2 or "norm" in name.lower())
            groups.setdefault(key, []).append(p)
        return [
            {"params": ps, "lr": lr if is_enc or head_lr is None else head_lr, "weight_decay": 0.0 if no_decay else weight_decay}
            for (is_enc, no_decay), ps in groups.items()
        ]

    @classmethod
    def tiny_fit_kwargs(cls) -> dict:
        return {"epochs": 60, "batch_size": 4, "lr": 3e-3, "warmup_ratio": 0.0, "progress": False, "seed": 0}

    # --- generic behaviour -------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def fit(self, train: list[Document], dev: list[Document] | None = None, **kwargs: Any) -> dict:
        """Train with the generic Trainer; kwargs are TrainerConfig fields plus ``out_dir``/``resume``."""
        from relx.training.trainer import Trainer, TrainerConfig

        out_dir = kwargs.pop("out_dir", None)
        resume = kwargs.pop("resume", False)
        trainer = Trainer(kwargs.pop("trainer_config", None) or TrainerConfig(**kwargs))
        return trainer.fit(self, train, dev, out_dir=out_dir, resume=resume)

    def batches(self, feats: list[dict], batch_size: int) -> Iterator[list[int]]:
        """Index batches of similar length (sorted, so padding is minimal)."""
        order = sorted(range(len(feats)), key=lambda i: self.feature_length(feats[i]))
        for s in range(0, len(order), batch_size):
            yield order[s : s + batch_size]

    @torch.inference_mode()
    def predict(self, docs: list[Document], batch_size: int = 64, feats: list[dict] | None = None) -> list[Document]:
        """Predict relations for ``docs`` (length-bucketed batches, original order kept)."""
        was_training = self.training
        self.eval()
        feats = feats if feats is not None else [self.featurize(d) for d in docs]
        rels: list[list[Relation]] = [[] for _ in docs]
        metas: list[dict] = [{} for _ in docs]
        device = self.device
        for idx in self.batches(feats, batch_size):
            batch = to_device(self.collate([feats[i] for i in idx]), device)
            out = self(batch)
            b_rels, b_meta = self.decode(batch, out)
            for j, i in enumerate(idx):
                rels[i], metas[i] = b_rels[j], b_meta[j]
        self.train(was_training)
        return assign_predictions(docs, rels, metas)

    def save_weights(self, directory: Path) -> None:
        from safetensors.torch import save_model

        save_atomically(directory / "model.safetensors", lambda tmp: save_model(self, tmp))

    def load_weights(self, directory: Path) -> None:
        from safetensors.torch import load_model as st_load

        missing, unexpected = st_load(self, str(directory / "model.safetensors"), strict=False, device=str(self.device))
        if missing or unexpected:
            raise RelxInputError(f"weights do not match the model (missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]})", directory)


def save_atomically(path: Path, writer: Any) -> None:
    """Call ``writer(tmp_path)``, fsync the temp file, then rename it to ``path``."""
    import os

    tmp = path.with_name(f".{path.name}.tmp")
    writer(str(tmp))
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def to_device(batch: dict[str, Any], device: torch.device | str) -> dict[str, Any]:
    """Move every tensor in a batch dict to ``device``."""
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def register(name: str):
    """Shorthand for ``@MODELS.register(name)``."""
    return MODELS.register(name)
