"""Round trips keep every token: every writer gives back what a reader read, or refuses with one line.

For every writable format ``read(write(docs))`` equals ``docs`` projected on what the format holds
(``PROJECTIONS`` below; JSON formats keep whitespace tokens exactly), or the writer raises RelxInputError
with one line naming the output file and the record, and leaves no file. The text formats (marked,
semeval, casrel) are split on whitespace and read ``<e1>`` as a tag, so they refuse such tokens instead of
dropping or misreading them. Readers refuse an entity that starts or ends on a blank token (FewRel
has whitespace tokens) and a FewRel mention whose positions are not contiguous.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from relx.cli import main
from relx.data import io
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxInputError
from relx.registry import WRITERS
from tiny_models import tiny_config


# --- what each format holds (the projection a round trip must keep) ------------------------------
def _rels(doc: Document) -> list[tuple[int, int, str]]:
    return [(r.head, r.tail, r.label) for r in doc.relations]


def _ents(doc: Document, typed: bool = True) -> list[tuple]:
    return [(e.start, e.end, e.label) if typed else (e.start, e.end) for e in doc.entities]


def _jsonl(doc: Document) -> object:
    """Everything: tokens (whitespace ones included), entities, relations with scores, token fields, meta."""
    return doc.to_dict()


def _spert(doc: Document) -> object:
    """Id, tokens, typed entities, relations (no scores; no token fields or meta; ``orig_id`` is added)."""
    return doc.id, doc.tokens, _ents(doc), _rels(doc)


def _tacred(doc: Document) -> object:
    """Id, tokens (brackets, not -LRB-), the two typed entities, the relation and its direction, pos/ner/heads/deprels."""
    return doc.id, doc.tokens, _ents(doc), _rels(doc), doc.pos, doc.ner, doc.heads, doc.deprels


def _marked(doc: Document) -> object:
    """Id, tokens, the two entity spans (no types: they read back as ENTITY), the relation and its direction."""
    return doc.id, doc.tokens, _ents(doc, typed=False), _rels(doc)


def _semeval(doc: Document) -> object:
    """Id, the characters of the sentence and of each entity (spaCy re-tokenizes), the relation and its direction."""
    return doc.id, "".join(doc.tokens), ["".join(doc.tokens[e.start : e.end]) for e in doc.entities], _rels(doc)


def _casrel(doc: Document) -> object:
    """Tokens and the multiset of (head text, label, tail text) triples (repeats read back into meta)."""
    triples = [(doc.span_text(r.head), r.label, doc.span_text(r.tail)) for r in doc.relations]
    triples += [tuple(t) for t in doc.meta.get("duplicate_triples", [])]
    return doc.tokens, Counter(triples)


PROJECTIONS = {"jsonl": _jsonl, "spert": _spert, "tacred": _tacred, "marked": _marked, "semeval": _semeval, "casrel": _casrel}
SENTENCE_FORMATS = ("tacred", "marked", "semeval")  # exactly two entities, at most one relation
TEXT_FORMATS = ("marked", "semeval", "casrel")  # a whitespace-split text: no whitespace, empty or (tagged) tag-like tokens


def test_every_registered_writer_has_a_projection() -> None:
    assert set(WRITERS.names()) == set(PROJECTIONS)


def round_trip(fmt: str, docs: list[Document], path: Path) -> list[Document]:
    io.write(path, docs, fmt)
    return io.read(path, fmt)


def refusal(fmt: str, docs: list[Document], path: Path) -> str:
    """The one-line message of a writer's refusal (asserted to name the file and a record; no file left)."""
    with pytest.raises(RelxInputError) as info:
        io.write(path, docs, fmt)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(str(path)) and "(id " in msg, msg
    assert not path.exists() and not list(path.parent.glob(f".{path.name}*"))
    return msg


# --- 1. writers: whitespace, tag-like and PTB tokens ---------------------------------------------
def fewrel_file(tmp_path: Path, tokens: list[str], head: list[int], tail: list[int]) -> Path:
    path = tmp_path / "fewrel.json"
    path.write_text(json.dumps({"P26": [{"tokens": tokens, "h": ["h", "Q1", [head]], "t": ["t", "Q2", [tail]]}]}))
    return path


