"""engine="torch_compile": transformers wrapped in torch.compile, same predictions; clear errors elsewhere."""

from __future__ import annotations

import pytest
import torch

import relx
from conftest import make_pair_docs, save_tiny_marker
from relx.errors import RelxConfigError
from relx.inference.engines.compiled import compile_transformers, transformer_slots


@pytest.fixture
def eager_backend(monkeypatch):
    """Dynamo graph capture with the 'eager' backend: proves the model traces, without a C++ inductor build."""
    real = torch.compile

    def compile_eager(module, **kw):
        kw["backend"] = "eager"
        return real(module, **kw)

    monkeypatch.setattr(torch, "compile", compile_eager)
    yield
    torch._dynamo.reset()


def test_compiled_pipeline_predicts_like_eager(tmp_path, tiny_bert, eager_backend):
    docs = make_pair_docs()
    save_tiny_marker(tmp_path / "m", tiny_bert, docs)
    eager = relx.load(tmp_path / "m", device="cpu")
    compiled = relx.load(tmp_path / "m", device="cpu", engine="torch_compile")
    assert compiled.engine.name == "torch_compile" and eager.engine.name == "torch"
    wrapped = [m for m in compiled.model.modules() if isinstance(m, torch._dynamo.eval_frame.OptimizedModule)]
    assert len(wrapped) == len(transformer_slots(eager.model)) == 1
    a, b = eager(docs), compiled(docs)
    assert [d.meta["pair_label"] for d in a] == [d.meta["pair_label"] for d in b]
    assert [d.meta["pair_score"] for d in a] == pytest.approx([d.meta["pair_score"] for d in b], abs=1e-5)


def test_compile_rejects_models_without_a_transformer():
    with pytest.raises(RelxConfigError, match="needs a transformer model"):
        compile_transformers(torch.nn.Linear(2, 2))


def test_outermost_transformer_only(tmp_path, tiny_bert):
    save_tiny_marker(tmp_path / "m", tiny_bert)
    model = relx.load(tmp_path / "m", device="cpu").model
    slots = transformer_slots(model)
    assert len(slots) == 1  # the BertModel, not its submodules
