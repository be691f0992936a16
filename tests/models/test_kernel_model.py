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
    for norm in ("positives", "mask"):  # one sentence: the batch forms are the per-sentence ones
        assert kernel_bce(scores, mask, labels, f"batch_{norm}").item() == pytest.approx(kernel_bce(scores, mask, labels, norm).item())


def test_batch_level_kernel_loss_weighs_every_cell_the_same():
    scores = torch.zeros(2, 1, 3, 3)  # each masked term is log 2
    mask = torch.zeros(2, 3, 3)
    mask[0, 0, :2] = 1.0  # sentence A: 2 masked cells, 1 positive
    mask[1, :2, :2] = 1.0  # sentence B: 4 masked cells, 3 positive
    labels = torch.zeros(2, 1, 3, 3)
    labels[0, 0, 0, 0] = 1.0
    labels[1, 0, 0, :2] = 1.0
    labels[1, 0, 1, 0] = 1.0
    ln2 = math.log(2)
    assert kernel_bce(scores, mask, labels, "positives").item() == pytest.approx((2 / 1 + 4 / 3) / 2 * ln2)  # per sentence
    assert kernel_bce(scores, mask, labels, "batch_positives").item() == pytest.approx((2 + 4) / (1 + 3) * ln2)
    assert kernel_bce(scores, mask, labels, "batch_mask").item() == pytest.approx(ln2)


def test_own_cells_separate_nested_pairs_by_hand():
    from relx.models.kernel import own_cells

    members = [[0, 1], [0], [2]]  # x = columns 0-1, u = column 0 (inside x), y = column 2
    assert own_cells(members) == [(0, 2, [(1, 2)]), (2, 0, [(2, 1)])]  # (u, y) nests in (x, y), (y, u) in (y, x)
    assert own_cells([[0], [1], [2]]) == []  # nothing nests: every pair keeps its block
    assert own_cells([[0], [0], [1]]) == []  # twin spans cover each other's cells: both keep their blocks


def test_own_pair_cells_label_and_score_only_their_cells(resources):
    doc = Document("n", "the united states army moved .".split(), [Entity(1, 4), Entity(1, 3), Entity(5, 6)], [Relation(0, 2, "r")])
    labels = LabelSet({"r"})
    model = KernelModel(tiny_config(KernelModel, {"bert": resources["bert"]}, pair_cells="own", dropout=0.0), labels)
    feat = model.featurize(doc)
    cols = feat["members"]
    assert set(cols[1]) < set(cols[0])  # "united states" inside "united states army"
    batch = model.collate([feat])
    n = batch["tokens"].size(1)
    fixed = torch.arange(float(n * n)).view(1, 1, n, n) / (n * n) - 0.5  # distinct logits per cell
    model.kernels.forward = lambda h, t, m: fixed
    model.eval()
    out = model(batch)
    probs = fixed.sigmoid()[0, 0]
    own = [c for c in cols[0] if c not in cols[1]]  # rows of "army" only
    want_xy = probs[own][:, cols[2]].mean()
    assert out.logits[0, 0, 0, 2].item() == pytest.approx(want_xy.item(), rel=1e-5)  # the gold pair: its own cells
    assert out.logits[0, 0, 1, 2].item() == pytest.approx(probs[cols[1]][:, cols[2]].mean().item(), rel=1e-5)  # the nested pair
    want_labels = torch.zeros(1, 1, n, n)
    for m in own:  # positive on the gold pair's own cells only
        want_labels[0, 0, m, cols[2]] = 1.0
    mask = block_union(batch["pair_mask"].float(), batch["member"])
    assert out.loss.item() == pytest.approx(kernel_bce(fixed, mask, want_labels).item(), rel=1e-5)
    block = KernelModel(tiny_config(KernelModel, {"bert": resources["bert"]}, dropout=0.0), labels)
    block.kernels.forward = lambda h, t, m: fixed
    block.eval()
    assert block(block.collate([block.featurize(doc)])).logits[0, 0, 0, 2].item() == pytest.approx(
        probs[cols[0]][:, cols[2]].mean().item(), rel=1e-5
    )  # Eq. 6-7 as printed: the whole block
    with pytest.raises(RelxConfigError, match="pair_cells"):
        KernelModel(tiny_config(KernelModel, {"bert": resources["bert"]}, pair_cells="heads"), labels)


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
