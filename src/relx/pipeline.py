"""Pipeline: a loaded model that predicts on Documents or on raw sentences with inline entity tags."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import overload

from relx.data.schema import Document
from relx.models.base import REModel, load_model

Input = str | Document


class Pipeline:
    """``Pipeline.load(dir)(text_or_docs)`` -> Documents with predicted relations.

    Raw text must mark the two entities inline: ``"<e1>Bill Gates</e1> founded <e2>Microsoft</e2>."``.
    Each returned Document carries ``meta["pair_label"]`` and ``meta["pair_score"]`` (the probability
    of the predicted label, the negative class included).
    """

    def __init__(self, model: REModel, batch_size: int = 64):
        self.model = model
        self.batch_size = batch_size

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None, batch_size: int = 64) -> Pipeline:
        from relx.utils import resolve_device

        return cls(load_model(directory, device=resolve_device(device or "auto")), batch_size)

    @property
    def labels(self) -> list[str]:
        return list(self.model.labels.labels)

    @staticmethod
    def to_document(item: Input, idx: int = 0) -> Document:
        """Parse an inline-marked sentence (or pass a Document through)."""
        if isinstance(item, Document):
            return item
        from relx.data.inline import parse_marked

        tokens, entities = parse_marked(item)
        return Document(id=str(idx), tokens=tokens, entities=entities, meta={"text": item})

    @overload
    def __call__(self, inputs: Input) -> Document: ...
    @overload
    def __call__(self, inputs: Iterable[Input]) -> list[Document]: ...

    def __call__(self, inputs):
        single = isinstance(inputs, (str, Document))
        items = [inputs] if single else list(inputs)
        docs = [self.to_document(x, i) for i, x in enumerate(items)]
        preds = self.model.predict(docs, batch_size=self.batch_size)
        return preds[0] if single else preds


def load(directory: str | Path, device: str | None = None, batch_size: int = 64) -> Pipeline:
    """Load a saved relx model directory as a Pipeline."""
    return Pipeline.load(directory, device=device, batch_size=batch_size)
