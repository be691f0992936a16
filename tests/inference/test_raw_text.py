"""Raw text within a point of gold tokens: the renderer (tokens -> text + offsets), the character-offset scorer,
non-overlapping span decoding, merged windows (long sentences, sentence splits), sentence modes, word joining,
joint-model candidates for pair classifiers and the notice for ner candidates on an untyped model."""

from __future__ import annotations

import warnings

import pytest
import torch
from test_extract import FakeJoint, StubPair, marker_dir, profile  # noqa: F401 (marker_dir: a fixture)

from conftest import make_joint_docs
from relx.cli import main
from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity, Relation, read_jsonl
from relx.evaluation.raw_text import final_period_normalizer, render_documents, render_tokens, score_char_offsets
from relx.inference.extraction import Extractor, extraction_view, load_spacy
from relx.inference.pipeline import Pipeline
from relx.inference.preprocess import join_words, parse, trim_entity
from relx.models.span_decode import decode_spans, merge_pieces, non_overlapping, windowed_predict, word_windows
from relx.registry import MODELS
from tiny_models import tiny_config


@pytest.fixture(scope="module")
def nlp():
    return load_spacy()


# --- renderer -----------------------------------------------------------------------------------
def test_render_tokens_golden():
    tokens = ["`", "`", "We", "'re", "here", ",", "''", "said", "Sen.", "Bob", "Dole", "-LRB-", "R", "-RRB-", "of", "Kansas", "."]
    text, offsets = render_tokens(tokens)
    assert text == '"We\'re here," said Sen. Bob Dole (R) of Kansas.'
    assert [text[s:e] for s, e in offsets] == [
        '"',
        "",
        "We",
        "'re",
        "here",
        ",",
        '"',
        "said",
        "Sen.",
        "Bob",
        "Dole",
        "(",
        "R",
        ")",
        "of",
    ] + [
        "Kansas",
        ".",
    ]
    text, offsets = render_tokens(
        ["He", "paid", "$", "1", ",", "600", "for", "Nixon", "'s", "car", ";", "it", "did", "n't", "run", "--", "ok", "?"]
    )
    assert text == "He paid $1,600 for Nixon's car; it didn't run -- ok?"
    assert offsets[3] == (9, 10) and text[offsets[8][0] : offsets[8][1]] == "'s"
    text, _ = render_tokens(['"', "Hi", '"', "he", "said", "."])
    assert text == '"Hi" he said.'


def test_render_documents_gives_gold_entities_character_offsets():
    doc = Document("d", ["`", "`", "Tim", "Cook", "''", "runs", "Apple", "Inc.", "."], [Entity(2, 4, "Peop"), Entity(6, 8, "Org")])
    (out,) = render_documents([doc])
    text = out.meta["text"]
    assert text == '"Tim Cook" runs Apple Inc..'
    assert [(text[e.char_start : e.char_end], e.start, e.end) for e in out.entities] == [("Tim Cook", 2, 4), ("Apple Inc.", 6, 8)]
    assert out.tokens == doc.tokens and len(out.meta["token_offsets"]) == len(doc.tokens)


# --- character-offset scorer -------------------------------------------------------------------
def _char_doc(doc_id, text, ents, rels=()):
    return Document(
        doc_id, text.split(), [Entity(0, 1, lab, s, e) for s, e, lab in ents], [Relation(*r) for r in rels], meta={"text": text}
    )


def test_char_offset_scorer_hand_computed():
    text = "Bill Gates founded Microsoft in Albuquerque."
    gold = _char_doc("a", text, [(0, 10, "Peop"), (19, 28, "Org"), (32, 43, "Loc")], [(0, 1, "Work_For"), (1, 2, "OrgBased_In")])
    # Peop right; Org span right, type wrong; Loc span wrong (includes the period)
    pred = _char_doc("a", text, [(0, 10, "Peop"), (19, 28, "Loc"), (32, 44, "Loc")], [(0, 1, "Work_For"), (1, 2, "OrgBased_In")])
    m = score_char_offsets([gold], [pred])
    assert (m["ner_correct"], m["ner_predicted"], m["ner_gold"]) == (1, 3, 3)
    assert (m["re_strict_correct"], m["re_boundaries_correct"]) == (0, 1)  # Work_For: types differ; boundaries: spans match
    assert m["re_boundaries_micro_f1"] == pytest.approx(0.5) and m["re_strict_micro_f1"] == 0.0
    norm = final_period_normalizer(lambda w: w in {"Inc.", "Tenn."})
    m = score_char_offsets([gold], [pred], normalize=norm)  # "Albuquerque." -> "Albuquerque" on the prediction side
    assert m["ner_correct"] == 2 and m["re_boundaries_correct"] == 2
    assert norm("He met Acme Inc.", 7, 16) == (7, 16) and norm("Acme Inc. left", 0, 9) == (0, 9)


