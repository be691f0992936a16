"""Inference engines: objects that run a loaded model's tensor part at prediction time.

An :class:`Engine` is owned by the :class:`relx.inference.pipeline.Pipeline` and passed to
``model.predict(docs, batch_size=..., engine=...)``; the model featurizes, collates and decodes as always
and only asks the engine for the device its batches go to and for the ``ModelOutput`` of each batch.

- ``torch``: the model's own ``forward`` (bf16 autocast on CUDA);
- ``torch_compile``: the same, each Hugging Face transformer wrapped in ``torch.compile`` (:mod:`.compiled`);
- ``onnx`` / ``onnx_int8``: onnxruntime on the CPU over a `relx export onnx` directory (:mod:`.onnx`).

``load_engine(name, model, directory)`` builds one for a model :func:`relx.models.loading.load_model` loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from relx.errors import RelxConfigError

ENGINES = ("torch", "torch_compile", "onnx", "onnx_int8")
TORCH_ENGINES = ("torch", "torch_compile")  # the PyTorch path (any device); the others run in onnxruntime on the CPU


def check_engine(engine: str) -> str:
    """``engine`` if it is one of ENGINES, else a RelxConfigError listing them."""
    if engine not in ENGINES:
        raise RelxConfigError(f"unknown engine {engine!r} (use {', '.join(ENGINES)})")
    return engine


class Engine:
    """Runs collated batches of one model: ``engine.device(model)`` and ``engine(model, batch) -> ModelOutput``.

    Class attributes say how the model must be loaded for it: ``cpu_only`` (onnxruntime) and ``loads_weights``
    (False: the engine brings the weights, so the model is loaded without them)."""

    name: ClassVar[str] = "torch"
    cpu_only: ClassVar[bool] = False
    loads_weights: ClassVar[bool] = True

    @classmethod
    def check_directory(cls, directory: str | Path) -> None:
        """Raise before the model is loaded when ``directory`` cannot serve this engine (default: any can)."""

    @classmethod
    def open(cls, model: Any, directory: str | Path | None = None) -> Engine:
        """The engine for ``model`` (loaded from ``directory``)."""
        return cls()

    def device(self, model: Any) -> Any:
        """The device collated batches go to."""
        return model.device

    def __call__(self, model: Any, batch: dict[str, Any]) -> Any:
        """The ModelOutput of one collated batch."""
        return model.run_batch(batch)

    def __repr__(self) -> str:
        return f"<relx engine {self.name}>"


TorchEngine = Engine  # the default engine: the model's own forward


def engine_class(name: str) -> type[Engine]:
    """The Engine class named ``name`` (one of ENGINES)."""
    check_engine(name)
    if name == "torch":
        return Engine
    if name == "torch_compile":
        from relx.inference.engines.compiled import CompiledEngine

        return CompiledEngine
    from relx.inference.engines.onnx import OnnxEngine, OnnxInt8Engine

    return OnnxEngine if name == "onnx" else OnnxInt8Engine


def load_engine(name: str, model: Any, directory: str | Path | None = None) -> Engine:
    """The engine ``name`` for ``model``, loaded from ``directory`` (the ONNX engines read their files there)."""
    cls = engine_class(name)
    if directory is not None:
        cls.check_directory(directory)
    return cls.open(model, directory)
