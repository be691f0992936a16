"""Model contract: REModel (fit/predict/save/load) and NeuralREModel (featurize/collate/forward/decode)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from relx.config import to_dict
from relx.data.labels import LabelSet
from relx.data.schema import Document, Relation
from relx.errors import RelxInputError
from relx.registry import MODELS
from relx.training.config import FitContext, subsample
from relx.utils import check_batch_size, write_json

FORMAT_VERSION = 1


@dataclass
class ModelOutput:
    """What ``forward`` returns. ``extras`` holds named auxiliary losses (logged separately)."""

    loss: torch.Tensor | None
    logits: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


class REModel:
    """Base of every model family: documents in, documents out.

    ``profile`` is what :meth:`fit` saw in the training documents (:func:`training_profile`); it is
    saved in config.json and restored by :func:`load_model` (None for directories saved without it).
    """

    Config: type = object
    registered_name: str = "?"
    profile: dict | None = None

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

    def fit(self, train: list[Document], dev: list[Document] | None = None, ctx: FitContext | None = None, **overrides: Any) -> dict:
        """Train on ``train`` (select on ``dev``). ``ctx`` carries trainer settings, run directory and
        resume flag; keyword overrides (``out_dir``, ``resume`` or TrainerConfig fields) adjust it, and
        unknown names are errors. Returns history, ``best`` dev metric, ``train_seconds``, ``step``."""
        ctx = FitContext.make(ctx, **overrides)
        train = subsample(train, ctx.trainer)
        self.profile = training_profile(train, self.labels.negative)
        return self.fit_context(train, dev, ctx)

    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        raise NotImplementedError

    def predict(self, docs: list[Document], batch_size: int = 64) -> list[Document]:
        raise NotImplementedError

    # --- persistence -----------------------------------------------------
    def state_json(self) -> dict:
        """Extra JSON state (vocabularies...) saved beside the config."""
        return {}

    def load_state_json(self, state: dict) -> None:
        """Restore what state_json saved (called before weights are loaded)."""

    def write_files(self, directory: str | Path) -> Path:
        """Write the model into the existing (empty) ``directory``: weights and extras (save_weights),
        labels.json, then config.json last, with the sha256 of every weight file. Not atomic by
        itself; :meth:`save` wraps it in a whole-directory swap."""
        from relx.models.persistence import CHECKSUM_KEY, PROFILE_KEY, weight_checksums

        directory = Path(directory)
        meta = {"type": self.registered_name, "format_version": FORMAT_VERSION, "config": to_dict(self.config), "state": self.state_json()}
        if self.profile is not None:
            meta[PROFILE_KEY] = self.profile
        self.save_weights(directory)
        self.labels.save(directory / "labels.json")
        write_json(directory / "config.json", {**meta, CHECKSUM_KEY: weight_checksums(directory)})
        return directory

    def save(self, directory: str | Path, metrics: dict | None = None) -> Path:
        """Write the model directory (plus metrics.json) as a whole: a crash leaves the old or the new one."""
        from relx.utils import atomic_directory

        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise RelxInputError("exists and is not a directory (a model is saved as a directory)", directory)
        with atomic_directory(directory) as tmp:
            self.write_files(tmp)
            if metrics is not None:
                write_json(tmp / "metrics.json", metrics)
        return directory

    def save_weights(self, directory: Path) -> None:
        """Subclasses write model.safetensors (and tokenizer files)."""

    # --- the one restore path -----------------------------------------------
    @classmethod
    def blank(cls, directory: Path, config: Any, labels: LabelSet) -> REModel:
        """An instance to :meth:`restore` a saved ``directory`` into (never loads pretrained weights)."""
        return cls(config, labels)

    def restore(self, directory: str | Path, state: dict | None = None) -> None:
        """Load a saved directory into this instance: JSON state (vocabularies, types...; rebuilds the
        layers that depend on it), then the weights. Used by ``relx.load``, ``--resume`` and the cascade."""
        if state is None:
            from relx.models import persistence

            state = persistence.saved_state(persistence.read_model_meta(Path(directory)).get("state") or {})
        self.load_state_json(state)
        self.load_weights(Path(directory))

    def load_weights(self, directory: Path) -> None:
        """Subclasses read what save_weights wrote."""


def load_model(directory: str | Path, device: str | None = None, engine: str = "torch") -> REModel:
    """Load any saved relx model directory (JSON + safetensors only; nothing is unpickled).

    Weight files listed in config.json's ``sha256`` are verified first. Every problem (missing or
    damaged file, unknown type, weights that do not fit) raises one RelxInputError naming the file.
    ``engine`` ``onnx`` / ``onnx_int8`` runs the tensor part in onnxruntime (a `relx export onnx` directory, CPU);
    ``torch_compile`` wraps the model's transformers in ``torch.compile`` (relx.engines.compiled).
    """
    from relx.models import persistence as ps

    directory = Path(directory)
    from relx.engines import TORCH_ENGINES, check_engine

    check_engine(engine)
    onnx = None
    if engine not in TORCH_ENGINES:  # weights come from the ONNX file: no checksum pass over model.safetensors, no restore
        from relx.engines import onnx

        onnx.read_meta(directory)
    meta = ps.read_model_meta(directory)
    cls = ps.model_class(directory, meta)
    config = ps.model_config(directory, cls, meta)
    labels = ps.read_labels(directory)
    profile = ps.read_profile(directory, meta)
    if onnx is None:
        ps.verify_checksums(directory, meta)
    state = ps.saved_state(meta.get("state") or {})
    with ps.load_errors(directory):
        model = cls.blank(directory, config, labels)
        if onnx is None:
            model.restore(directory, state)
        else:
            model.load_state_json(state)
    model.profile = profile
    if onnx is not None:
        model.eval()
        return onnx.attach(model, directory, engine)
    if device is not None and hasattr(model, "to"):
        model.to(device)
    if engine == "torch_compile":
        from relx.engines.compiled import compile_transformers

        model.eval()
        compile_transformers(model)
    return model


def predicts_entities(model: Any) -> bool:
    """True for joint extraction models (they find the entities themselves). Pair classifiers (the default,
    ``pair_model = True``) do not; a model that takes any number of given entities and scores every pair
    (``kernel``) sets ``pair_model = False`` and ``predicts_entities = False``."""
    return bool(getattr(model, "predicts_entities", not getattr(model, "pair_model", True)))


def training_profile(docs: list[Document], negative: str) -> dict:
    """What raw-text extraction needs to know about the training data: entity type counts, the
    (head type, tail type) pairs of non-negative relations, the negative label, and ``e1_first``
    (whether e1 precedes e2 in every two-entity document; None when there is none)."""
    from relx.data.labels import split_directed

    types: dict[str, int] = {}
    pairs: set[tuple[str, str]] = set()
    orders: set[bool] = set()
    for doc in docs:
        for e in doc.entities:
            types[e.label] = types.get(e.label, 0) + 1
        if len(doc.entities) == 2:
            orders.add(doc.entities[0].start < doc.entities[1].start)
        for r in doc.relations:
            if r.label == negative or not (0 <= r.head < len(doc.entities) and 0 <= r.tail < len(doc.entities)):
                continue
            head, tail = (r.tail, r.head) if split_directed(r.label)[1] else (r.head, r.tail)
            pairs.add((doc.entities[head].label, doc.entities[tail].label))
    return {
        "entity_types": dict(sorted(types.items())), "type_pairs": [list(p) for p in sorted(pairs)],
        "negative": negative, "e1_first": orders == {True} if orders else None, "documents": len(docs),
    }


def blank_model(directory: str | Path) -> REModel:
    """An unrestored instance of the model saved in ``directory`` (its class, config and labels)."""
    from relx.models import persistence as ps

    directory = Path(directory)
    meta = ps.read_model_meta(directory)
    cls = ps.model_class(directory, meta)
    with ps.load_errors(directory):
        return cls.blank(directory, ps.model_config(directory, cls, meta), ps.read_labels(directory))


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

    train_fraction: float = 1.0  # set by the Trainer before each training step: optimizer steps done / total steps
    runtime: Any = None  # batch -> ModelOutput replacing forward in predict (relx.engines.onnx.attach)

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

    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        """Train with the generic Trainer (checkpoints in ``ctx.out_dir``, resumed when ``ctx.resume``)."""
        from relx.training.trainer import Trainer

        return Trainer(ctx.trainer).fit(self, train, dev, out_dir=ctx.out_dir, resume=ctx.resume)

    def featurize_many(self, docs: list[Document]) -> list[dict]:
        """Features of many documents (override to batch expensive steps); default: one at a time."""
        return [self.featurize(d) for d in docs]

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
        check_batch_size(batch_size)
        feats = feats if feats is not None else self.featurize_many(docs)
        rels: list[list[Relation]] = [[] for _ in docs]
        metas: list[dict] = [{} for _ in docs]
        device = self.device
        for idx in self.batches(feats, batch_size):
            batch = to_device(self.collate([feats[i] for i in idx]), device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda" and self.runtime is None):  # bf16 on GPU
                out = self.runtime(batch) if self.runtime is not None else self(batch)
            b_rels, b_meta = self.decode(batch, out)
            for j, i in enumerate(idx):
                rels[i], metas[i] = b_rels[j], b_meta[j]
        self.train(was_training)
        return assign_predictions(docs, rels, metas)

    def save_weights(self, directory: Path) -> None:
        from safetensors.torch import save_model

        save_atomically(directory / "model.safetensors", lambda tmp: save_model(self, tmp))

    def load_weights(self, directory: Path) -> None:
        """Load model.safetensors; a missing/damaged file or tensors that do not fit raise RelxInputError naming it."""
        from safetensors.torch import load_model as st_load

        from relx.models.persistence import check_safetensors, state_dict_problem

        path = Path(directory) / "model.safetensors"
        check_safetensors(path)
        try:
            missing, unexpected = st_load(self, str(path), strict=False, device=str(self.device))
        except RuntimeError as exc:
            raise RelxInputError(state_dict_problem(exc), path) from exc
        if missing or unexpected:
            raise RelxInputError(f"weights do not match the model (missing {list(missing)[:5]}, unexpected {list(unexpected)[:5]})", path)


def save_atomically(path: Path, writer: Any) -> None:
    """Call ``writer(tmp_path)``, give it the usual mode (0o666 & ~umask; safetensors writes 0600),
    fsync it, then rename it to ``path``. The temp file (a unique ``.NAME.<pid>-XXXXXXXX.tmp``, never a
    file someone else made) is removed on failure."""
    import os
    import tempfile

    from relx.models.persistence import default_file_mode

    fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        writer(str(tmp))
        os.chmod(tmp, default_file_mode())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def to_device(batch: dict[str, Any], device: torch.device | str) -> dict[str, Any]:
    """Move every tensor in a batch dict to ``device``."""
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def register(name: str):
    """Shorthand for ``@MODELS.register(name)``."""
    return MODELS.register(name)
