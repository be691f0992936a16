"""Pipeline: a loaded model that predicts on Documents, on sentences with inline entity tags, or on raw text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, overload

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.inference.engines import Engine
from relx.inference.extraction import Extractor, check_candidates, check_sentences, check_threshold, is_marked
from relx.models.base import ModelKind, REModel
from relx.models.loading import load_model
from relx.models.pair import entity_count_problem
from relx.utils import check_batch_size

if TYPE_CHECKING:
    from relx.inference.inputs import Inputs as PredictionInputs

Input = str | Document | dict
Where = Callable[[int], str | int]


ACCEPTED = (
    "a text string (raw or with <e1>..</e1> <e2>..</e2> tags), a Document, or a record "
    '{"text": ..., "entities": [{"start", "end", "label"}]} (character offsets)'
)


def document_problem(doc: Document, pair: bool = True, kind: ModelKind | None = None) -> str | None:
    """Why ``doc`` cannot go to the model (spans outside the sentence, crossed spans, wrong entity
    count for a pair model, character-offset entities for a joint model), or None when it can."""
    try:
        doc.validate()
    except RelxInputError as exc:
        return exc.problem
    if kind is ModelKind.JOINT and doc.meta.get("entity_offsets"):
        return "a joint model finds the entities itself: give the text alone (raw text), or use a pair or all-pairs model"
    return entity_count_problem(doc) if pair else None


def candidates_option(candidates: object) -> object:
    """A candidates mode (CANDIDATES), an existing directory (a joint model's) or a loaded model, else an error."""
    if isinstance(candidates, (str, Path)) and not Path(candidates).is_dir():
        return check_candidates(str(candidates))
    return str(candidates) if isinstance(candidates, Path) else candidates


class Pipeline:
    """``Pipeline.load(dir)(text_or_docs)`` -> Documents with predicted relations (list in, list out).

    A sentence with inline tags (``"<e1>Bill Gates</e1> founded <e2>Microsoft</e2>."``) or a Document
    is classified as before: validated first (spans inside the sentence, start < end, exactly two
    entities for pair models; a bad one raises RelxInputError naming it), and the result carries
    ``meta["pair_label"]`` and ``meta["pair_score"]`` (the probability of the predicted label, the
    negative class included). Any other string is raw text: :class:`relx.inference.extraction.Extractor` tokenizes it
    with spaCy and returns entities (with ``char_start`` / ``char_end`` into ``meta["text"]``) and relations with scores >=
    ``threshold`` (None: 0.5 for pair models, the model's own decisions for joint models); ``candidates`` (``auto`` | ``ner`` | ``noun_chunks``, or a
    joint model directory whose entities become the candidates) chooses the entity candidates of pair classifiers; ``sentences``
    (``spacy`` | ``lines`` | ``none``), ``join_words`` and ``bridge`` are the raw-text options of :class:`Extractor`.
    """

    def __init__(
        self,
        model: REModel,
        batch_size: int = 64,
        threshold: float | None = None,
        candidates: str = "auto",
        engine: Engine | None = None,
        sentences: str = "spacy",
        join_words: bool | None = None,
        bridge: bool | None = None,
    ):
        self.model = model
        self.engine = engine if engine is not None else Engine()  # runs the model's batches (default: its own forward)
        self.batch_size = check_batch_size(batch_size)
        self.threshold = check_threshold(threshold)
        self.candidates = candidates_option(candidates)
        self.raw_options = {"sentences": check_sentences(sentences), "join_words": join_words, "bridge": bridge}
        self._extractor: Extractor | None = None

    @classmethod
    def load(
        cls,
        directory: str | Path,
        device: str | None = None,
        batch_size: int = 64,
        threshold: float | None = None,
        candidates: str = "auto",
        engine: str = "torch",
        sentences: str = "spacy",
        join_words: bool | None = None,
        bridge: bool | None = None,
    ) -> Pipeline:
        """``directory``: a saved model directory, or the name of a built zoo model (``relx models --zoo``; an existing
        path wins). ``engine``: ``torch`` (default), ``torch_compile`` (opt-in ``torch.compile``; pays off on long jobs), or
        ``onnx`` / ``onnx_int8`` for a `relx export onnx` directory (CPU); the rest as in the class docstring."""
        from relx.errors import RelxConfigError
        from relx.inference.engines import engine_class
        from relx.utils import resolve_device

        check_batch_size(batch_size)
        check_threshold(threshold)
        candidates_option(candidates)
        check_sentences(sentences)
        from relx.zoo.cache import resolve_model_path

        kind = engine_class(engine)
        directory = resolve_model_path(directory)  # an existing path, else a built zoo model of that name
        dev = resolve_device(device or ("cpu" if kind.cpu_only else "auto"))
        if kind.cpu_only and dev != "cpu":
            raise RelxConfigError(f"engine {engine} runs on the CPU (onnxruntime); got device {dev!r}")
        kind.check_directory(directory)
        model = load_model(directory, device=dev, weights=kind.loads_weights)
        return cls(model, batch_size, threshold, candidates, kind.open(model, directory), sentences, join_words, bridge)

    @property
    def extractor(self) -> Extractor:
        """The raw-text extractor (built on first use; spaCy loads on the first text)."""
        if self._extractor is None:
            self._extractor = Extractor(
                self.model, self.batch_size, self.threshold, self.candidates, engine=self.engine, **self.raw_options
            )
        return self._extractor

    def extract(
        self,
        texts: Sequence[str],
        ids: Sequence[str] | None = None,
        source: str | Path | None = None,
        where: Callable[[int], str | int] | None = None,
        progress: bool = False,
    ) -> list[Document]:
        """Raw texts -> one Document each (see :mod:`relx.inference.extraction`); ``where(i)`` locates text i in errors,
        ``progress`` shows a tqdm bar on stderr (texts/s)."""
        import sys

        from tqdm import tqdm

        texts = list(texts)
        ids = [str(i) for i in range(len(texts))] if ids is None else list(ids)
        ex = self.extractor
        ex.check(texts, source, where)
        chunk = max(self.batch_size * 4, 64)
        out: list[Document] = []
        with tqdm(total=len(texts), unit="text", desc="extracting", file=sys.stderr, mininterval=0.5, disable=not progress) as bar:
            for s in range(0, len(texts), chunk):
                out += ex(texts[s : s + chunk], ids[s : s + chunk])
                bar.update(len(texts[s : s + chunk]))
        return out

    @property
    def labels(self) -> list[str]:
        return list(self.model.labels.labels)

    @staticmethod
    def to_document(item: Input, idx: int | str = 0) -> Document:
        """Parse an inline-marked sentence (or pass a Document through); ``idx`` becomes its id."""
        if isinstance(item, Document):
            return item
        from relx.data.inline import parse_marked

        tokens, entities = parse_marked(item)
        return Document(id=str(idx), tokens=tokens, entities=entities, meta={"text": item})

    def check(
        self,
        docs: Sequence[Document],
        source: str | Path | None = None,
        where: Callable[[int], str | int] | None = None,
    ) -> None:
        """Raise RelxInputError for the first document the model cannot take.

        ``source`` names the input file and ``where(i)`` locates the i-th (0-based) document in it
        (a line number or a record description).
        """
        pair = self.model.kind is ModelKind.PAIR
        for i, doc in enumerate(docs):
            if not isinstance(doc, Document):
                raise RelxInputError(
                    f"expected a Document or a marked sentence, got {type(doc).__name__}", source, where(i) if where else None
                )
            problem = document_problem(doc, pair, self.model.kind)
            if problem is not None:
                raise RelxInputError(problem, source, where(i) if where else None)

    def predict(self, docs: Sequence[Document], progress: bool = False) -> list[Document]:
        """Predict on checked Documents; ``progress`` shows a tqdm bar on stderr (documents/s)."""
        docs = list(docs)
        if not progress or not docs:
            return self.model.predict(docs, batch_size=self.batch_size, engine=self.engine)
        import sys

        from tqdm import tqdm

        # chunks of similar length (little padding), a few batches each, results put back in input order
        order = sorted(range(len(docs)), key=lambda i: len(docs[i].tokens))
        chunk = self.batch_size * 4
        out: list[Document | None] = [None] * len(docs)
        with tqdm(total=len(docs), unit="doc", desc="predicting", file=sys.stderr, mininterval=0.5) as bar:
            for s in range(0, len(order), chunk):
                idx = order[s : s + chunk]
                for i, pred in zip(idx, self.model.predict([docs[i] for i in idx], batch_size=self.batch_size, engine=self.engine)):
                    out[i] = pred
                bar.update(len(idx))
        return [d for d in out if d is not None]

    @overload
    def __call__(self, inputs: Input) -> Document: ...
    @overload
    def __call__(self, inputs: Iterable[Input]) -> list[Document]: ...

    def __call__(self, inputs):
        single = isinstance(inputs, (str, Document, dict))
        if not single and (not isinstance(inputs, Iterable) or isinstance(inputs, (bytes, bytearray))):
            raise RelxInputError(f"expected {ACCEPTED}, or a list of them; got {type(inputs).__name__}")
        items = [inputs] if single else list(inputs)
        preds = self.route(items, raw_where=None if single else (lambda i: f"text {i + 1}"))
        return preds[0] if single else preds

    def route(
        self,
        items: Sequence[Input],
        ids: Sequence[str] | None = None,
        raw_where: Where | None = None,
        where: Where | None = None,
    ) -> list[Document]:
        """Raw texts extracted, marked sentences and Documents classified, results in input order; ``ids`` name them
        (default: their index); ``raw_where(i)`` / ``where(i)`` locate item i in errors about raw / other items."""
        from relx.inference.inputs import offset_documents

        ids = [str(i) for i in range(len(items))] if ids is None else list(ids)
        for i, x in enumerate(items):
            if not isinstance(x, (str, Document, dict)):
                where_i = where(i) if where else (f"item {i}" if len(items) > 1 else None)
                raise RelxInputError(f"expected {ACCEPTED}; got {type(x).__name__}", None, where_i)
        items = [Document.from_dict(x) if isinstance(x, dict) and "tokens" in x else x for x in items]
        records = [i for i, x in enumerate(items) if isinstance(x, dict)]
        if records:
            located = (lambda k: where(records[k])) if where else (lambda k: f"item {records[k]}")
            given = offset_documents([items[i] for i in records], [ids[i] for i in records], None, located)
            items = list(items)
            for i, doc in zip(records, given):
                items[i] = doc
        raw = [i for i, x in enumerate(items) if isinstance(x, str) and not is_marked(x)]
        rest = [i for i in range(len(items)) if i not in set(raw)]
        out: list[Document | None] = [None] * len(items)
        if raw:
            located = (lambda k: raw_where(raw[k])) if raw_where else None
            out_raw = self.extract([items[i] for i in raw], [ids[i] for i in raw], where=located)
            for i, doc in zip(raw, out_raw):
                out[i] = doc
        if rest:
            docs = []
            for i in rest:
                try:
                    docs.append(self.to_document(items[i], ids[i]))
                except RelxInputError as exc:
                    raise (RelxInputError(exc.problem, None, where(i)) if where else exc) from None
            self.check(docs, where=(lambda k: where(rest[k])) if where else None)
            for i, doc in zip(rest, self.predict(docs)):
                out[i] = doc
        return [d for d in out if d is not None]

    def predict_inputs(self, inputs: PredictionInputs, progress: bool = False) -> list[Document]:
        """The Documents of a file's inputs (:func:`relx.inference.inputs.read_inputs`): raw texts extracted, the rest
        checked and classified; ``progress`` shows a tqdm bar on stderr."""
        if inputs.texts is not None:
            return self.extract(inputs.texts, inputs.ids, inputs.source, inputs.where, progress=progress)
        self.check(inputs.docs, inputs.source, inputs.where)
        return self.predict(inputs.docs, progress=progress)


load = Pipeline.load  # relx.load(directory, ...): a saved model directory as a Pipeline
