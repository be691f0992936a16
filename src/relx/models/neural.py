"""NeuralREModel: the base of every torch model trained by the generic Trainer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import nn

from relx.data.labels import LabelSet
from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.models.base import Decoded, ModelOutput, REModel, assign_predictions
from relx.training.config import FitContext
from relx.utils import check_batch_size

if TYPE_CHECKING:
    from relx.inference.engines import Engine


class NeuralREModel(REModel, nn.Module):
    """A torch model trained by the generic Trainer.

    Subclasses implement ``featurize`` (Document -> feature dict, cached), ``collate``
    (features -> batch of tensors), ``forward`` (batch -> ModelOutput) and ``decode``.
    """

    train_fraction: float = 1.0  # set by the Trainer before each training step: optimizer steps done / total steps
    pretrained_prefix: ClassVar[str] = "encoder."  # parameters under this name are the pretrained encoder (``lr``, not ``head_lr``)
    renamed_weights: ClassVar[dict[str, str]] = {}  # old -> new name prefix: weights saved under an old name still load

    def __init__(self, config: Any, labels: LabelSet):
        nn.Module.__init__(self)
        REModel.__init__(self, config, labels)
        if self.renamed_weights:
            self.register_load_state_dict_pre_hook(_rename_weights)

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

    def decode(self, batch: dict[str, torch.Tensor], out: ModelOutput) -> list[Decoded]:
        """What the model's kind produces, per document of the batch (relations; entities for joint models; meta)."""
        raise NotImplementedError

    def optimizer_groups(self, lr: float, head_lr: float | None, weight_decay: float) -> list[dict]:
        """AdamW groups: pretrained encoder at ``lr``, new layers at ``head_lr``; no decay on bias/norm."""
        groups: dict[tuple[bool, bool], list] = {}
        for name, p in self.named_parameters():
            if not p.requires_grad:
                continue
            key = (name.startswith(self.pretrained_prefix), p.ndim < 2 or "norm" in name.lower())
            groups.setdefault(key, []).append(p)
        return [
            {"params": ps, "lr": lr if is_enc or head_lr is None else head_lr, "weight_decay": 0.0 if no_decay else weight_decay}
            for (is_enc, no_decay), ps in groups.items()
        ]

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

    def run_batch(self, batch: dict[str, Any]) -> ModelOutput:
        """The ``torch`` engine: ``forward`` on a collated batch (bf16 autocast on CUDA)."""
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            return self(batch)

    @torch.inference_mode()
    def predict(
        self,
        docs: list[Document],
        batch_size: int = 64,
        feats: list[dict] | None = None,
        engine: Engine | None = None,
    ) -> list[Document]:
        """Predict relations for ``docs`` (length-bucketed batches, original order kept); ``engine`` (a
        :class:`relx.inference.engines.Engine`, default the model's own forward) runs each collated batch."""
        was_training = self.training
        self.eval()
        check_batch_size(batch_size)
        feats = feats if feats is not None else self.featurize_many(docs)
        preds: list[Decoded] = [Decoded([]) for _ in docs]
        device = engine.device(self) if engine is not None else self.device
        for idx in self.batches(feats, batch_size):
            batch = to_device(self.collate([feats[i] for i in idx]), device)
            out = engine(self, batch) if engine is not None else self.run_batch(batch)
            for i, pred in zip(idx, self.decode(batch, out)):
                preds[i] = pred
        self.train(was_training)
        return assign_predictions(docs, preds)

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


def _rename_weights(module: NeuralREModel, state_dict: dict, prefix: str, *_: Any) -> None:
    """load_state_dict pre-hook: keys written under an old name (``module.renamed_weights``) get the current one."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        rest = key[len(prefix) :]
        for old, new in module.renamed_weights.items():
            if rest.startswith(old) and prefix + new + rest[len(old) :] not in state_dict:
                state_dict[prefix + new + rest[len(old) :]] = state_dict.pop(key)
                break


def save_atomically(path: Path, writer: Any) -> None:
    """Call ``writer(tmp_path)`` on a temp file beside ``path`` and publish it atomically (:func:`relx.utils.atomic_path`)."""
    from relx.utils import atomic_path

    with atomic_path(path) as tmp:
        writer(str(tmp))


def to_device(batch: dict[str, Any], device: torch.device | str) -> dict[str, Any]:
    """Move every tensor in a batch dict to ``device``."""
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
