"""Feature BiLSTM: feature extraction golden values, missing annotations, pooling, under-sampling, run config."""

from __future__ import annotations

import random

import pytest
import torch

from relx.data.labels import LabelSet, is_negative
from relx.data.sampling import undersample_negatives
from relx.data.schema import Document, Entity, Relation
from relx.errors import RelxConfigError
from relx.models.feature_bilstm import FeatureBiLSTMModel
from relx.nn.sequence import masked_max, relative_positions
from tiny_models import tiny_config


def _model(docs, **overrides) -> FeatureBiLSTMModel:
    torch.manual_seed(0)
    model = FeatureBiLSTMModel(tiny_config(FeatureBiLSTMModel, None, max_position=3, **overrides), LabelSet.from_documents(docs))
    model.prepare(docs)
    return model


def test_relative_positions_golden():
    assert relative_positions(8, 2, 4, 60) == [-2, -1, 0, 0, 1, 2, 3, 4]
    assert relative_positions(8, 2, 4, 3) == [-2, -1, 0, 0, 1, 2, 3, 3]  # clipped
    assert relative_positions(3, 0, 1, 5) == [0, 1, 2]


def test_featurize_golden_values():
    doc = Document(
        "d",
        "Bill Gates founded Microsoft in 1975 .".split(),
        [Entity(0, 2, "PERSON"), Entity(3, 4, "ORGANIZATION")],
        [Relation(0, 1, "founder")],
        pos="NNP NNP VBD NNP IN CD .".split(),
        ner="PERSON PERSON O ORGANIZATION O DATE O".split(),
    )
    model = _model([doc])
    f = model.featurize(doc)
    m = model.config.max_position  # 3; ids are offset by m + 1
    assert [p - m - 1 for p in f["subj_pos"]] == [0, 0, 1, 2, 3, 3, 3]
    assert [p - m - 1 for p in f["obj_pos"]] == [-3, -2, -1, 0, 1, 2, 3]
    types = model.tokens.vocabs["type"]
    assert f["type"] == types.encode(["SUBJ-PERSON", "SUBJ-PERSON", "O", "OBJ-ORGANIZATION", "O", "O", "O"])
    assert f["pos"] == model.tokens.vocabs["pos"].encode(doc.pos) and f["ner"] == model.tokens.vocabs["ner"].encode(doc.ner)
    assert f["words"] == model.tokens.vocabs["word"].encode([t.lower() for t in doc.tokens])
    assert f["spans"] == [0, 2, 3, 4] and model.labels.label(f["label"]) == "founder"


def test_missing_pos_ner_does_not_crash(pair_docs):
    model = _model(pair_docs)
    bare = Document("x", "an unseen gizmo visited paris".split(), [Entity(1, 3, "NEWTYPE"), Entity(4, 5, "LOCATION")])
    f = model.featurize(bare)
    none_pos, none_ner = model.tokens.vocabs["pos"].id("<none>"), model.tokens.vocabs["ner"].id("<none>")
    assert f["pos"] == [none_pos] * 5 and f["ner"] == [none_ner] * 5 and none_pos > 1
    assert f["type"][1] == 1  # unseen entity type -> <unk>
    preds = model.predict([bare, *pair_docs])
    assert len(preds) == 5 and "pair_label" in preds[0].meta


def test_forward_shapes_pooling_and_batch_of_one(pair_docs):
    model = _model(pair_docs, pooling="attention")
    batch = model.collate([model.featurize(d) for d in pair_docs])
    out = model(batch)
    assert out.logits.shape == (4, len(model.labels)) and torch.isfinite(out.loss)
    model.train()
    assert torch.isfinite(model(model.collate([model.featurize(pair_docs[0])])).loss)  # BatchNorm with B=1
    with pytest.raises(RelxConfigError):
        FeatureBiLSTMModel(tiny_config(FeatureBiLSTMModel, None, pooling="mean"), model.labels)


def test_masked_max():
    h = torch.tensor([[[1.0], [5.0], [3.0]], [[2.0], [0.0], [9.0]]])
    mask = torch.tensor([[True, False, True], [False, False, False]])
    assert masked_max(h, mask).tolist() == [[3.0], [0.0]]


