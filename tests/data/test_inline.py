"""parse_marked / render_marked: tokenization around inline <e1>/<e2> tags."""

from __future__ import annotations

import pytest

from relx.data.inline import parse_marked, render_marked
from relx.data.schema import Entity
from relx.errors import RelxInputError


def spans(ents: list[Entity]) -> list[tuple[int, int, str]]:
    return [(e.start, e.end, e.label) for e in ents]


def test_basic_sentence() -> None:
    tokens, ents = parse_marked("<e1>Bill Gates</e1> founded <e2>Microsoft</e2>.")
    assert tokens == ["Bill", "Gates", "founded", "Microsoft", "."]
    assert spans(ents) == [(0, 2, "ENTITY"), (3, 4, "ENTITY")]


def test_tags_split_tokens_that_spacy_would_join() -> None:
    # "anti<e1>body</e1>" and a tag glued to punctuation: the tag boundary is a token boundary
    tokens, ents = parse_marked("The anti<e1>body</e1> binds (<e2>U.S.</e2>).")
    assert tokens == ["The", "anti", "body", "binds", "(", "U.S.", ")", "."]
    assert spans(ents) == [(2, 3, "ENTITY"), (5, 6, "ENTITY")]


def test_spacy_rules_inside_segments() -> None:
    tokens, ents = parse_marked("I've got the <e1>world</e1> in a <e2>jug</e2>, the stopper's in my hand.")
    assert tokens[:2] == ["I", "'ve"]
    assert tokens[8:12] == [",", "the", "stopper", "'s"]
    assert [tokens[e.start] for e in ents] == ["world", "jug"]


def test_e2_before_e1_and_extra_whitespace() -> None:
    tokens, ents = parse_marked("  <e2> Apple </e2>  was founded by   <e1>Steve  Jobs</e1> .  ")
    assert tokens == ["Apple", "was", "founded", "by", "Steve", "Jobs", "."]
    assert spans(ents) == [(4, 6, "ENTITY"), (0, 1, "ENTITY")]


def test_whitespace_mode_with_glued_and_spaced_tags() -> None:
    text = " <e1> Thom Yorke </e1> of <e2>Radiohead</e2> plays the co-lead guitar . "
    tokens, ents = parse_marked(text, tokenize=False)
    assert tokens == ["Thom", "Yorke", "of", "Radiohead", "plays", "the", "co-lead", "guitar", "."]
    assert spans(ents) == [(0, 2, "ENTITY"), (3, 4, "ENTITY")]


def test_adjacent_entities() -> None:
    tokens, ents = parse_marked("<e1>New York</e1><e2>Times</e2> reported.")
    assert tokens == ["New", "York", "Times", "reported", "."]
    assert spans(ents) == [(0, 2, "ENTITY"), (2, 3, "ENTITY")]


@pytest.mark.parametrize(
    "text, message",
    [
        ("<e1>Bill</e1> founded Microsoft.", "missing tag <e2>"),
        ("<e1>Bill</e1> founded <e2>Microsoft.", "missing tag </e2>"),
        ("<e1>Bill</e1> and <e1>Melinda</e1> founded <e2>it</e2>.", "tag <e1> appears 2 times"),
        ("<e1>Bill <e2>Gates</e2></e1> founded it.", "nested or overlap"),
        ("<e1>Bill <e2>Gates</e1> founded</e2> it.", "nested or overlap"),
        ("</e1>Bill<e1> founded <e2>it</e2>.", "</e1> comes before <e1>"),
        ("<e1> </e1> founded <e2>it</e2>.", "entity e1 is empty"),
        ("No tags at all.", "missing tag <e1>"),
    ],
)
def test_bad_tags(text: str, message: str) -> None:
    with pytest.raises(RelxInputError) as info:
        parse_marked(text)
    assert message in str(info.value)
    assert info.value.path is None


def test_render_round_trip() -> None:
    tokens, ents = parse_marked("The <e1>company</e1> fabricates plastic <e2>chairs</e2>.")
    assert render_marked(tokens, ents) == "The <e1>company</e1> fabricates plastic <e2>chairs</e2> ."
    assert render_marked(tokens, ents, spaced=True) == "The <e1> company </e1> fabricates plastic <e2> chairs </e2> ."
    assert parse_marked(render_marked(tokens, ents)) == (tokens, ents)
    assert parse_marked(render_marked(tokens, ents, spaced=True), tokenize=False) == (tokens, ents)


def test_render_rejects_overlap() -> None:
    with pytest.raises(RelxInputError):
        render_marked(["a", "b"], [Entity(0, 2), Entity(1, 2)])