# --- decoding ----------------------------------------------------------------------------------
def test_non_overlapping_keeps_the_higher_score_greedily():
    spans = [(0, 1), (0, 2), (1, 3), (3, 4), (2, 4)]
    assert non_overlapping(spans, [0.9, 0.95, 0.5, 0.6, 0.4]) == [1, 3]  # (0,2) beats (0,1), (1,3); (3,4) beats (2,4)
    assert non_overlapping([], []) == []


def test_decode_spans_drops_overlaps_and_their_relations():
    x = {
        "ent_ok": [[True, True, True]],
        "ent_bounds": [[[0, 1], [0, 2], [3, 4]]],  # "Microsoft" (0.6) vs "Microsoft ." (0.9), and "Redmond"
        "ent_type": [[0, 0, 1]],
        "ent_score": [[0.6, 0.9, 0.8]],
        "head": [[0, 1]],
        "tail": [[2, 2]],
        "rel_prob": [[[0.7], [0.8]]],
        "rel_on": [[[True], [True]]],
    }
    (both,) = decode_spans(x, ["Org", "Loc"], ["OrgBased_In"], overlapping=True)
    assert [(e.start, e.end) for e in both.entities] == [(0, 1), (0, 2), (3, 4)] and len(both.relations) == 2
    (one,) = decode_spans(x, ["Org", "Loc"], ["OrgBased_In"], overlapping=False)
    assert [(e.start, e.end, e.label) for e in one.entities] == [(0, 2, "Org"), (3, 4, "Loc")]
    assert [(r.head, r.tail, r.score) for r in one.relations] == [(0, 1, 0.8)] and one.meta["entity_scores"] == [0.9, 0.8]


def test_merge_pieces_shifts_dedupes_and_decodes():
    a = Document("a", ["x"] * 4, [Entity(0, 1, "P"), Entity(2, 4, "O")], [Relation(0, 1, "r", 0.4)], meta={"entity_scores": [0.9, 0.5]})
    b = Document("b", ["x"] * 4, [Entity(0, 2, "O"), Entity(2, 3, "L")], [Relation(0, 1, "r", 0.7)], meta={"entity_scores": [0.8, 0.6]})
    ents, scores, rels = merge_pieces([(0, a), (2, b)], overlapping=False)  # b's (0,2) is (2,4) in the text: same span
    assert [(e.start, e.end, e.label) for e in ents] == [(0, 1, "P"), (2, 4, "O"), (4, 5, "L")] and scores == [0.9, 0.8, 0.6]
    assert [(r.head, r.tail, r.label, r.score) for r in rels] == [(0, 1, "r", 0.4), (1, 2, "r", 0.7)]
    ents, _, _ = merge_pieces([(0, a), (1, b)], overlapping=False)  # b's (0,2) -> (1,3) (0.8) beats a's (2,4) (0.5)
    assert [(e.start, e.end) for e in ents] == [(0, 1), (1, 3), (3, 4)]
    ents, _, _ = merge_pieces([(0, a), (1, b)], overlapping=True)
    assert [(e.start, e.end) for e in ents] == [(0, 1), (1, 3), (2, 4), (3, 4)]


# --- long sentences ------------------------------------------------------------------------------
def test_word_windows_overlap_and_cover():
    assert word_windows([1] * 10, 4) == [(0, 4), (2, 6), (4, 8), (6, 10)]
    assert word_windows([3, 9, 1, 1], 4) == [(0, 1), (1, 2), (2, 4)]  # a word longer than the budget is alone
    assert word_windows([1, 1], 4) == [(0, 2)]


