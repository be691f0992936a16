"""Raw-text extraction as three stages, the Hugging Face pipeline shape: preprocess -> model -> postprocess.

``Extractor(model)(texts)`` returns one Document per text:

1. preprocess (:mod:`relx.inference.preprocess`): spaCy tokens (whitespace dropped) and sentences, the ``pos`` /
   ``ner`` / ``heads`` / ``deprels`` fields as ``relx data annotate`` writes them (so feature models need no
   second parse) and, for pair and all-pairs models, entity candidates;
2. model (:mod:`relx.inference.strategies`, one strategy per model kind): the Documents the model takes, one
   batched ``model.predict`` call (through the Pipeline's engine), predictions mapped back to each text;
3. postprocess (:meth:`Extractor.postprocess`): the text-level Document with the entities (each with
   ``char_start`` / ``char_end``: ``text[char_start:char_end]`` is the entity text) and scored relations, and
   in ``meta``: ``text`` (the input), ``token_offsets`` (``[char_start, char_end]`` of every token),
   ``sentences`` (``[token_start, token_end]`` of every spaCy sentence) and ``extraction``:
   ``{"kind": "joint" | "pair" | "multi", "candidates": "ner" | "noun_chunks" | None, "threshold"}``.

:func:`extraction_view` renders the entities and relations of such a Document as readable dicts (texts, spans).
Relations score at least ``threshold``: default 0.5 for pair classifiers; joint models already decide which
relations hold (span_base: sigmoid >= its rel_threshold; two_phase: Phase One) and all-pairs models (kernel) keep
their own (dev-tuned) threshold, unless one is given.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from relx.data.schema import Document, Entity, Relation
from relx.data.spacy_doc import UNTYPED_LABELS, map_entity_type
from relx.errors import RelxConfigError, RelxInputError
from relx.inference.preprocess import (
    CANDIDATES,
    MAX_TEXT_CHARS,
    SENTENCES,
    Candidate,
    Parsed,
    check_candidates,
    check_sentences,
    entity_type_counts,
    find_candidates,
    is_untyped,
    join_words,
    load_spacy,
    parse,
    resolve_candidates,
    text_problem,
)
from relx.inference.strategies import STRATEGIES, Found

__all__ = [
    "CANDIDATES",
    "MAX_TEXT_CHARS",
    "SENTENCES",
    "UNTYPED_LABELS",
    "Extractor",
    "check_candidates",
    "check_sentences",
    "check_threshold",
    "extraction_view",
    "is_marked",
    "load_spacy",
    "map_entity_type",
    "resolve_candidates",
    "text_problem",
]

_MARK = re.compile(r"<\s*/?\s*e[12]\s*>", re.IGNORECASE)
PAIR_THRESHOLD = 0.5  # default for pair classifiers; joint models keep their own decisions unless a threshold is given

Where = Callable[[int], str | int]


def is_marked(text: str) -> bool:
    """True when ``text`` carries inline ``<e1>`` / ``<e2>`` tags (it then goes the pair-classifier way)."""
    return bool(_MARK.search(text))


def check_threshold(value: Any) -> float | None:
    """A threshold in [0, 1], or None (the model kind's default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise RelxConfigError(f"threshold must be a number in [0, 1], got {value!r}")
    return float(value)


def extraction_view(doc: Document) -> dict[str, list[dict]]:
    """The entities and relations of an extracted Document as readable dicts, read from its fields:
    ``entities``: ``{"text", "label", "char_start", "char_end", "start", "end"}``; ``relations``: ``{"head", "tail",
    "label", "score", "head_text", "tail_text", "head_span", "tail_span"}`` (``*_span``: ``[char_start, char_end]``)."""
    text = str(doc.meta.get("text", ""))
    ents = [
        {
            "text": text[e.char_start : e.char_end] if e.char_start is not None else doc.span_text(k),
            "label": e.label,
            "char_start": e.char_start,
            "char_end": e.char_end,
            "start": e.start,
            "end": e.end,
        }
        for k, e in enumerate(doc.entities)
    ]
    rels = [
        {
            "head": r.head,
            "tail": r.tail,
            "label": r.label,
            "score": r.score,
            "head_text": ents[r.head]["text"],
            "tail_text": ents[r.tail]["text"],
            "head_span": [ents[r.head]["char_start"], ents[r.head]["char_end"]],
            "tail_span": [ents[r.tail]["char_start"], ents[r.tail]["char_end"]],
        }
        for r in doc.relations
    ]
    return {"entities": ents, "relations": rels}


class Extractor:
    """Raw texts -> Documents with entities and scored relations, for any relx model (module docstring).

    ``sentences``: ``spacy`` (spaCy's sentences), ``lines`` (one sentence per line) or ``none`` (the whole text is
    one sentence). ``join_words``: merge spaCy's pieces of hyphenated words (``ITAR-TASS``) back into one token,
    as pre-tokenized corpora such as CoNLL04 keep them (None: for joint models). ``bridge``: joint models also see
    a window spanning each sentence split (None: on for joint models). ``candidates`` may also name a saved joint
    model directory (or be a loaded joint model): a pair classifier then classifies the pairs of the entities
    that model finds (``meta["extraction"]["candidates"] == "model"``).

    ``stats`` accumulates ``spacy_seconds`` (parsing, candidates), ``model_seconds`` (``model.predict``),
    ``texts``, ``sentences`` and ``model_inputs`` (sentence or pair Documents given to the model).
    """

    def __init__(
        self,
        model: Any,
        batch_size: int = 64,
        threshold: float | None = None,
        candidates: Any = "auto",
        nlp: Any = None,
        engine: Any = None,
        sentences: str = "spacy",
        join_words: bool | None = None,
        bridge: bool | None = None,
    ):
        self.model = model
        self.engine = engine  # a relx.inference.engines.Engine (None: the model's own forward)
        self.batch_size = batch_size
        given = check_threshold(threshold)
        strategy = STRATEGIES[model.kind]
        self.threshold = given if given is not None else (PAIR_THRESHOLD if strategy.kind == "pair" else 0.0)
        self.profile: dict | None = model.profile
        self.candidate_model = candidate_model(candidates, model) if strategy.needs_candidates else None
        if self.candidate_model is not None:
            self.candidates: str | None = "model"
        else:
            self.candidates = resolve_candidates(candidates, self.profile) if strategy.needs_candidates else None
        self.strategy = strategy(model, self.threshold, self.candidates)
        self.strategy.bridge = strategy.kind == "joint" if bridge is None else bool(bridge)
        self.sentences = check_sentences(sentences)
        self.join_words = strategy.kind == "joint" if join_words is None else bool(join_words)
        self.trim_entities = True  # ner candidates cut by preprocess.trim_entity (False: spaCy's spans as they are)
        self.nlp = nlp
        self.stats = {"spacy_seconds": 0.0, "model_seconds": 0.0, "texts": 0, "sentences": 0, "model_inputs": 0}
        self.notice = untyped_notice(self.candidates, self.profile)
        if self.notice:
            import warnings

            warnings.warn(self.notice, stacklevel=2)

    @property
    def kind(self) -> str:
        """``pair`` | ``multi`` | ``joint``: the strategy of the model's kind."""
        return self.strategy.kind

    def check(self, texts: Sequence[Any], source: Any = None, where: Where | None = None) -> None:
        """RelxInputError naming the first text that cannot be extracted from (``where(i)`` locates it)."""
        for i, text in enumerate(texts):
            problem = text_problem(text)
            if problem is not None:
                raise RelxInputError(problem, source, where(i) if where else None)

    def __call__(
        self, texts: Sequence[str], ids: Sequence[str] | None = None, source: Any = None, where: Where | None = None
    ) -> list[Document]:
        texts = list(texts)
        self.check(texts, source, where)
        if not texts:
            return []
        t0 = time.perf_counter()
        nlp = self.nlp if self.nlp is not None else load_spacy()
        sdocs = list(nlp.pipe(texts, batch_size=max(self.batch_size, 16)))
        if self.join_words:
            sdocs = [join_words(sd) for sd in sdocs]
        return self.from_spacy(sdocs, ids, t0)

    def from_spacy(self, sdocs: Sequence[Any], ids: Sequence[str] | None = None, t0: float | None = None) -> list[Document]:
        """Like calling the extractor, on texts spaCy already parsed (tagger, parser and NER must have run)."""
        parsed = self.preprocess(sdocs, ids, t0)
        return self.postprocess(parsed, self.forward(parsed))

    # --- the three stages ------------------------------------------------------------------------------
    def preprocess(self, sdocs: Sequence[Any], ids: Sequence[str] | None = None, t0: float | None = None) -> list[Parsed]:
        """spaCy-parsed texts -> Parsed texts (tokens, sentences, token fields; candidates when the strategy needs them)."""
        t0 = time.perf_counter() if t0 is None else t0
        ids = [str(i) for i in range(len(sdocs))] if ids is None else [str(i) for i in ids]
        parsed = [parse(sd.text, sd, i, self.sentences) for sd, i in zip(sdocs, ids)]
        if self.candidate_model is not None:
            self.model_candidates(parsed)
        elif self.candidates is not None:
            for p in parsed:
                p.candidates = find_candidates(p, self.candidates, self.profile, self.trim_entities)
        self.stats["spacy_seconds"] += time.perf_counter() - t0
        self.stats["texts"] += len(parsed)
        self.stats["sentences"] += sum(len(p.sentences) for p in parsed)
        return parsed

    def model_candidates(self, parsed: list[Parsed]) -> None:
        """Entity candidates from the joint candidate model, one sentence at a time, typed as the pair model's
        training data when the type is known there (else spaCy-style mapping)."""
        jobs = [(p, k) for p in parsed for k in range(len(p.sentences))]
        preds = self.candidate_model.predict([p.sentence_docs[k] for p, k in jobs], batch_size=self.batch_size) if jobs else []
        types = entity_type_counts(self.profile)
        for (p, k), pred in zip(jobs, preds):
            s = p.sentences[k][0]
            for e in pred.entities:
                label = e.label if e.label in types or not types else map_entity_type(e.label, types)
                p.candidates.append(Candidate(e.start + s, e.end + s, label, k))

    def forward(self, parsed: list[Parsed]) -> Found:
        """The strategy's model inputs through one batched ``model.predict``, mapped back to each text."""
        docs, where = self.strategy.inputs(parsed)
        t0 = time.perf_counter()
        preds = self.model.predict(docs, batch_size=self.batch_size, engine=self.engine) if docs else []
        self.stats["model_seconds"] += time.perf_counter() - t0
        self.stats["model_inputs"] += len(docs)
        return self.strategy.merge(parsed, where, preds)

    def postprocess(self, parsed: list[Parsed], found: Found) -> list[Document]:
        """Text-level Documents: entities with character offsets, relations, the parse's token fields and meta."""
        out = []
        for p, (ents, rels) in zip(parsed, found):
            doc, offsets = p.doc, p.doc.meta["token_offsets"]
            ents = [Entity(e.start, e.end, e.label, offsets[e.start][0], offsets[e.end - 1][1]) for e in ents]
            info = {"kind": self.kind, "candidates": self.candidates, "threshold": self.threshold, "sentences": self.sentences}
            meta = {**doc.meta, "extraction": info}
            out.append(
                Document(
                    doc.id,
                    doc.tokens,
                    ents,
                    [Relation(r.head, r.tail, r.label, r.score) for r in rels],
                    pos=doc.pos,
                    ner=doc.ner,
                    heads=doc.heads,
                    deprels=doc.deprels,
                    meta=meta,
                )
            )
        return out


def candidate_model(candidates: Any, model: Any) -> Any:
    """The joint model that ``candidates`` names (a saved model directory, or a loaded joint model), or None
    when ``candidates`` is one of CANDIDATES."""
    from relx.models.base import ModelKind

    if isinstance(candidates, str) and candidates in CANDIDATES:
        return None
    if isinstance(candidates, str):
        from pathlib import Path

        from relx.models.loading import load_model

        if not Path(candidates).is_dir():
            raise RelxConfigError(f"candidates must be one of {', '.join(CANDIDATES)} or a joint model directory, got {candidates!r}")
        found = load_model(candidates, device=str(getattr(model, "device", "cpu")))
    else:
        found = candidates
    if getattr(found, "kind", None) is not ModelKind.JOINT:
        raise RelxConfigError(f"candidates: {candidates!r} is not a joint model (one that finds entities, e.g. span_base)")
    return found


def untyped_notice(candidates: str | None, profile: dict | None) -> str | None:
    """A one-line notice when spaCy NER candidates go to a model trained on untyped entities (all ``O`` /
    ``ENTITY``, or no entity types): their types never occur in its training data, so pairs are classified on
    types it never saw; None otherwise."""
    if candidates != "ner" or profile is None:
        return None
    if entity_type_counts(profile) and not is_untyped(profile):
        return None
    return (
        "candidates 'ner': the model was trained on untyped entities (no entity types in its training profile), so spaCy's "
        "typed entities are not what it learned from; use candidates='noun_chunks' (or 'auto') or a typed model"
    )