FEWREL_TOKENS = ["Anna", "\xa0", "married", "\n", "Bob", " ", "\n\n\n", "."]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_convert_fewrel_whitespace_tokens_to_text_format_is_refused(fmt: str, tmp_path: Path, capsys) -> None:
    src, out = fewrel_file(tmp_path, FEWREL_TOKENS, [0], [4]), tmp_path / f"out.{fmt}"
    assert main(["data", "convert", str(src), str(out), "--to", fmt]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"relx: error: {out} (record 1 (id 'P26-0'))"), err
    assert "token 1 '\\xa0' is whitespace" in err[0] and fmt in err[0]
    assert not out.exists()


@pytest.mark.parametrize("fmt", ["jsonl", "tacred", "spert"])
def test_convert_fewrel_whitespace_tokens_to_json_format_keeps_them(fmt: str, tmp_path: Path, capsys) -> None:
    src, out = fewrel_file(tmp_path, FEWREL_TOKENS, [0], [4]), tmp_path / f"out.{fmt}"
    assert main(["data", "convert", str(src), str(out), "--to", fmt]) == 0
    (back,) = io.read(out, fmt)
    assert back.tokens == FEWREL_TOKENS and _ents(back, typed=False) == [(0, 1), (4, 5)] and back.id == "P26-0"


@pytest.mark.parametrize("fmt", ["marked", "semeval"])
@pytest.mark.parametrize("tag", ["<e1>", "</e2>", "<E1>", "x<e2>y"])
def test_tag_like_token_is_refused_by_tagged_formats(fmt: str, tag: str, tmp_path: Path) -> None:
    doc = Document("d1", ["Bill", tag, "founded", "Microsoft"], [Entity(0, 1, "PER"), Entity(3, 4, "ORG")], [Relation(0, 1, "founder")])
    msg = refusal(fmt, [doc], tmp_path / "out.txt")
    assert f"token 1 {tag!r} looks like an entity tag" in msg


@pytest.mark.parametrize("fmt", ["marked", "semeval"])
def test_tag_split_over_tokens_is_refused(fmt: str, tmp_path: Path) -> None:
    """``<e1`` then ``>`` are written as ``<e1 >``, which the reader takes for a tag."""
    doc = Document("d1", ["Bill", "<e1", ">", "founded", "Microsoft"], [Entity(0, 1), Entity(4, 5)])
    assert "would not read back" in refusal(fmt, [doc], tmp_path / "out.txt")


def test_tacred_literal_ptb_token_is_refused_and_brackets_round_trip(tmp_path: Path) -> None:
    ents = [Entity(0, 1, "PER"), Entity(4, 5, "ORG")]
    literal = Document("t1", ["Bill", "-LRB-", "x", ")", "Microsoft"], ents, [Relation(0, 1, "r")])
    assert "token 1 '-LRB-' would read back as '('" in refusal("tacred", [literal], tmp_path / "out.json")
    brackets = Document("t1", ["Bill", "(", "x", ")", "Microsoft"], ents, [Relation(0, 1, "r")])
    (back,) = round_trip("tacred", [brackets], tmp_path / "ptb.json")
    assert _tacred(back) == _tacred(brackets)
    io.write(tmp_path / "raw.json", [brackets], "tacred", ptb_brackets=False)
    assert [_tacred(d) for d in io.read(tmp_path / "raw.json", "tacred")] == [_tacred(brackets)]


def test_tacred_writer_refuses_what_its_reader_refuses(tmp_path: Path) -> None:
    crossed = Document("t1", ["a", "b", "c", "d"], [Entity(0, 2), Entity(1, 3)])
    assert "cross" in refusal("tacred", [crossed], tmp_path / "out.json")
    negative_named = Document("t2", ["a", "b"], [Entity(0, 1), Entity(1, 2)], [Relation(0, 1, "no_relation")])
    assert "would not read back" in refusal("tacred", [negative_named], tmp_path / "out.json")


def test_semeval_comment_or_sentence_with_a_newline_never_breaks_the_file(tmp_path: Path) -> None:
    doc = Document("s1", ["Bill", "founded", "Microsoft"], [Entity(0, 1), Entity(2, 3)], [Relation(0, 1, "r")])
    doc.meta["sentence"] = "<e1>Bill</e1>\nfounded <e2>Microsoft</e2>"  # same tokens; written as rendered instead
    (back,) = round_trip("semeval", [doc], tmp_path / "a.txt")
    assert _semeval(back) == _semeval(doc)
    doc.meta["comment"] = "two\nlines"
    assert "would not read back" in refusal("semeval", [doc], tmp_path / "b.txt")


