"""The model contract: ModelKind, REModel (fit / predict / save / restore), ModelOutput, Decoded and ``register``.

Torch models build on :class:`relx.models.neural.NeuralREModel`; :func:`relx.models.loading.load_model` loads a saved directory.
"""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

from relx.config import to_dict
from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.registry import MODELS
from relx.training.config import FitContext, subsample
from relx.utils import write_json

FORMAT_VERSION = 1


class ModelKind(str, enum.Enum):
    """What a model takes and produces; every base class names its kind (``kind`` class attribute).

    - ``pair``: one (e1, e2) entity pair per document (``entities[0]``, ``entities[1]``) -> its label.
    - ``all_pairs``: any number of given entities -> relations between any ordered pairs (``kernel``).
    - ``joint``: tokens only -> the entities and the relations between them (``span_base``, ``two_phase``).
    """

    PAIR = "pair"
    ALL_PAIRS = "all_pairs"
    JOINT = "joint"


@dataclass
class ModelOutput:
    """What ``forward`` returns. ``extras`` holds named auxiliary losses (logged separately)."""

    loss: torch.Tensor | None
    logits: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)


@dataclass
class Decoded:
    """What a model predicts for one document, as its kind produces it.

    ``relations`` index the entities of the returned document: the input's for ``pair`` and ``all_pairs``
    models, ``entities`` for ``joint`` models (which predict them; None keeps the input's). ``meta`` is
    merged into the document's meta (e.g. ``pair_label`` / ``pair_score``, ``entity_scores``).
    """

    relations: list[Relation]
    entities: list[Entity] | None = None
    meta: dict = field(default_factory=dict)


class REModel:
    """Base of every model family: documents in, documents out.

    ``profile`` is what :meth:`fit` saw in the training documents (:func:`training_profile`); it is
    saved in config.json and restored by :func:`load_model` (None for directories saved without it).
    """

    Config: type = object
    registered_name: str = "?"
    kind: ClassVar[ModelKind]  # set by each base class (PairClassifier, KernelModel, SpanJointModel, ...)
    profile: dict | None = None

    def __init__(self, config: Any, labels: LabelSet):
        self.config = config
        self.labels = labels

    @classmethod
    def build_labels(cls, docs: list[Document], negative: str) -> LabelSet:
        """The label set a new model of this kind trains over: pair classifiers get the pair labels of the
        documents (both directions of a directed type, the negative class included); models that emit
        relations between several entities get the relation types as written."""
        if cls.kind is ModelKind.PAIR:
            return LabelSet.from_documents(docs, negative=negative)
        return LabelSet({r.label for d in docs for r in d.relations}, negative=negative)

    def fit(self, train: list[Document], dev: list[Document] | None = None, ctx: FitContext | None = None, **overrides: Any) -> dict:
        """Train on ``train`` (select on ``dev``). ``ctx`` carries trainer settings, run directory and
        resume flag; keyword overrides (``out_dir``, ``resume`` or TrainerConfig fields) adjust it, and
        unknown names are errors. Returns history, ``best`` dev metric, ``train_seconds``, ``step``."""
        ctx = FitContext.make(ctx, **overrides)
        train = subsample(train, ctx.trainer)
        from relx.models.profile import training_profile

        self.profile = training_profile(train, self.labels.negative)
        return self.fit_context(train, dev, ctx)

    def fit_context(self, train: list[Document], dev: list[Document] | None, ctx: FitContext) -> dict:
        raise NotImplementedError

    def predict(self, docs: list[Document], batch_size: int = 64, engine: Any = None) -> list[Document]:
        """Copies of ``docs`` with predicted relations; ``engine`` (a :class:`relx.inference.engines.Engine`
        or None for the model's own forward) runs the tensor part of torch models."""
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

    def save(self, directory: str | Path, metrics: dict | None = None, card: str | None = None) -> Path:
        """Write the model directory (plus metrics.json, and ``card`` as README.md) as a whole: a crash leaves the old
        or the new one."""
        from relx.utils import atomic_directory

        directory = Path(directory)
        if directory.exists() and not directory.is_dir():
            raise RelxInputError("exists and is not a directory (a model is saved as a directory)", directory)
        with atomic_directory(directory) as tmp:
            self.write_files(tmp)
            if metrics is not None:
                write_json(tmp / "metrics.json", metrics)
            if card is not None:
                (tmp / "README.md").write_text(card, encoding="utf-8")
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


def assign_predictions(docs: list[Document], predictions: list[Decoded]) -> list[Document]:
    """Copies of ``docs`` carrying the predictions: relations replaced, entities replaced when predicted, meta merged."""
    out = []
    for doc, pred in zip(docs, predictions):
        new = copy.copy(doc)
        new.relations = list(pred.relations)
        if pred.entities is not None:
            new.entities = list(pred.entities)
        new.meta = {**doc.meta, **pred.meta}
        out.append(new)
    return out


def pair_prediction(labels: LabelSet, label: str, score: float, **meta: Any) -> Decoded:
    """A pair model's prediction: the relation of ``label`` between entities 0 and 1 (none when negative),
    with ``pair_label`` / ``pair_score`` (and ``meta``) in the document's meta."""
    rel = labels.to_relation(label, 0, 1, score=score)
    return Decoded([rel] if rel else [], meta={"pair_label": label, "pair_score": score, **meta})


def register(name: str):
    """Shorthand for ``@MODELS.register(name)``."""
    return MODELS.register(name)