def test_long_sentence_is_windowed_not_cut(tiny_bert):
    docs = make_joint_docs()
    model = MODELS.get("span_base")(tiny_config(MODELS.get("span_base"), {"bert": str(tiny_bert)}), LabelSet.from_documents(docs))
    model.prepare(docs)
    long = Document("long", ("bill gates founded microsoft in paris . " * 20).split())  # 140 words, > 64 word pieces
    seen: list[Document] = []

    def fake(ds, feats):  # every "microsoft" is an entity: those past the first window must come back too
        assert len(feats) == len(ds) and all(f["n_words"] == len(d.tokens) for f, d in zip(feats, ds))
        seen.extend(ds)
        out = []
        for d in ds:
            ents = [Entity(i, i + 1, "Org") for i, t in enumerate(d.tokens) if t == "microsoft"]
            out.append(Document(d.id, d.tokens, ents, meta={"entity_scores": [0.9] * len(ents)}))
        return out

    (pred,) = windowed_predict(model, [long], fake, overlapping=False)
    assert len(seen) > 2 and all(len(d.tokens) < 64 for d in seen)
    assert [e.start for e in pred.entities] == [i for i, t in enumerate(long.tokens) if t == "microsoft"]
    torch.manual_seed(0)
    (real,) = model.predict([long, docs[0]])[:1]  # the real model: windows merged, no error
    assert real.meta["windows"] > 1 and all(0 <= e.start < e.end <= len(long.tokens) for e in real.entities)


def test_span_predict_tokenizes_once(tiny_bert, monkeypatch):
    """Sentences that fit the encoder are tokenized by one batched call, whose encodings are their features."""
    docs = make_joint_docs()
    model = MODELS.get("span_base")(tiny_config(MODELS.get("span_base"), {"bert": str(tiny_bert)}), LabelSet.from_documents(docs))
    model.prepare(docs)
    torch.manual_seed(0)
    expected = model.predict(docs, feats=model.featurize_many(docs))
    calls: list[int] = []

    class Counting:  # the model's tokenizer, counting its calls
        def __init__(self, tok: object) -> None:
            self.tok = tok

        def __call__(self, words: list, **kw: object) -> object:
            calls.append(len(words))
            return self.tok(words, **kw)

        def __getattr__(self, name: str) -> object:
            return getattr(self.tok, name)

    monkeypatch.setattr(model, "tokenizer", Counting(model.tokenizer))
    got = model.predict(docs)
    assert calls == [len(docs)]
    assert [(d.entities, d.relations) for d in got] == [(d.entities, d.relations) for d in expected]


# --- sentences, words, offsets -----------------------------------------------------------------
TEXT = "Lt. Col. Oliver North met ITAR-TASS reporters.\nJohn Smith works at Acme Corp in London."


def test_sentence_modes(nlp):
    sd = nlp(TEXT)
    sizes = {mode: parse(TEXT, sd, "t", mode).sentences for mode in ("spacy", "lines", "none")}
    n = len(parse(TEXT, sd, "t").doc.tokens)
    assert sizes["none"] == [(0, n)] and len(sizes["lines"]) == 2 and sizes["lines"][-1][1] == n
    first_line = sizes["lines"][0][1]
    assert parse(TEXT, sd, "t").doc.tokens[first_line] == "John"
    model = FakeJoint()
    doc = Pipeline(model, sentences="none", bridge=False)(TEXT)
    assert len(model.seen) == 1 and doc.meta["extraction"]["sentences"] == "none"
    with pytest.raises(Exception, match="sentences must be one of"):
        Pipeline(FakeJoint(), sentences="paragraphs")


def test_join_words_and_exact_offsets(nlp):
    sd = join_words(nlp("Lt. Col. Oliver North met ITAR-TASS and anti - war Secretary-General people in the U.S. Lt. 5"))
    toks = [t.text for t in sd]
    assert {"Lt.", "Col.", "ITAR-TASS", "Secretary-General"} <= set(toks)
    assert toks[-3:] == ["Lt", ".", "5"]  # a title only before a capitalised word
    assert "anti" in toks and "war" in toks  # spaced hyphens stay apart
    for bridge in (False, True):
        doc = Pipeline(FakeJoint(), bridge=bridge)(TEXT)
        view = extraction_view(doc)
        assert "ITAR-TASS" in [e["text"] for e in view["entities"]]
        for e in doc.entities:  # character offsets exact for every entity
            assert TEXT[e.char_start : e.char_end] == " ".join(doc.tokens[e.start : e.end])


