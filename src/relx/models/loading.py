"""Loading a saved model directory: the one entry point (:func:`load_model`) and unrestored instances."""

from __future__ import annotations

from pathlib import Path

from relx.models.base import REModel


def load_model(directory: str | Path, device: str | None = None, engine: str = "torch") -> REModel:
    """Load any saved relx model directory (JSON + safetensors only; nothing is unpickled).

    Weight files listed in config.json's ``sha256`` are verified first. Every problem (missing or
    damaged file, unknown type, weights that do not fit) raises one RelxInputError naming the file.
    ``engine`` ``onnx`` / ``onnx_int8`` runs the tensor part in onnxruntime (a `relx export onnx` directory, CPU);
    ``torch_compile`` wraps the model's transformers in ``torch.compile`` (relx.inference.engines.compiled).
    """
    from relx.models import persistence as ps

    directory = Path(directory)
    from relx.inference.engines import TORCH_ENGINES, check_engine

    check_engine(engine)
    onnx = None
    if engine not in TORCH_ENGINES:  # weights come from the ONNX file: no checksum pass over model.safetensors, no restore
        from relx.inference.engines import onnx

        onnx.read_meta(directory)
    meta = ps.read_model_meta(directory)
    cls = ps.model_class(directory, meta)
    config = ps.model_config(directory, cls, meta)
    labels = ps.read_labels(directory)
    profile = ps.read_profile(directory, meta)
    if onnx is None:
        ps.verify_checksums(directory, meta)
    state = ps.saved_state(meta.get("state") or {})
    with ps.load_errors(directory):
        model = cls.blank(directory, config, labels)
        if onnx is None:
            model.restore(directory, state)
        else:
            model.load_state_json(state)
    model.profile = profile
    if onnx is not None:
        model.eval()
        return onnx.attach(model, directory, engine)
    if device is not None and hasattr(model, "to"):
        model.to(device)
    if engine == "torch_compile":
        from relx.inference.engines.compiled import compile_transformers

        model.eval()
        compile_transformers(model)
    return model


def blank_model(directory: str | Path) -> REModel:
    """An unrestored instance of the model saved in ``directory`` (its class, config and labels)."""
    from relx.models import persistence as ps

    directory = Path(directory)
    meta = ps.read_model_meta(directory)
    cls = ps.model_class(directory, meta)
    with ps.load_errors(directory):
        return cls.blank(directory, ps.model_config(directory, cls, meta), ps.read_labels(directory))
