"""The kernel-matrix model: batched kernels vs a per-relation loop, block pooling and the Eq. 9 loss by hand,
multi-label / overlapping triples learned and round-tripped, directed SemEval labels, threshold tuning,
raw-text extraction over spaCy candidates."""

from __future__ import annotations

import math

import pytest
import torch

from conftest import make_triple_docs
from relx.data.labels import LabelSet
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxConfigError
from relx.models.kernel import KernelModel
from relx.models.loading import load_model
from relx.nn.kernel import RelationKernels, block_mean, block_union
from relx.training.config import FitContext, TrainerConfig
from relx.training.losses import kernel_bce
from tiny_models import tiny_config


def _labels(docs):
    return LabelSet({r.label for d in docs for r in d.relations})


def test_batched_kernels_match_a_loop_over_relations():
    torch.manual_seed(0)
    k = RelationKernels(hidden=6, n_relations=3, rank=4)
    x, y = torch.randn(2, 5, 6), torch.randn(2, 5, 6)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]).bool()
    s = k(x, y, mask)
    assert s.shape == (2, 3, 5, 5)
    wh, wt = k.w_head.view(6, 3, 4), k.w_tail.view(6, 3, 4)
    for i in range(3):
        want = (x @ wh[:, i]) @ (y @ wt[:, i]).transpose(1, 2)  # (B, N, N): X W_hi (Y W_ti)^T
        want = want * (mask.unsqueeze(2) & mask.unsqueeze(1))
        assert torch.allclose(s[:, i], want, atol=1e-5)
    assert RelationKernels(8, 2).rank == 8  # full h x h by default


