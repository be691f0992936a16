"""Span layers (batched, checked against brute force) and the joint span models (overfit, save/load)."""

from __future__ import annotations

import pytest
import torch

from conftest import make_joint_docs as joint_docs
from relx.data.labels import LabelSet
from relx.models.base import ModelKind
from relx.models.loading import load_model
from relx.nn.spans import (
    Fusion,
    compact,
    context_max_pool,
    enumerate_spans,
    pool_words,
    range_max,
    sample_mask,
    span_distance,
    span_max_pool,
)
from relx.registry import MODELS
from tiny_models import tiny_config


def test_pool_words_takes_the_max_over_each_words_subtokens():
    states = torch.tensor([[[0.0, 9.0], [1.0, 2.0], [3.0, -1.0], [5.0, 5.0], [7.0, 7.0]]])  # (1, 5, 2)
    lo, hi = torch.tensor([[1, 3, 0]]), torch.tensor([[3, 4, 0]])  # CLS, word0 x2, word1, SEP; word 2 has no sub-tokens
    out = pool_words(states, lo, hi)
    assert out.tolist() == [[[3.0, 2.0], [5.0, 5.0], [0.0, 0.0]]]


def test_range_max_matches_brute_force():
    torch.manual_seed(0)
    x = torch.randn(2, 13, 3)
    lo = torch.randint(0, 13, (2, 40))
    hi = torch.randint(0, 14, (2, 40))
    out = range_max(x, lo, hi)
    for b in range(2):
        for p in range(40):
            want = x[b, lo[b, p] : hi[b, p]].amax(0) if hi[b, p] > lo[b, p] else torch.zeros(3)
            assert torch.allclose(out[b, p], want)


def test_span_max_pool_matches_brute_force():
    torch.manual_seed(0)
    words = torch.randn(2, 6, 3)
    starts, ends, valid = enumerate_spans(torch.tensor([6, 4]), 3, 6)
    pooled = span_max_pool(words, 3)
    for b in range(2):
        for i, (s, e) in enumerate(zip(starts.tolist(), ends.tolist())):
            assert bool(valid[b, i]) == (e <= [6, 4][b])
            if valid[b, i]:
                assert torch.allclose(pooled[b, i], words[b, s:e].amax(0))


def test_context_pool_and_distance():
    words = torch.arange(12.0).view(1, 6, 2)
    head = torch.tensor([[[0, 1], [0, 2], [4, 6]]])
    tail = torch.tensor([[[3, 4], [2, 3], [0, 2]]])
    ctx = context_max_pool(words, head, tail)
    assert ctx[0, 0].tolist() == [4.0, 5.0]  # words 1..2 (word i = [2i, 2i + 1])
    assert ctx[0, 1].tolist() == [0.0, 0.0]  # adjacent: zeros
    assert ctx[0, 2].tolist() == [6.0, 7.0]  # reversed order: words 2..3
    assert span_distance(head, tail, clip=1).tolist() == [[1, 0, 1]]
    assert span_distance(head, tail, clip=10).tolist() == [[2, 0, 2]]


def test_sample_mask_and_compact():
    torch.manual_seed(0)
    cand = torch.tensor([[True, False, True, True, True], [False, False, True, False, False]])
    picked = sample_mask(cand, 2)
    assert picked.sum(1).tolist() == [2, 1] and not (picked & ~cand).any()
    idx, ok = compact(torch.tensor([[False, True, True], [True, False, False]]))
    assert idx[0].tolist() == [1, 2] and ok.tolist() == [[True, True], [True, False]] and idx[1, 0] == 0


def test_gated_fusion_is_a_convex_combination():
    fuse = Fusion([4, 4, 4], gated=True)
    parts = [torch.full((2, 4), float(v)) for v in (1, 2, 3)]
    out = fuse(parts)
    assert out.shape == (2, 4) and ((out >= 1) & (out <= 3)).all()
    assert Fusion([4, 3], gated=False)([torch.ones(2, 4), torch.ones(2, 3)]).shape == (2, 7)


JOINT = [n for n in MODELS.names() if MODELS.get(n).kind is ModelKind.JOINT]


def test_every_joint_model_is_covered_here():
    assert set(JOINT) >= {"span_base", "two_phase"}


@pytest.mark.parametrize("name", JOINT)
def test_forward_gives_a_finite_loss_that_backprops(name, resources):
    docs = joint_docs()
    cls = MODELS.get(name)
    model = cls(tiny_config(cls, resources), LabelSet({r.label for d in docs for r in d.relations}))
    model.prepare(docs)
    out = model(model.collate([model.featurize(d) for d in docs]))
    assert torch.isfinite(out.loss) and set(out.extras) and all(torch.isfinite(v) for v in out.extras.values())
    out.loss.backward()
    assert model.encoder.embeddings.word_embeddings.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", JOINT)
