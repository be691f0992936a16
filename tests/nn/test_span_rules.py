"""Span-model decision and sampling rules (relx.nn.span_rules) and their use by the joint span models."""

from __future__ import annotations

import pytest
import torch

from conftest import make_joint_docs
from relx.data.labels import LabelSet
from relx.models.loading import load_model
from relx.nn.span_rules import phase_one_keep, reverse_of_symmetric, signature_mask, signature_table
from relx.registry import MODELS
from relx.training.config import FitContext, TrainerConfig
from tiny_models import tiny_config


def test_reverse_of_symmetric_marks_only_the_reverse_of_symmetric_gold_pairs():
    e, n_rel = 3, 2  # relation 0 symmetric, relation 1 not
    target = torch.zeros(1, e * e, n_rel)
    target[0, 0 * e + 1, 0] = 1  # sym(0, 1)
    target[0, 1 * e + 2, 1] = 1  # asym(1, 2)
    rev = reverse_of_symmetric(target, [0], e).view(e, e)
    assert rev.nonzero().tolist() == [[1, 0]]  # only <1, 0>; <2, 1> (reverse of the asymmetric one) stays a negative
    assert not reverse_of_symmetric(target, [], e).any()


def test_phase_one_rules():
    p_rel = torch.tensor([[[0.7, 0.6], [0.2, 0.45], [0.1, 0.9]]])  # [Not-Relation, Relation]
    p_type = torch.tensor([[0.9, 0.9, 0.5]])
    assert phase_one_keep(p_rel, p_type, "binary", 0.5).tolist() == [[False, True, True]]
    assert phase_one_keep(p_rel, p_type, "threshold", 0.5).tolist() == [[True, False, True]]
    assert phase_one_keep(p_rel, p_type, "product", 0.5).tolist() == [[True, False, False]]  # 0.54, 0.405, 0.45
    with pytest.raises(ValueError, match="relation_rule"):
        phase_one_keep(p_rel, p_type, "both", 0.5)


def test_signature_table_and_mask():
    table = torch.tensor(signature_table([("Peop", "Work_For", "Org")], ["Org", "Peop"], ["Live_In", "Work_For"]))
    assert table.shape == (2, 2, 2) and table.sum() == 1 and bool(table[1, 0, 1])
    mask = signature_mask(table, torch.tensor([[1, 0]]), torch.tensor([[0, 1]]))  # (Peop, Org), (Org, Peop)
    assert mask.tolist() == [[[False, True], [False, False]]]


def _model(name, resources, **kw):
    docs = make_joint_docs()
    cls = MODELS.get(name)
    torch.manual_seed(0)
    return cls(tiny_config(cls, resources, **kw), LabelSet({r.label for d in docs for r in d.relations})), docs


def test_training_never_samples_the_reverse_of_a_symmetric_relation(resources, monkeypatch):
    import relx.models.span as span

    model, docs = _model("span_base", resources, neg_relation_count=1000)
    model.prepare(docs)
    model.symmetric = ["Work_For"]  # pretend: doc 0 has Work_For(john smith, acme corp)
    seen = []
    real = span.sample_mask
    monkeypatch.setattr(span, "sample_mask", lambda cand, n: seen.append(cand.clone()) or real(cand, n))
    batch = model.collate([model.featurize(docs[0])])
    model.train()
    model(batch)
    e = batch["ent_mask"].size(1)
    cand = seen[-1].view(e, e)  # relation negatives offered to sampling (entity negatives came first)
    assert not cand[1, 0] and cand[2, 0]  # <acme corp, john smith> excluded; an unrelated pair is still a candidate
    model.config.symmetric_negatives = True
    model(batch)
    assert seen[-1].view(e, e)[1, 0]


def test_fit_takes_the_symmetric_types_from_the_trainer(resources, tmp_path):
    model, docs = _model("span_base", resources)
    ctx = FitContext(
        TrainerConfig(epochs=1, batch_size=4, progress=False, scheme="joint", metric="re_strict_micro_f1", symmetric=["Kill"]), tmp_path
    )
    model.fit_context(docs, None, ctx)
    assert model.symmetric == ["Kill"]


def test_two_phase_relation_rule_and_type_signature_are_settings_that_survive_save(resources, tmp_path):
    model, docs = _model("two_phase", resources)
    model.fit(docs, None, epochs=150, batch_size=4, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0)
    base = sum(len(p.relations) for p in model.predict(docs))
    assert base == 4
    assert ["Peop", "Work_For", "Org"] in model.signatures
    model.config.relation_rule, model.config.relation_threshold = "threshold", 1.01
    assert sum(len(p.relations) for p in model.predict(docs)) == 0
    model.config.relation_rule, model.config.type_signature = "binary", True
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    assert again.config.type_signature and again.signatures == model.signatures
    assert sum(len(p.relations) for p in again.predict(docs)) == 4  # every gold relation fits its signature
    again.signatures = [["Loc", "Kill", "Loc"]]
    again.load_state_json(again.state_json())  # rebuild the table: no training triple fits any predicted pair
    assert sum(len(p.relations) for p in again.predict(docs)) == 0


def test_unknown_relation_rule_is_one_line(resources):
    with pytest.raises(Exception, match="relation_rule must be one of binary, threshold, product"):
        _model("two_phase", resources, relation_rule="maybe")


def test_given_entities_decode_relations_between_the_documents_own_entities(resources):
    model, docs = _model("two_phase", resources)
    model.prepare(docs)  # untrained: predicted entities are arbitrary
    model.config.entities = "given"
    for g, p in zip(docs, model.predict(docs)):
        assert [(e.start, e.end, e.label) for e in p.entities] == [(e.start, e.end, e.label) for e in g.entities]
        assert all(r.head < len(g.entities) and r.tail < len(g.entities) for r in p.relations)


def test_slot_norm_equalises_the_scale_of_the_fused_inputs():
    from relx.nn.spans import Fusion

    fuse = Fusion([4, 4], gated=True, ordered=True, slot_norm=True)
    small, big = torch.randn(3, 4), 100 * torch.randn(3, 4)
    normed = [n(x) for n, x in zip(fuse.norms, [small, big])]
    assert torch.allclose(normed[0].norm(dim=-1), normed[1].norm(dim=-1), rtol=1e-3)
    assert fuse([small, big]).shape == (3, 4) and Fusion([4, 4], gated=True).norms is None


def test_two_phase_with_slot_norm_trains_and_round_trips(resources, tmp_path):
    model, docs = _model("two_phase", resources, slot_norm=True)
    model.fit(docs, None, epochs=150, batch_size=4, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0)
    preds = model.predict(docs)
    assert sum(len(p.relations) for p in preds) == 4
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m").predict(docs)
    assert [[(r.head, r.tail, r.label) for r in p.relations] for p in again] == [
        [(r.head, r.tail, r.label) for r in p.relations] for p in preds
    ]
