"""Loading a saved model directory: the one entry point (:func:`load_model`) and unrestored instances."""

from __future__ import annotations

from pathlib import Path

from relx.models.base import REModel


def load_model(directory: str | Path, device: str | None = None, weights: bool = True) -> REModel:
    """Load any saved relx model directory (JSON + safetensors only; nothing is unpickled), or a built zoo model by
    name (:func:`relx.zoo.resolve_model_path`: an existing path always wins).

    Weight files listed in config.json's ``sha256`` are verified first. Every problem (missing or
    damaged file, unknown type, weights that do not fit) raises one RelxInputError naming the file.
    ``weights=False`` loads the model's structure and JSON state only, its parameters on the ``meta`` device
    (no checksum pass, no restore): for an engine that brings its own weights (the ONNX engines of
    :mod:`relx.inference.engines`). How the loaded model runs is the engine's business, not this function's.
    """
    from relx.models import persistence as ps
    from relx.zoo.cache import resolve_model_path

    directory = resolve_model_path(directory)  # an existing path, else a built zoo model of that name
    meta = ps.read_model_meta(directory)
    cls = ps.model_class(directory, meta)
    config = ps.model_config(directory, cls, meta)
    labels = ps.read_labels(directory)
    profile = ps.read_profile(directory, meta)
    if weights:
        ps.verify_checksums(directory, meta)
    state = ps.saved_state(meta.get("state") or {})
    with ps.load_errors(directory):
        model = cls.blank(directory, config, labels)
        if weights:
            model.restore(directory, state)
        else:
            model.load_state_json(state)
    model.profile = profile
    if not weights and hasattr(model, "to"):
        model.eval()
        model.to("meta")  # a weightless model: nothing to hold in memory
    elif device is not None and hasattr(model, "to"):
        model.to(device)
    return model


def blank_model(directory: str | Path) -> REModel:
    """An unrestored instance of the model saved in ``directory`` (its class, config and labels)."""
    from relx.models import persistence as ps

    directory = Path(directory)
    meta = ps.read_model_meta(directory)
    cls = ps.model_class(directory, meta)
    with ps.load_errors(directory):
        return cls.blank(directory, ps.model_config(directory, cls, meta), ps.read_labels(directory))
