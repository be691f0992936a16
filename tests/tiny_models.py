"""Test-only tiny configurations of every model family (never shipped in ``src/``).

``tiny_config(cls, resources, **overrides)`` builds a config small enough for unit tests; ``resources`` names
test assets built by tests/conftest.py: ``bert`` (tiny random BERT dir), ``gpt2`` (tiny GPT-2 dir), ``glove``
(small word-vector file). ``tiny_fit_kwargs(cls)`` are fit() keyword arguments with which that config
overfits four documents (the contract test). Both look a model class up by the first class of its MRO
named in the tables below, so registered variants (``student_s``, ``teacher_r``...) inherit their base's entry.
"""

from __future__ import annotations

import dataclasses
from typing import Any

_LSTM_FIT = {
    "epochs": 40,
    "batch_size": 4,
    "lr": 1e-2,
    "warmup_ratio": 0.0,
    "progress": False,
    "seed": 0,
    "weight_decay": 0.0,
    "num_threads": 1,
}
_NEURAL_FIT = {"epochs": 60, "batch_size": 4, "lr": 3e-3, "warmup_ratio": 0.0, "progress": False, "seed": 0}


def _glove(r: dict) -> str:
    return r.get("glove", "random")


def _with(key: str, resource: str, base: dict) -> Any:
    """A table entry: ``base`` plus ``key`` = the named resource when the test provides it."""
    return lambda r: {**base, **({key: r[resource]} if resource in r else {})}


def _cascade(r: dict) -> dict:
    from relx.registry import MODELS

    tiny = {"type": "svm2stage", **dataclasses.asdict(tiny_config(MODELS.get("svm2stage"), r))}
    return {"detector": dict(tiny), "classifier": dict(tiny)}


_CGCN = {
    "word_dim": 16,
    "pos_dim": 4,
    "ner_dim": 4,
    "type_dim": 4,
    "hidden_size": 16,
    "gcn_dim": 16,
    "dropout": 0.0,
    "gcn_dropout": 0.0,
    "word_dropout": 0.0,
}
_FEATURE_BILSTM = {
    "word_dim": 16,
    "position_dim": 4,
    "max_position": 8,
    "pos_dim": 4,
    "ner_dim": 4,
    "type_dim": 4,
    "hidden_size": 16,
    "fc_dim": 16,
    "dropout": 0.0,
    "pooling": "max+entity+attention",
}
_HYBRID = {
    "word_dim": 16,
    "position_dim": 4,
    "max_position": 8,
    "hidden_size": 16,
    "pos_dim": 4,
    "ner_dim": 4,
    "type_dim": 4,
    "max_pool": True,
    "rules": "semeval",
    "tfidf_min_df": 1,
    "tfidf_dim": 8,
    "ffn_dim": 16,
    "dropout": 0.0,
    "label_smoothing": 0.0,
}

# class name (first match in the MRO) -> resources -> config fields
CONFIGS: dict[str, Any] = {
    "StudentModel": lambda r: {**CONFIGS["CGCNModel"](r), "maa_position_dim": 4, "maa_ner_dim": 4, "maa_max_position": 8},
    "CGCNModel": lambda r: {"word_vectors": _glove(r), **_CGCN},
    "FeatureBiLSTMModel": lambda r: {"word_vectors": _glove(r), **_FEATURE_BILSTM},
    "HybridModel": lambda r: {"word_vectors": _glove(r), **_HYBRID},
    "BertExtraModel": _with("encoder", "bert", {"max_length": 32, "dropout": 0.0, "n_heads": 2, "ffn_hidden": 32, "layer_ffn": 64}),
    "GPT2ClfModel": _with("encoder", "gpt2", {"max_length": 32, "dropout": 0.0}),
    "MarkerModel": _with("encoder", "bert", {"max_length": 32, "dropout": 0.0}),
    "KernelModel": _with("encoder", "bert", {"max_length": 64, "dropout": 0.0, "tune_threshold": False}),
    "SpanJointModel": _with(
        "encoder", "bert", {"max_length": 64, "dropout": 0.0, "max_span_width": 4, "neg_entity_count": 20, "neg_relation_count": 20}
    ),
    "Svm2StageModel": lambda r: {"c_detect": 10.0, "c_classify": 10.0},
    "CascadeModel": _cascade,
}