def test_bridge_windows_span_sentence_splits(nlp):
    model = FakeJoint()
    text = "Bill Gates founded it. Microsoft grew."
    Pipeline(model, bridge=True)(text)
    assert [" ".join(d.tokens) for d in model.seen][-1] == "Bill Gates founded it . Microsoft grew ."
    doc = Pipeline(FakeJoint(), bridge=True)(text)
    rels = [(r["head_text"], r["tail_text"]) for r in extraction_view(doc)["relations"]]
    assert rels == [("Bill Gates", "Microsoft")]  # only the bridge window sees both
    assert extraction_view(Pipeline(FakeJoint(), bridge=False)(text))["relations"] == []


# --- pair classifiers ----------------------------------------------------------------------------
def test_joint_model_candidates_for_a_pair_classifier(nlp):
    labels = LabelSet(["founder"])
    stub = StubPair(labels, {("Bill Gates", "Microsoft"): ("founder", 0.8)}, profile({"Ent": 3}, [["Ent", "Ent"]]))
    doc = Extractor(stub, nlp=nlp, candidates=FakeJoint())(["Bill Gates founded Microsoft in 1975."])[0]
    assert doc.meta["extraction"]["candidates"] == "model"
    assert [(e["text"], e["label"]) for e in extraction_view(doc)["entities"]] == [("Bill Gates", "Ent"), ("Microsoft", "Ent")]
    assert [(r["head_text"], r["label"], r["tail_text"]) for r in extraction_view(doc)["relations"]] == [
        ("Bill Gates", "founder", "Microsoft")
    ]
    with pytest.raises(Exception, match="not a joint model"):
        Extractor(stub, nlp=nlp, candidates=stub)


def test_ner_candidates_on_an_untyped_model_say_so(nlp):
    semeval = profile({"O": 20}, [["O", "O"]], e1_first=True)
    stub = StubPair(LabelSet(["Cause-Effect(e1,e2)"], "Other"), {}, semeval)
    with pytest.warns(UserWarning, match="untyped entities"):
        ex = Extractor(stub, nlp=nlp, candidates="ner")
    assert "noun_chunks" in ex.notice
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Extractor(stub, nlp=nlp, candidates="auto").notice is None  # auto picks noun chunks: nothing to say
        typed = StubPair(LabelSet(["founder"]), {}, profile({"PERSON": 3}, [["PERSON", "PERSON"]]))
        assert Extractor(typed, nlp=nlp, candidates="ner").notice is None


def test_trimmed_ner_candidates(nlp):
    sd = nlp("The U.S. Navy and Reagan's aides met the Soviet Union's envoy in Nashville, Tenn.")
    trimmed = [(p.text, p.label_) for e in sd.ents for p in trim_entity(e)]
    assert ("U.S. Navy", "ORG") in trimmed and ("Soviet Union", "GPE") in trimmed
    assert all(not t.startswith(("The ", "the ")) and not t.endswith("'s") for t, _ in trimmed)
    for e in sd.ents:
        for p in trim_entity(e):
            assert "," not in p.text and e.start <= p.start < p.end <= e.end


def test_cli_sentences_option(marker_dir, tmp_path, capsys):  # noqa: F811 (the imported fixture)
    out = tmp_path / "o.jsonl"
    text = "Bill Gates founded Microsoft. John Smith works at Acme Corp.\nParis is nice."
    assert main(["predict", str(marker_dir), "--text", text, "--sentences", "lines", "--output", str(out)]) == 0
    (doc,) = read_jsonl(out)
    assert doc.meta["extraction"]["sentences"] == "lines" and len(doc.meta["sentences"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["predict", str(marker_dir), "--text", text, "--sentences", "paragraphs"])
    assert info.value.code == 2 and "paragraphs" in capsys.readouterr().err