@pytest.mark.parametrize(
    "ablation",
    [
        {},
        {"two_phase": False},
        {"gated": False},
        {"bi_features": False, "multi_features": False},
        {"relation_reject": True},
        {"phase_one_types": True},
    ],
)
def test_joint_model_overfits_and_round_trips(name, ablation, resources, tmp_path):
    if name == "span_base" and ablation:
        pytest.skip("span_base is the all-off configuration")
    docs = joint_docs()
    labels = LabelSet({r.label for d in docs for r in d.relations})
    cls = MODELS.get(name)
    torch.manual_seed(0)
    model = cls(tiny_config(cls, resources, **ablation), labels)
    model.fit(docs, None, epochs=150, batch_size=4, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0)
    preds = model.predict(docs)
    for g, p in zip(docs, preds):
        assert {(e.start, e.end, e.label) for e in p.entities} == {(e.start, e.end, e.label) for e in g.entities}
        got = {(p.entities[r.head].start, p.entities[r.tail].start, r.label) for r in p.relations}
        assert got == {(g.entities[r.head].start, g.entities[r.tail].start, r.label) for r in g.relations}
        assert all(0.0 <= r.score <= 1.0 for r in p.relations)
    counts = model.sample_counts()
    assert counts["entity"]["Peop"] > 0 and counts["entity"]["Not-Entity"] > counts["entity"]["Peop"]
    model.save(tmp_path / name)
    again = load_model(tmp_path / name).predict(docs)
    for a, b in zip(preds, again):
        assert a.entities == b.entities
        assert [(r.head, r.tail, r.label) for r in a.relations] == [(r.head, r.tail, r.label) for r in b.relations]
        assert [r.score for r in a.relations] == pytest.approx([r.score for r in b.relations], abs=1e-5)


def test_entities_wider_than_epsilon_are_skipped_and_counted(resources):
    docs = joint_docs()
    labels = LabelSet({r.label for d in docs for r in d.relations})
    model = MODELS.get("two_phase")(tiny_config(MODELS.get("two_phase"), resources, max_span_width=1), labels)
    model.prepare(docs)
    feat = model.featurize(docs[0])
    assert feat["skipped"] == (2, 2)  # "john smith" and "acme corp" are 2 words wide


def test_reject_class_lets_phase_two_turn_down_a_tuple_phase_one_accepted(resources):
    """relation_reject: Phase One accepts every tuple here; a dominant Not-Relation column still removes them all,
    and with that column pushed down every pair of given entities gets a type."""
    docs = joint_docs()
    cls = MODELS.get("two_phase")
    torch.manual_seed(0)
    model = cls(tiny_config(cls, resources, relation_reject=True, entities="given", type_signature=False), LabelSet({"Kill", "Live_In"}))
    model.prepare(docs)
    assert model.relation_typer.out_features == 1 + len(model.relation_types)
    model.eval()
    with torch.no_grad():
        model.relation_binary.weight.zero_()
        model.relation_binary.bias.copy_(torch.tensor([-5.0, 5.0]))  # p(Relation) > p(Not-Relation) everywhere
        model.relation_typer.weight.zero_()
        model.relation_typer.bias.copy_(torch.tensor([10.0, 0.0, 0.0]))  # Not-Relation wins
    assert all(not p.relations for p in model.predict(docs))
    with torch.no_grad():
        model.relation_typer.bias.copy_(torch.tensor([-10.0, 0.0, 1.0]))  # Live_In wins over Not-Relation
    preds = model.predict(docs)
    n_pairs = [len(d.entities) * (len(d.entities) - 1) for d in docs]
    assert [len(p.relations) for p in preds] == n_pairs
    assert {r.label for p in preds for r in p.relations} == {"Live_In"}


def test_reject_class_trains_phase_two_on_the_negative_tuples_too(resources):
    """Phase Two's loss by hand on 'oswald killed kennedy in dallas .' (three entities: one gold Kill tuple, five
    unrelated ordered pairs, all sampled). Without a reject class only the gold tuple counts; with it the five
    negatives count too, as Not-Relation (column 0)."""
    import math

    docs = [joint_docs()[1]]
    cls = MODELS.get("two_phase")
    losses = {}
    for reject in (False, True):
        torch.manual_seed(0)
        model = cls(tiny_config(cls, resources, relation_reject=reject), LabelSet({"Kill", "Live_In"}))
        model.prepare(joint_docs())
        model.train()
        with torch.no_grad():
            model.relation_typer.weight.zero_()
            model.relation_typer.bias.copy_(torch.tensor([2.0, 0.0, 0.0] if reject else [0.0, 1.0]))
        losses[reject] = float(model(model.collate([model.featurize(d) for d in docs])).extras["loss_relation_type"])
    # types [Kill, Live_In] (+ Not-Relation first): the gold Kill tuple alone
    assert losses[False] == pytest.approx(-math.log(1 / (1 + math.e)), abs=1e-5)
    z = math.exp(2.0) + 2.0
    expected = (5 * -math.log(math.exp(2.0) / z) + 1 * -math.log(1 / z)) / 6
    assert losses[True] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("bad", [{"phase_one_types": True, "multi_features": False}, {"relation_reject": True, "two_phase": False}])
def test_variant_switches_that_need_another_switch_are_refused(bad, resources):
    from relx.errors import RelxConfigError

    cls = MODELS.get("two_phase")
    with pytest.raises(RelxConfigError):
        cls(tiny_config(cls, resources, **bad), LabelSet({"Kill"}))
