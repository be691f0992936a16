"""Records, labels, config: round trips, direction helpers, validation errors."""

from __future__ import annotations

import dataclasses

import pytest

from relx.config import apply_overrides, from_dict
from relx.data.labels import LabelSet, split_directed
from relx.data.schema import Document, Entity, Relation, read_jsonl, write_jsonl
from relx.errors import RelxConfigError, RelxInputError
from relx.training.trainer import TrainerConfig


def test_jsonl_round_trip(tmp_path, pair_docs):
    pair_docs[0].pos = ["NNP"] * len(pair_docs[0].tokens)
    pair_docs[0].meta = {"source": "x"}
    write_jsonl(tmp_path / "d.jsonl", pair_docs)
    back = list(read_jsonl(tmp_path / "d.jsonl"))
    assert back == pair_docs


def test_jsonl_errors_name_file_and_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"id": "a", "tokens": ["x"]}\n{"id": "b", "tokens": ["x"], "entities": [{"start": 0, "end": 3}]}\n')
    with pytest.raises(RelxInputError, match=r"bad.jsonl:2: .*outside the sentence"):
        list(read_jsonl(p))
    p.write_text('{"id": "a", "tokens": ["x", "y"], "entities": [{"start": 1, "end": 1}]}\n')
    with pytest.raises(RelxInputError, match=r"bad.jsonl:1: .*empty or crossed"):
        list(read_jsonl(p))
    p.write_bytes(b'{"id": "a", "tokens": ["\xff"]}\n')
    with pytest.raises(RelxInputError, match=r"bad.jsonl:1: .*UTF-8"):
        list(read_jsonl(p))


def test_directed_labels_round_trip(pair_docs):
    labels = LabelSet.from_documents(pair_docs, negative="Other")
    assert labels.negative == "Other" and labels.id("Other") == 0
    assert labels.labels == ["Other", "employee(e1,e2)", "employee(e2,e1)", "founder(e1,e2)", "founder(e2,e1)"]
    assert [labels.pair_label(d) for d in pair_docs] == ["founder(e1,e2)", "employee(e1,e2)", "founder(e2,e1)", "Other"]
    assert labels.to_relation("founder(e2,e1)") == Relation(1, 0, "founder")
    assert labels.to_relation("Other") is None
    assert split_directed("Cause-Effect(e2,e1)") == ("Cause-Effect", True)


def test_undirected_labels_tacred_style():
    doc = Document("1", ["a", "b"], [Entity(0, 1, "PERSON"), Entity(1, 2, "TITLE")], [Relation(0, 1, "per:title")])
    labels = LabelSet.from_documents([doc])
    assert labels.labels == ["no_relation", "per:title"]
    assert labels.pair_label(doc) == "per:title"
    with pytest.raises(RelxInputError, match="unknown label"):
        labels.id("per:age")


def test_config_unknown_key_and_overrides():
    raw = apply_overrides({"epochs": 2}, ["lr=0.001", "scheduler_kwargs.step_size=500"])
    cfg = from_dict(TrainerConfig, raw)
    assert cfg.epochs == 2 and cfg.lr == 0.001 and cfg.scheduler_kwargs == {"step_size": 500}
    with pytest.raises(RelxConfigError, match="unknown key.*epoch"):
        from_dict(TrainerConfig, {"epoch": 2})
    with pytest.raises(RelxConfigError, match="expected int"):
        from_dict(TrainerConfig, {"epochs": "two"})
    assert dataclasses.asdict(cfg)["lr"] == 0.001
    assert apply_overrides({}, ["lr=5e-3", "device=cpu"]) == {"lr": 0.005, "device": "cpu"}  # YAML 1.1 reads 5e-3 as a string


def test_dev_holdout_is_seeded_random_and_disjoint(tmp_path):
    from relx.training.run import DataConfig, load_splits

    docs = [Document(str(i), ["w"], [Entity(0, 1), Entity(0, 1)]) for i in range(20)]
    write_jsonl(tmp_path / "t.jsonl", docs)
    train, dev, _, invalid = load_splits(DataConfig(train=str(tmp_path / "t.jsonl"), dev_holdout=5, dev_seed=1))
    train2, dev2, _, _ = load_splits(DataConfig(train=str(tmp_path / "t.jsonl"), dev_holdout=5, dev_seed=1))
    assert invalid == {"train": 0, "dev": 0, "test": 0}  # dev carved from train: its count stays 0
    assert [d.id for d in dev] == [d.id for d in dev2] and len(dev) == 5 and len(train) == 15
    assert not {d.id for d in dev} & {d.id for d in train}
    assert [d.id for d in dev] != [str(i) for i in range(15, 20)]  # not simply the tail
    with pytest.raises(RelxConfigError, match="leaves no training data"):
        load_splits(DataConfig(train=str(tmp_path / "t.jsonl"), dev_holdout=20))


def test_relation_only_regime_keeps_positives(tmp_path, pair_docs):
    from relx.training.run import DataConfig, load_splits

    write_jsonl(tmp_path / "t.jsonl", pair_docs)
    train, dev, test, _ = load_splits(DataConfig(train=str(tmp_path / "t.jsonl"), test=str(tmp_path / "t.jsonl"), relation_only=True))
    assert [d.id for d in train] == ["0", "1", "2"] and [d.id for d in test] == ["0", "1", "2"] and dev is None