def test_block_mean_and_block_union_by_hand():
    matrix = torch.arange(16.0).view(1, 1, 4, 4)  # tokens 0..3
    member = torch.tensor([[[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]])  # x = tokens 0-1, y = token 2, z empty
    out = block_mean(matrix, member)
    assert out[0, 0, 0, 1].item() == pytest.approx((2 + 6) / 2)  # rows 0-1, column 2
    assert out[0, 0, 1, 0].item() == pytest.approx((8 + 9) / 2)
    assert out[0, 0, 0, 0].item() == pytest.approx((0 + 1 + 4 + 5) / 4)
    assert out[0, 0, 2, 0].item() == 0.0
    pairs = torch.tensor([[[0.0, 1, 0], [0, 0, 0], [0, 0, 0]]])  # only (x, y)
    union = block_union(pairs, member)
    assert union[0].nonzero().tolist() == [[0, 2], [1, 2]]


def test_kernel_bce_eq9_by_hand():
    scores = torch.zeros(1, 2, 2, 2)  # P = 0.5 everywhere: each masked term is log 2
    mask = torch.tensor([[[0.0, 1], [1, 0]]])  # two masked token pairs
    labels = torch.zeros(1, 2, 2, 2)
    labels[0, 0, 0, 1] = 1.0  # relation 0 has one positive token pair, relation 1 none
    ln2 = math.log(2)
    # positives: relation 0 -> 2 ln2 / 1, relation 1 -> 2 ln2 / max(0, 1); summed over relations, mean over the batch
    assert kernel_bce(scores, mask, labels, "positives").item() == pytest.approx(4 * ln2)
    # mask: each relation averaged over the 2 masked pairs
    assert kernel_bce(scores, mask, labels, "mask").item() == pytest.approx(2 * ln2)
    with pytest.raises(ValueError):
        kernel_bce(scores, mask, labels, "batch")


def test_overfits_overlapping_triples_and_round_trips(resources, tmp_path):
    docs = make_triple_docs()
    torch.manual_seed(0)
    model = KernelModel(tiny_config(KernelModel, resources), _labels(docs))
    model.fit(docs, None, epochs=60, batch_size=4, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0)
    preds = model.predict(docs)
    for g, p in zip(docs, preds):
        assert p.entities == g.entities
        assert {(r.head, r.tail, r.label) for r in p.relations} == {(r.head, r.tail, r.label) for r in g.relations}
        assert all(0.5 <= r.score <= 1.0 for r in p.relations)
    model.save(tmp_path / "kernel")
    again = load_model(tmp_path / "kernel").predict(docs)
    for a, b in zip(preds, again):
        assert [(r.head, r.tail, r.label) for r in a.relations] == [(r.head, r.tail, r.label) for r in b.relations]
        assert [r.score for r in a.relations] == pytest.approx([r.score for r in b.relations], abs=1e-5)


def test_low_rank_and_forward_backprop(resources):
    docs = make_triple_docs()
    model = KernelModel(tiny_config(KernelModel, resources, rank=3), _labels(docs))
    out = model(model.collate([model.featurize(d) for d in docs]))
    assert out.logits.shape == (4, 5, 3, 3)  # (B, R, E, E) block-mean probabilities
    assert torch.isfinite(out.loss)
    out.loss.backward()
    assert model.kernels.w_head.shape == (model.encoder.config.hidden_size, 5 * 3)
    assert model.encoder.embeddings.word_embeddings.weight.grad.abs().sum() > 0
    with pytest.raises(RelxConfigError, match="loss_norm"):
        KernelModel(tiny_config(KernelModel, resources, loss_norm="sum"), _labels(docs))


def test_directed_pair_labels_and_single_label(resources):
    """SemEval-style T(e2,e1) trains relation T from entity 1 to entity 0; single_label keeps one per document."""
    docs = [
        Document("a", "the burst was caused by pressure .".split(), [Entity(1, 2), Entity(5, 6)], [Relation(0, 1, "Cause-Effect(e2,e1)")]),
        Document("b", "the fire caused smoke .".split(), [Entity(1, 2), Entity(3, 4)], [Relation(0, 1, "Cause-Effect(e1,e2)")]),
        Document("c", "the engine of the car .".split(), [Entity(1, 2), Entity(4, 5)], [Relation(0, 1, "Component-Whole(e1,e2)")]),
        Document("d", "a man and a dog .".split(), [Entity(1, 2), Entity(4, 5)], []),
    ]
    labels = LabelSet.from_documents(docs, negative="Other")
    torch.manual_seed(0)
    model = KernelModel(tiny_config(KernelModel, {"bert": resources["bert"]}, single_label=True), labels)
    assert model.relation_types == ["Cause-Effect", "Component-Whole"]
    feat = model.featurize(docs[0])
    assert feat["triples"] == [(1, 0, 0)]  # reversed: from e2 to e1
    model.fit(docs, None, epochs=60, batch_size=4, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0)
    preds = model.predict(docs)
    assert [labels.pair_label(p) for p in preds] == ["Cause-Effect(e2,e1)", "Cause-Effect(e1,e2)", "Component-Whole(e1,e2)", "Other"]
    assert all(len(p.relations) <= 1 for p in preds)


def test_threshold_is_tuned_on_dev_and_saved(resources, tmp_path):
    docs = make_triple_docs()
    torch.manual_seed(0)
    model = KernelModel(tiny_config(KernelModel, resources, tune_threshold=True), _labels(docs))
    ctx = FitContext(TrainerConfig(epochs=40, batch_size=4, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0, scheme="relations"))
    hist = model.fit(docs, docs, ctx)
    tuned = hist["threshold"]
    assert tuned["threshold"] == model.config.threshold and set(tuned["dev"]) == {round(0.05 * k, 2) for k in range(1, 20)}
    assert tuned["dev"][tuned["threshold"]] == max(tuned["dev"].values())
    model.save(tmp_path / "m")
    assert load_model(tmp_path / "m").config.threshold == model.config.threshold


def test_entities_past_max_length_are_counted_not_scored(resources):
    long = Document("x", ["word"] * 80 + ["paris", "france"], [Entity(0, 1), Entity(80, 81), Entity(81, 82)], [Relation(2, 1, "contains")])
    model = KernelModel(tiny_config(KernelModel, resources, max_length=32), LabelSet({"contains"}))
    feat = model.featurize(long)
    assert feat["entities"] == [0] and feat["unscored_entities"] == 2 and feat["triples"] == []
    pred = model.predict([long])[0]
    assert pred.meta["unscored_entities"] == 2 and pred.relations == []


def test_raw_text_scores_all_candidate_pairs_of_a_sentence(resources):
    import relx
    from relx.inference.extraction import Extractor, load_spacy

    docs = make_triple_docs()
    model = KernelModel(tiny_config(KernelModel, resources, threshold=0.0), _labels(docs))
    model.profile = {"entity_types": {"ENTITY": 9}, "type_pairs": [], "negative": "no_relation"}
    ex = Extractor(model, nlp=load_spacy(), candidates="noun_chunks")
    assert ex.kind == "multi" and ex.threshold == 0.0
    out = ex(["The engineer moved to Paris. Acme Corp opened an office in London and Berlin."])[0]
    n = len(out.entities)
    sentence_of = {k: next(i for i, (s, e) in enumerate(out.meta["sentences"]) if s <= ent.start < e) for k, ent in enumerate(out.entities)}
    assert n >= 4 and out.relations
    assert all(sentence_of[r.head] == sentence_of[r.tail] and r.head != r.tail for r in out.relations)
    assert out.meta["extraction"]["kind"] == "multi"
    assert isinstance(relx.Pipeline(model), relx.Pipeline)


def test_self_pairs_learn_a_relation_from_a_span_to_itself(resources):
    docs = [
        Document(
            "0",
            "the airport serves the airport city .".split(),
            [Entity(1, 2), Entity(5, 6)],
            [Relation(0, 0, "sameAs"), Relation(0, 1, "serves")],
        )
    ]
    labels = LabelSet({"sameAs", "serves"})
    plain = KernelModel(tiny_config(KernelModel, resources), labels)
    assert plain.featurize(docs[0])["triples"] == [(0, 1, 1)]  # (x, x) is not a candidate by default
    torch.manual_seed(0)
    model = KernelModel(tiny_config(KernelModel, resources, self_pairs=True), labels)
    model.fit(docs, None, epochs=40, batch_size=1, lr=3e-3, warmup_ratio=0.0, progress=False, seed=0)
    assert {(r.head, r.tail, r.label) for r in model.predict(docs)[0].relations} == {(0, 0, "sameAs"), (0, 1, "serves")}
