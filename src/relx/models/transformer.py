"""TransformerModel: the base of models that own a local Hugging Face encoder and its fast tokenizer (span, kernel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relx.data.labels import LabelSet
from relx.models.neural import NeuralREModel
from relx.nn.encoder import load_hf_encoder, save_encoder_files


class TransformerModel(NeuralREModel):
    """``self.encoder`` / ``self.tokenizer``: pretrained from ``config.encoder`` for a new model, untrained from the
    saved ``encoder/`` folder (config + tokenizer; the weights are in model.safetensors) when restored."""

    def __init__(self, config: Any, labels: LabelSet, saved: Path | None = None):
        super().__init__(config, labels)
        self.encoder, self.tokenizer = load_hf_encoder(config.encoder, saved)

    @classmethod
    def blank(cls, directory: Path, config: Any, labels: LabelSet) -> TransformerModel:
        return cls(config, labels, saved=Path(directory) / "encoder")

    def save_weights(self, directory: Path) -> None:
        super().save_weights(directory)
        save_encoder_files(self.encoder, self.tokenizer, directory)
