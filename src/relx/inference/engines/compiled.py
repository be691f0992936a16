"""Opt-in ``torch.compile`` engine: the PyTorch inference path with each transformer compiled.

``relx.load(dir, engine="torch_compile")`` / ``relx predict --engine torch_compile`` load the model as
usual; :class:`CompiledEngine` then wraps every Hugging Face transformer inside it in ``torch.compile(..., dynamic=True)`` (one
graph for all batch sizes and bucket lengths). The first batches pay the compile (about 20 s for MiniLM
on CPU); measured on the MiniLM marker model it then predicts about 12% faster on CPU
(``benchmarks/torch_compile.py``), so it pays off for long prediction jobs, not for one-off calls. The
compiled model is for prediction: save the uncompiled one (``engine="torch"``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from relx.errors import RelxConfigError
from relx.inference.engines import Engine


def transformer_slots(model: Any) -> list[tuple[Any, str]]:
    """(parent module, attribute) of every outermost Hugging Face transformer inside ``model``."""
    from transformers import PreTrainedModel

    slots: list[tuple[Any, str]] = []
    found: list[str] = []
    for name, module in model.named_modules():
        if not name or any(name.startswith(f + ".") for f in found) or not isinstance(module, PreTrainedModel):
            continue
        parent_name, _, attr = name.rpartition(".")
        slots.append((model.get_submodule(parent_name) if parent_name else model, attr))
        found.append(name)
    return slots


def compile_transformers(model: Any, backend: str = "inductor") -> Any:
    """Wrap each transformer of ``model`` in ``torch.compile`` (in place); returns ``model``."""
    import torch

    slots = transformer_slots(model) if hasattr(model, "named_modules") else []
    if not slots:
        raise RelxConfigError(f"engine torch_compile needs a transformer model; {type(model).__name__} has none (use engine torch)")
    for parent, attr in slots:
        setattr(parent, attr, torch.compile(getattr(parent, attr), dynamic=True, backend=backend))
    return model


class CompiledEngine(Engine):
    """The torch engine over a model whose transformers :func:`compile_transformers` wrapped (for prediction only)."""

    name = "torch_compile"

    @classmethod
    def open(cls, model: Any, directory: str | Path | None = None) -> CompiledEngine:
        """Compile ``model``'s transformers (in place: the model is the Pipeline's, for prediction)."""
        model.eval()
        compile_transformers(model)
        return cls()