def _docs(n_pos: int, n_neg: int) -> list[Document]:
    ents = [Entity(0, 1), Entity(1, 2)]
    pos = [Document(f"p{i}", ["a", "b"], ents, [Relation(0, 1, "r")]) for i in range(n_pos)]
    neg = [Document(f"n{i}", ["a", "b"], ents, []) for i in range(n_neg)]
    docs = pos + neg
    random.Random(0).shuffle(docs)  # positives and negatives interleaved
    return docs


def test_undersample_negatives_ratio_order_determinism():
    docs = _docs(4, 30)
    labels = LabelSet.from_documents(docs)
    kept = undersample_negatives(docs, labels, max_ratio=3, seed=1)
    assert sum(1 for d in kept if d.relations) == 4 and sum(1 for d in kept if not d.relations) == 12
    order = [d.id for d in docs]
    assert [d.id for d in kept] == sorted((d.id for d in kept), key=order.index)  # original order kept
    assert [d.id for d in kept] == [d.id for d in undersample_negatives(docs, labels, 3, seed=1)]
    assert [d.id for d in kept] != [d.id for d in undersample_negatives(docs, labels, 3, seed=2)]
    assert len(undersample_negatives(docs, labels, max_ratio=10, seed=1)) == 34  # cap not reached
    assert sum(not is_negative(d, labels) for d in docs) == 4
    assert [is_negative(d, labels) for d in docs] == [is_negative(d, labels.negative) for d in docs]


def test_run_config_undersamples_train_only(tmp_path):
    from relx.data.schema import write_jsonl
    from relx.training.run import DataConfig, apply_undersampling, load_splits

    write_jsonl(tmp_path / "t.jsonl", _docs(5, 45))
    data = DataConfig(train=str(tmp_path / "t.jsonl"), dev_holdout=10, max_neg_ratio=1.0)
    train, dev, _, _ = load_splits(data)
    labels = LabelSet.from_documents(train + dev)
    kept, dropped = apply_undersampling(train, labels, data)
    n_pos = sum(1 for d in train if d.relations)
    assert sum(1 for d in kept if not d.relations) == n_pos and dropped == len(train) - 2 * n_pos
    assert len(dev) == 10


def test_run_experiment_resume(tmp_path, pair_docs):
    from relx.data.schema import write_jsonl
    from relx.training.run import run_experiment

    write_jsonl(tmp_path / "d.jsonl", pair_docs)
    model = {
        "type": "feature_bilstm",
        "word_vectors": "random",
        "word_dim": 8,
        "hidden_size": 8,
        "fc_dim": 8,
        "position_dim": 4,
        "pos_dim": 4,
        "ner_dim": 4,
        "type_dim": 4,
    }
    raw = {
        "model": model,
        "data": {"train": str(tmp_path / "d.jsonl"), "dev": str(tmp_path / "d.jsonl"), "format": "jsonl"},
        "trainer": {
            "epochs": 2,
            "batch_size": 2,
            "progress": False,
            "num_threads": 1,
            "lr": 1e-2,
            "scheduler": "ReduceLROnPlateau",
            "scheduler_kwargs": {"mode": "max"},
        },
    }
    first = run_experiment(raw, tmp_path / "run", verbose=False).summary
    raw["trainer"]["epochs"] = 3
    again = run_experiment(raw, tmp_path / "run", resume=True, verbose=False).summary
    assert first["steps"] == 4 and again["steps"] == 6


def test_pretrained_vectors_frozen_by_default(pair_docs, resources):
    assert _model(pair_docs).tokens.word_emb.weight.requires_grad  # random vectors are trained
    glove = FeatureBiLSTMModel(tiny_config(FeatureBiLSTMModel, resources), LabelSet.from_documents(pair_docs))
    glove.prepare(pair_docs)
    assert not glove.tokens.word_emb.weight.requires_grad and glove.tokens.word_emb.weight.shape[1] == 50
    assert not any(p is glove.tokens.word_emb.weight for g in glove.optimizer_groups(1e-3, None, 0.0) for p in g["params"])
    tuned = FeatureBiLSTMModel(tiny_config(FeatureBiLSTMModel, resources, freeze_words=False), glove.labels)
    tuned.prepare(pair_docs)
    assert tuned.tokens.word_emb.weight.requires_grad