# class name -> fit() kwargs that overfit four documents
FIT_KWARGS: dict[str, dict] = {
    "CGCNModel": _LSTM_FIT,
    "FeatureBiLSTMModel": _LSTM_FIT,
    "HybridModel": _LSTM_FIT,
    "SpanJointModel": {**_NEURAL_FIT, "epochs": 150},
    "NeuralREModel": _NEURAL_FIT,
    "Svm2StageModel": {},
    "CascadeModel": {},
}


def _entry(table: dict, cls: type) -> Any:
    for base in cls.__mro__:
        if base.__name__ in table:
            return table[base.__name__]
    raise KeyError(f"no tiny entry for {cls.__name__} in tests/tiny_models.py")


def tiny_config(cls: type, resources: dict | None = None, **overrides: Any) -> Any:
    """A ``cls.Config`` small enough for unit tests (``overrides`` win)."""
    return cls.Config(**{**_entry(CONFIGS, cls)(resources or {}), **overrides})


def tiny_fit_kwargs(cls: type) -> dict:
    """fit() kwargs with which ``tiny_config(cls)`` overfits four documents."""
    return dict(_entry(FIT_KWARGS, cls))


# --- building models for the contract / resume tests ------------------------------------------
def docs_for(kind: Any) -> list:
    """Four training documents a model of ``kind`` can overfit (conftest's builders)."""
    from conftest import make_joint_docs, make_pair_docs, make_triple_docs
    from relx.models.base import ModelKind

    return {ModelKind.PAIR: make_pair_docs, ModelKind.ALL_PAIRS: make_triple_docs, ModelKind.JOINT: make_joint_docs}[kind]()


def fresh_model(name: str, resources: dict, docs: list, **overrides: Any) -> Any:
    """A seeded, untrained tiny model of the registered ``name`` over the labels of ``docs``."""
    import torch

    from relx.registry import MODELS

    cls = MODELS.get(name)
    torch.manual_seed(0)
    return cls(tiny_config(cls, resources, **overrides), cls.build_labels(docs, "no_relation"))


def resume_config(name: str, **kw: Any) -> Any:
    """Trainer settings of the resume tests: 6 steps over 4 documents, evaluated every 2."""
    from relx.models.base import ModelKind
    from relx.registry import MODELS
    from relx.training.trainer import TrainerConfig

    cls = MODELS.get(name)
    lr = tiny_fit_kwargs(cls).get("lr", 1e-3)
    joint = {} if cls.kind is ModelKind.PAIR else {"scheme": "joint", "metric": "re_strict_micro_f1"}
    return TrainerConfig(
        **{
            "epochs": 3,
            "batch_size": 2,
            "lr": lr,
            "eval_every": 2,
            "progress": False,
            "seed": 3,
            "warmup_ratio": 0.2,
            "num_threads": 1,
            **joint,
            **kw,
        }
    )


def same_weights(a: Any, b: Any) -> None:
    """Assert two torch models hold the same tensors."""
    import torch

    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for name in sa:
        assert torch.allclose(sa[name].float(), sb[name].float(), atol=1e-6), name


def crash_at_step(monkeypatch: Any, n: int) -> None:
    """Make the Trainer's ``n``-th optimizer step raise KeyboardInterrupt."""
    from relx.training.trainer import Trainer

    calls = {"n": 0}
    real = Trainer._step

    def crashing(self: Any, *a: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        return real(self, *a)

    monkeypatch.setattr(Trainer, "_step", crashing)