@pytest.mark.parametrize("fmt", ["marked", "semeval"])
@pytest.mark.parametrize("doc_id", ["a b", 'q"1', ""])
def test_tagged_formats_refuse_ids_they_cannot_hold(fmt: str, doc_id: str, tmp_path: Path) -> None:
    doc = Document(doc_id, ["Bill", "founded", "Microsoft"], [Entity(0, 1), Entity(2, 3)])
    assert "cannot be written" in refusal(fmt, [doc], tmp_path / "out.txt")


def test_casrel_keeps_repeated_triples(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps([{"text": "Bob lives in Paris", "triple_list": [["Bob", "lives_in", "Paris"]] * 2}]))
    first = io.read(path, "casrel")
    assert [_casrel(d) for d in round_trip("casrel", first, tmp_path / "out.json")] == [_casrel(d) for d in first]


def test_lone_surrogate_is_refused_with_one_line(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "s.jsonl"
    bad.write_text(json.dumps({"id": "a", "tokens": ["x\ud800", "b"]}) + "\n")
    assert main(["data", "convert", str(bad), str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"relx: error: {bad}:1: ") and "lone surrogate" in err[0]
    bad.write_text(json.dumps({"id": "a\ud800", "tokens": ["x", "b"]}) + "\n")
    assert main(["data", "convert", str(bad), str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lone surrogate" in err[0] and "Traceback" not in err[0]
    assert not (tmp_path / "o.jsonl").exists()


# --- 2. readers: an entity must start and end on a visible token ------------------------------------
@pytest.mark.parametrize(
    ("tokens", "head", "bad"),
    [
        (FEWREL_TOKENS, [3], "starts on token 3 '\\n'"),
        (FEWREL_TOKENS, [4, 5], "ends on token 5 ' '"),
        (FEWREL_TOKENS, [1, 2], "starts on token 1 '\\xa0'"),
        (["Anna", "", "married", "Bob"], [1, 2], "starts on token 1 ''"),
        (["Anna", "\u200b", "married", "Bob"], [0, 1], "ends on token 1 '\\u200b'"),
    ],
)
def test_fewrel_entity_on_blank_token_is_rejected_with_one_line(tokens, head, bad, tmp_path: Path, capsys) -> None:
    src = fewrel_file(tmp_path, tokens, head, [len(tokens) - 1] if tokens[-1].strip() else [0])
    assert main(["data", "convert", str(src), str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"relx: error: {src} (relation 'P26', instance 0): "), err
    assert f"entity 0 span [{head[0]}, {head[-1] + 1}) {bad}" in err[0]


def jsonl_file(tmp_path: Path, tokens: list[str], e1: tuple[int, int]) -> Path:
    path = tmp_path / "d.jsonl"
    good = {
        "id": "ok",
        "tokens": ["a", "b", "c"],
        "entities": [{"start": 0, "end": 1}, {"start": 2, "end": 3}],
        "relations": [{"head": 0, "tail": 1, "label": "r"}],
    }
    bad = {
        "id": "bad",
        "tokens": tokens,
        "entities": [{"start": e1[0], "end": e1[1], "label": "P"}, {"start": 0, "end": 1, "label": "O"}],
        "relations": [{"head": 0, "tail": 1, "label": "r"}],
    }
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    return path


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.mark.parametrize(
    ("tokens", "e1", "bad"),
    [
        (["Bill", "Gates", "\n"], (1, 3), "ends on token 2 '\\n'"),
        (["Bill", "\xa0", "Gates"], (1, 3), "starts on token 1 '\\xa0'"),
        (["Bill", "", "Gates"], (1, 2), "starts on token 1 ''"),
    ],
)
def test_jsonl_entity_on_blank_token_is_rejected_by_convert_and_train(tokens, e1, bad, tmp_path: Path, capsys) -> None:
    src = jsonl_file(tmp_path, tokens, e1)
    assert main(["data", "convert", str(src), str(tmp_path / "o.jsonl")]) == 2
    assert _one_error_line(capsys).startswith(f"relx: error: {src}:2: document 'bad': entity 0 span [{e1[0]}, {e1[1]}) {bad}")
    cfg = {"model": {"type": "svm2stage"}, "data": {"train": str(src), "format": "jsonl", "dev": None}, "trainer": {"epochs": 1}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run")]) == 2
    assert _one_error_line(capsys).startswith(f"relx: error: {src}:2: document 'bad': entity 0")
    assert not (tmp_path / "run" / "model").exists()


def test_blank_tokens_inside_or_outside_entities_are_valid(tmp_path: Path) -> None:
    """Only the edges matter: FewRel keeps its whitespace tokens, an empty token between words is kept too."""
    doc = Document("d", ["Bill", "\n", "Gates", "", "founded", "\xa0"], [Entity(0, 3, "P"), Entity(4, 5, "O")], [Relation(0, 1, "r")])
    assert [d.to_dict() for d in round_trip("jsonl", [doc], tmp_path / "d.jsonl")] == [doc.to_dict()]


def test_marker_model_names_the_entity_instead_of_a_bare_key_error(tiny_bert) -> None:
    """A token the tokenizer drops (here U+FFFD, not blank) at an entity edge: a located RelxInputError, not KeyError."""
    from relx.data.labels import LabelSet
    from relx.models.marker import MarkerModel

    docs = [
        Document(
            "a", "bill gates founded microsoft".split(), [Entity(0, 2, "PERSON"), Entity(3, 4, "ORGANIZATION")], [Relation(0, 1, "founder")]
        ),
        Document("b", "the man visited paris".split(), [Entity(1, 2, "PERSON"), Entity(3, 4, "ORGANIZATION")]),
    ]
    model = MarkerModel(tiny_config(MarkerModel, {"bert": str(tiny_bert)}), LabelSet.from_documents(docs))
    model.prepare(docs)
    doc = Document("odd", ["bill", "\ufffd", "founded", "microsoft"], [Entity(0, 2, "PERSON"), Entity(3, 4, "ORGANIZATION")])
    with pytest.raises(RelxInputError, match="document 'odd': entity 0 ends on token 1 '\ufffd'"):
        model.predict([doc])


# --- 3. FewRel: non-contiguous positions ----------------------------------------------------------
@pytest.mark.parametrize("head", [[3, 5], [0, 1, 4], [5, 3]])
def test_fewrel_non_contiguous_mention_is_refused(head, tmp_path: Path, capsys) -> None:
    src = fewrel_file(tmp_path, ["a", "b", "c", "d", "e", "f"], head, [1])
    assert main(["data", "convert", str(src), str(tmp_path / "o.jsonl")]) == 2
    line = _one_error_line(capsys)
    assert line.startswith(f"relx: error: {src} (relation 'P26', instance 0): field 'h': ") and "not contiguous" in line


def test_fewrel_contiguous_mentions_in_any_order_are_read(tmp_path: Path) -> None:
    (doc,) = io.read(fewrel_file(tmp_path, ["a", "b", "c", "d"], [2, 1, 1], [3]), "fewrel")
    assert _ents(doc, typed=False) == [(1, 3), (3, 4)]


# --- property: every writer over hostile tokens ---------------------------------------------------
hyp = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

WORD = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Z"), blacklist_characters="<>"), min_size=1, max_size=5)
HOSTILE = st.sampled_from(
    [
        " ",
        "\xa0",
        "\n",
        "\n\n\n",
        "\n ",
        "\t",
        "\r",
        "",
        "\u2028",
        "a b",
        "x\ty",  # whitespace (FewRel has the first five)
        "<e1>",
        "</e2>",
        "<E2>",
        "<e1",
        ">",
        "<",
        "/e1>",  # tag-like
        '"',
        "''",
        "``",
        "-LRB-",
        "-RRB-",
        "-LSB-",
        "(",
        ")",
        "Comment:",
        "\u200b",
        "\x00",
        "\\",  # quotes, PTB, odd characters
    ]
)


def is_blank(token: str) -> bool:
    """No visible character (the readers' rule, restated here as the test's oracle)."""
    return all(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in token)


PTB = {"-LRB-", "-RRB-", "-LSB-", "-RSB-", "-LCB-", "-RCB-"}
PLAIN_WORD = WORD.filter(lambda w: w not in PTB)  # hypothesis finds "-RCB-" on its own: TACRED reads it back as "}"


@st.composite
def documents(draw, pair: bool, hostile: bool):
    tokens = draw(st.lists(st.one_of(WORD, HOSTILE) if hostile else PLAIN_WORD, min_size=2, max_size=10))
    visible = [i for i, t in enumerate(tokens) if not is_blank(t)]
    assume(len(visible) >= 2)
    labels = st.sampled_from(["PER", "ORG", "LOC"])
    if pair:  # two non-overlapping entities, in either order, and no relation or one in either direction
        a, b, c, d = sorted(draw(st.lists(st.sampled_from(visible), min_size=4, max_size=4)))
        assume(b < c)
        ents = [Entity(a, b + 1, draw(labels)), Entity(c, d + 1, draw(labels))]
        if draw(st.booleans()):
            ents.reverse()
        rels = draw(st.sampled_from([[], [Relation(0, 1, "r1")], [Relation(1, 0, "per:title")]]))
    else:
        spans = draw(st.lists(st.tuples(st.sampled_from(visible), st.sampled_from(visible)), max_size=4))
        ents = [Entity(min(s, e), max(s, e) + 1, draw(labels)) for s, e in spans]
        pairs = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=3, unique=True)) if len(ents) >= 2 else []
        rels = [Relation(h, t, draw(st.sampled_from(["r1", "r2"]))) for h, t in pairs if h != t and max(h, t) < len(ents)]
    doc_id = draw(st.sampled_from(["d", "x-1", "P26-0"]) if not hostile else st.sampled_from(["d", "a b", 'q"', "<e1>", ""]))
    return Document(doc_id, tokens, ents, rels).validate()


def may_refuse(fmt: str, doc: Document) -> bool:
    """When ``fmt`` may refuse ``doc`` (otherwise it must round-trip it): never for jsonl and spert."""
    if fmt == "tacred":
        return any(t in PTB for t in doc.tokens)
    if fmt in TEXT_FORMATS:
        if any(not t or any(c.isspace() for c in t) for t in doc.tokens):
            return True
        if fmt != "casrel":
            return any("<" in t or ">" in t for t in doc.tokens) or not doc.id or any(c.isspace() or c == '"' for c in doc.id)
    return False


def check(fmt: str, docs: list[Document], directory: Path) -> None:
    path = directory / f"d.{fmt}"
    refused = [d for d in docs if may_refuse(fmt, d)]
    try:
        back = round_trip(fmt, docs, path)
    except RelxInputError:
        assert refused, f"{fmt} refused documents it can hold: {docs}"
        msg = refusal(fmt, docs, path)
        assert any(f"(id {d.id!r})" in msg for d in refused), msg
        return
    assert [PROJECTIONS[fmt](d) for d in back] == [PROJECTIONS[fmt](d) for d in docs]


def _unique_ids(docs: list[Document]) -> list[Document]:
    """Readers refuse repeated ids: make the drawn ones unique."""
    for i, d in enumerate(docs):
        if any(b.id == d.id for b in docs[:i]):
            d.id = f"{d.id}{i}"
    return docs


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.mark.parametrize("fmt", sorted(PROJECTIONS))
@PROPERTY
@given(data=st.data())
def test_every_writer_round_trips_or_refuses_hostile_tokens(fmt: str, data, tmp_path_factory) -> None:
    pair = fmt in SENTENCE_FORMATS or data.draw(st.booleans())
    docs = _unique_ids(data.draw(st.lists(documents(pair=pair, hostile=True), min_size=1, max_size=3)))
    check(fmt, docs, tmp_path_factory.mktemp(fmt))


@pytest.mark.parametrize("fmt", sorted(PROJECTIONS))
@PROPERTY
@given(data=st.data())
def test_every_writer_round_trips_plain_words(fmt: str, data, tmp_path_factory) -> None:
    pair = fmt in SENTENCE_FORMATS or data.draw(st.booleans())
    docs = _unique_ids(data.draw(st.lists(documents(pair=pair, hostile=False), min_size=1, max_size=3)))
    path = tmp_path_factory.mktemp(fmt) / f"d.{fmt}"
    assert [PROJECTIONS[fmt](d) for d in round_trip(fmt, docs, path)] == [PROJECTIONS[fmt](d) for d in docs]
