"""Pipeline: a loaded model that predicts on Documents or on raw sentences with inline entity tags."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import overload

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.models.base import REModel, load_model
from relx.models.pair import entity_count_problem
from relx.utils import check_batch_size

Input = str | Document

def is_pair_model(model: REModel) -> bool:
    """True for models that classify the single (e1, e2) pair of a document (every model so far).

    A joint extraction model sets the class attribute ``pair_model = False``.
    """
    return bool(getattr(model, "pair_model", True))


def document_problem(doc: Document, pair: bool = True) -> str | None:
    """Why ``doc`` cannot go to the model (spans outside the sentence, crossed spans, wrong entity
    count for a pair model), or None when it can."""
    try:
        doc.validate()
    except RelxInputError as exc:
        return exc.problem
    return entity_count_problem(doc) if pair else None


class Pipeline:
    """``Pipeline.load(dir)(text_or_docs)`` -> Documents with predicted relations.

    Raw text must mark the two entities inline: ``"<e1>Bill Gates</e1> founded <e2>Microsoft</e2>."``.
    Documents are validated first (spans inside the sentence, start < end, exactly two entities for
    pair models); a bad one raises RelxInputError naming it. Each returned Document carries
    ``meta["pair_label"]`` and ``meta["pair_score"]`` (the probability of the predicted label, the
    negative class included).
    """

    def __init__(self, model: REModel, batch_size: int = 64):
        self.model = model
        self.batch_size = check_batch_size(batch_size)

    @classmethod
    def load(cls, directory: str | Path, device: str | None = None, batch_size: int = 64) -> Pipeline:
        from relx.utils import resolve_device

        check_batch_size(batch_size)
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

    def check(
        self, docs: Sequence[Document], source: str | Path | None = None, where: Callable[[int], str | int] | None = None,
    ) -> None:
        """Raise RelxInputError for the first document the model cannot take.

        ``source`` names the input file and ``where(i)`` locates the i-th (0-based) document in it
        (a line number or a record description).
        """
        pair = is_pair_model(self.model)
        for i, doc in enumerate(docs):
            if not isinstance(doc, Document):
                raise RelxInputError(f"expected a Document or a marked sentence, got {type(doc).__name__}", source, where(i) if where else None)
            problem = document_problem(doc, pair)
            if problem is not None:
                raise RelxInputError(problem, source, where(i) if where else None)

    def predict(self, docs: Sequence[Document], progress: bool = False) -> list[Document]:
        """Predict on checked Documents; ``progress`` shows a tqdm bar on stderr (documents/s)."""
        docs = list(docs)
        if not progress or not docs:
            return self.model.predict(docs, batch_size=self.batch_size)
        import sys

        from tqdm import tqdm

        # chunks of similar length (little padding), a few batches each, results put back in input order
        order = sorted(range(len(docs)), key=lambda i: len(docs[i].tokens))
        chunk = self.batch_size * 4
        out: list[Document | None] = [None] * len(docs)
        with tqdm(total=len(docs), unit="doc", desc="predicting", file=sys.stderr, mininterval=0.5) as bar:
            for s in range(0, len(order), chunk):
                idx = order[s : s + chunk]
                for i, pred in zip(idx, self.model.predict([docs[i] for i in idx], batch_size=self.batch_size)):
                    out[i] = pred
                bar.update(len(idx))
        return [d for d in out if d is not None]

    @overload
    def __call__(self, inputs: Input) -> Document: ...
    @overload
    def __call__(self, inputs: Iterable[Input]) -> list[Document]: ...

    def __call__(self, inputs):
        single = isinstance(inputs, (str, Document))
        items = [inputs] if single else list(inputs)
        docs = [self.to_document(x, i) for i, x in enumerate(items)]
        self.check(docs)
        preds = self.predict(docs)
        return preds[0] if single else preds


def load(directory: str | Path, device: str | None = None, batch_size: int = 64) -> Pipeline:
    """Load a saved relx model directory as a Pipeline."""
    return Pipeline.load(directory, device=device, batch_size=batch_size)
