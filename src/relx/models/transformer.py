"""The models built around a pretrained Hugging Face encoder: their shared restore / save (``HFEncoderOwner``)
and ``TransformerModel``, the base of those that own the encoder and its tokenizer directly (span, kernel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relx.data.labels import LabelSet
from relx.models.neural import NeuralREModel
from relx.nn.encoder import ENCODER_DIR, load_hf_encoder, save_encoder_files


class HFEncoderOwner:
    """Mixin of every model with a pretrained Hugging Face encoder (``TransformerModel``,
    :class:`relx.models.pair.TransformerPairClassifier`). Its ``__init__`` takes ``saved``: None for a new
    model (the encoder is loaded pretrained from ``config.encoder``), the saved ``encoder/`` folder when
    restored (an untrained encoder from that config + tokenizer; the weights come from model.safetensors)."""

    @classmethod
    def blank(cls, directory: Path, config: Any, labels: LabelSet) -> Any:
        return cls(config, labels, saved=Path(directory) / ENCODER_DIR)  # type: ignore[call-arg]

    def hf_encoder(self) -> tuple[Any, Any]:
        """The Hugging Face model and its tokenizer."""
        raise NotImplementedError

    def save_weights(self, directory: Path) -> None:
        super().save_weights(directory)  # type: ignore[misc]
        save_encoder_files(*self.hf_encoder(), directory)


class TransformerModel(HFEncoderOwner, NeuralREModel):
    """``self.encoder`` / ``self.tokenizer``: the Hugging Face encoder and its fast tokenizer (:func:`load_hf_encoder`)."""

    def __init__(self, config: Any, labels: LabelSet, saved: Path | None = None):
        super().__init__(config, labels)
        self.encoder, self.tokenizer = load_hf_encoder(config.encoder, saved)

    def hf_encoder(self) -> tuple[Any, Any]:
        return self.encoder, self.tokenizer
