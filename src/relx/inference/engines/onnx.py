"""ONNX export and onnxruntime inference for the transformer pair models (marker, bert_extra, gpt2_clf).

``export_onnx(model_dir, out_dir)`` writes a self-contained model directory: a copy of ``model_dir``
(so the PyTorch engine still loads it) plus ``model.onnx`` (fp32), optionally ``model.int8.onnx``
(onnxruntime dynamic int8 quantization of the MatMul weights) and ``onnx.json`` (input names, opset,
checksums and the largest |ONNX - PyTorch| logit difference measured on probe batches at export time).

:class:`OnnxEngine` (``onnx``) and :class:`OnnxInt8Engine` (``onnx_int8``) hold an onnxruntime session: the
model's ``predict`` featurizes, collates and decodes as before and only the tensor part runs in onnxruntime,
so ``relx.load(dir, engine="onnx")``, ``relx predict --engine onnx`` and ``relx serve --engine onnx`` share
one inference path with PyTorch.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from relx.data.schema import Document, Entity
from relx.data.textio import load_json
from relx.errors import RelxConfigError, RelxInputError
from relx.inference.engines import Engine
from relx.models.persistence import file_sha256

FILES = {"onnx": "model.onnx", "onnx_int8": "model.int8.onnx"}
META = "onnx.json"
OPSET = 18
TOLERANCE = 1e-4


def onnxruntime_module() -> Any:
    """onnxruntime, or a RelxConfigError saying how to install it."""
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError:
        raise RelxConfigError("the ONNX engine needs onnx and onnxruntime: pip install 'relx[onnx]'") from None
    return onnxruntime


def supports_onnx(model: Any) -> bool:
    """Whether ``model`` can be exported (a transformer pair classifier)."""
    from relx.models.pair import TransformerPairClassifier

    return isinstance(model, TransformerPairClassifier)


class _PairLogits(nn.Module):
    """The tensor part of a transformer pair model: collated inputs (positional, in ``names`` order) -> logits."""

    def __init__(self, model: nn.Module, names: list[str]):
        super().__init__()
        self.model, self.names = model, names

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        batch = dict(zip(self.names, tensors))
        return self.model.classifier(self.model.pair_repr(batch))  # (B, C); head dropout is identity in eval


def probe_documents(model: Any, n: int = 6) -> list[Document]:
    """Synthetic two-entity sentences of different lengths (export tracing and the equality check)."""
    types = [t for t in getattr(model.front_end, "entity_types", []) if t not in ("O",)] or ["ENTITY"]
    words = "the committee said that a new bridge over the river was built by engineers from the city last year".split()
    docs = []
    for i in range(n):
        toks = words[: 6 + 3 * i]
        docs.append(
            Document(
                id=f"probe{i}",
                tokens=toks,
                entities=[Entity(1, 2, types[i % len(types)]), Entity(len(toks) - 2, len(toks), types[(i + 1) % len(types)])],
            )
        )
    return docs


def _inputs(model: Any, docs: list[Document]) -> tuple[list[str], dict[str, torch.Tensor]]:
    batch = model.collate_pair(model.front_end.featurize_many(docs))
    names = [k for k, v in batch.items() if isinstance(v, torch.Tensor)]
    return names, {k: batch[k] for k in names}


def export_onnx(model_dir: str | Path, out_dir: str | Path, int8: bool = True, opset: int = OPSET, overwrite: bool = False) -> dict:
    """Export a saved transformer pair model to ``out_dir`` (see the module docstring); returns the onnx.json dict.

    ``out_dir`` must be new or empty (or ``model_dir`` itself, without ONNX files yet) unless ``overwrite``: then the
    files the export writes (those copied from ``model_dir``, model.onnx, model.int8.onnx, onnx.json) replace the files
    of those names, and every other file in ``out_dir`` is kept. The export is built in a unique temp folder beside
    ``out_dir`` and moved in when complete (onnx.json last); a failed export leaves ``out_dir`` as it was."""

    onnxruntime_module()  # fail early with a clear message when it is missing
    from relx.models.loading import load_model
    from relx.utils import install_files, staging_directory, write_json

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        raise RelxInputError("exists and is not a directory (OUT names the export folder)", out_dir)
    in_place = out_dir.exists() and model_dir.exists() and out_dir.resolve() == model_dir.resolve()
    ours = (*FILES.values(), META)
    taken = (
        [n for n in ours if (out_dir / n).exists()] if in_place else sorted(p.name for p in out_dir.iterdir()) if out_dir.exists() else []
    )
    if taken and not overwrite:
        raise RelxInputError(
            f"output folder is not empty ({', '.join(taken[:3])}{', ...' if len(taken) > 3 else ''}); pass --overwrite "
            "to replace the files the export writes (a copy of MODEL, model.onnx, model.int8.onnx, onnx.json; "
            "nothing else is touched), or choose a new folder",
            out_dir,
        )
    model = load_model(model_dir, device="cpu")
    if not supports_onnx(model):
        raise RelxConfigError(
            f"{model_dir}: ONNX export supports the transformer pair models (marker, bert_extra, gpt2_clf), not {model.registered_name!r}"
        )
    model.eval()
    with staging_directory(out_dir) as tmp:
        if not in_place:
            skip = {tmp.resolve(), out_dir.resolve()}  # OUT (and the temp folder) may lie inside MODEL

            def ignore(folder: str, names: list[str]) -> set[str]:
                top = Path(folder).resolve() == model_dir.resolve()
                return {n for n in names if (top and n in ours) or (Path(folder) / n).resolve() in skip}

            shutil.copytree(model_dir, tmp, ignore=ignore, dirs_exist_ok=True)
        meta = _export_into(model, model_dir, tmp, int8, opset)
        write_json(tmp / META, meta)
        old = _previous_meta(out_dir)
        install_files(tmp, out_dir, last=(META,))
        stale = old.get("onnx_int8") if not int8 else None  # a previous export's int8 file, no longer listed
        if (
            isinstance(stale, dict)
            and stale.get("file") == FILES["onnx_int8"]
            and (out_dir / FILES["onnx_int8"]).is_file()
            and file_sha256(out_dir / FILES["onnx_int8"]) == stale.get("sha256")
        ):
            (out_dir / FILES["onnx_int8"]).unlink()  # exactly the file that export wrote (its checksum matches)
    return meta


def _previous_meta(out_dir: Path) -> dict:
    """The ``files`` entries of an earlier export's onnx.json in ``out_dir`` ({} when none or unreadable)."""
    try:
        files = load_json(out_dir / META).get("files")
    except (RelxInputError, AttributeError):
        return {}
    return files if isinstance(files, dict) else {}


def _export_into(model: Any, model_dir: Path, tmp: Path, int8: bool, opset: int) -> dict:
    """Write model.onnx (and model.int8.onnx) into ``tmp``; returns the onnx.json dict (checked against PyTorch)."""
    names, sample = _inputs(model, probe_documents(model, 2))
    wrapper = _PairLogits(model, names).eval()
    dynamic = {
        k: ({0: "batch", 1: "seq"} if v.dim() == 2 and k in ("input_ids", "attention_mask") else {0: "batch"}) for k, v in sample.items()
    }
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape checks that are constant for these encoders (checked below)
        fastpath = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)  # nn.TransformerEncoderLayer's fused eval kernel has no ONNX form
        try:
            torch.onnx.export(
                wrapper,
                tuple(sample[k] for k in names),
                str(tmp / FILES["onnx"]),
                input_names=names,
                output_names=["logits"],
                dynamic_axes={**dynamic, "logits": {0: "batch"}},
                opset_version=opset,
                dynamo=False,
            )
        finally:
            torch.backends.mha.set_fastpath_enabled(fastpath)
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # int8 weights per output channel, 7-bit range, MatMul only (embeddings stay fp32): the variant that agreed
        # best with fp32 predictions on 600 SemEval training sentences (docs/DESIGN-NOTES.md)
        logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # onnxruntime's "consider pre-processing" note
        quantize_dynamic(
            str(tmp / FILES["onnx"]),
            str(tmp / FILES["onnx_int8"]),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            op_types_to_quantize=["MatMul"],
        )
    meta: dict[str, Any] = {"inputs": names, "opset": opset, "torch": torch.__version__, "files": {}}
    probe_names, probe = _inputs(model, probe_documents(model))
    with torch.inference_mode():
        ref = wrapper(*(probe[k] for k in probe_names)).float().numpy()  # (N, C)
    for engine, name in FILES.items():
        if not (tmp / name).exists():
            continue
        got = OnnxRunner(tmp / name, names)(probe).logits.numpy()
        meta["files"][engine] = {"file": name, "sha256": file_sha256(tmp / name), "max_abs_diff": float(np.abs(got - ref).max())}
    if meta["files"]["onnx"]["max_abs_diff"] > TOLERANCE:
        raise RelxInputError(f"{model_dir}: ONNX logits differ from PyTorch by {meta['files']['onnx']['max_abs_diff']:.2e} (> {TOLERANCE})")
    return meta


class OnnxRunner:
    """An onnxruntime CPU session over a collated batch -> ModelOutput (loss None)."""

    def __init__(self, path: Path, names: list[str], threads: int | None = None):
        ort = onnxruntime_module()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for damaged files
            raise RelxInputError(f"cannot load ONNX model: {str(exc).splitlines()[0]}", path) from None
        graph = {i.name for i in self.session.get_inputs()}  # the exporter drops inputs a model does not read
        missing = graph - set(names)
        if missing:
            raise RelxInputError(f"ONNX model wants inputs {sorted(missing)} that relx does not produce for it", path)
        self.names = [k for k in names if k in graph]

    def __call__(self, batch: dict[str, torch.Tensor]) -> Any:
        from relx.models.base import ModelOutput

        feed = {k: batch[k].cpu().numpy().astype(np.int64) for k in self.names}
        (logits,) = self.session.run(["logits"], feed)
        return ModelOutput(loss=None, logits=torch.from_numpy(logits))


def read_meta(directory: Path) -> dict:
    """onnx.json of an export, read by the model-directory JSON reader (regular file, size cap, no link out);
    every listed ``file`` must be a plain file name in ``directory``."""
    from relx.models.persistence import one_line, read_json_file

    path = directory / META
    if not path.exists() and not path.is_symlink():
        raise RelxInputError(f"no ONNX export here (run `relx export onnx MODEL {directory}` first)", path)
    meta = read_json_file(path)
    if not isinstance(meta, dict) or not isinstance(meta.get("inputs"), list) or not isinstance(meta.get("files"), dict):
        raise RelxInputError("not an onnx.json written by `relx export onnx` (needs 'inputs' and 'files')", path)
    for engine, entry in meta["files"].items():
        name = entry.get("file") if isinstance(entry, dict) else None
        if name is not None and (not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name or "\\" in name):
            raise RelxInputError(f"files.{engine}.file must name a file in the export folder, got {one_line(repr(name), 80)}", path)
    return meta


class OnnxEngine(Engine):
    """The tensor part of a transformer pair model in an onnxruntime CPU session (``model.onnx`` of an export).

    The model is loaded without its weights (``load_model(..., weights=False)``): they live in the ONNX file."""

    name = "onnx"
    cpu_only = True
    loads_weights = False

    def __init__(self, runner: OnnxRunner):
        self.runner = runner

    @classmethod
    def check_directory(cls, directory: str | Path) -> None:
        """An export directory (a readable onnx.json), checked before the model loads."""
        read_meta(Path(directory))

    @classmethod
    def open(cls, model: Any, directory: str | Path | None = None, threads: int | None = None) -> OnnxEngine:
        """A session over this engine's file in ``directory`` (listed in onnx.json, checksum verified)."""
        if directory is None:
            raise RelxConfigError(f"engine {cls.name} needs the export directory")
        directory = Path(directory)
        meta = read_meta(directory)
        entry = meta["files"].get(cls.name)
        if not isinstance(entry, dict) or "file" not in entry:
            raise RelxInputError(f"this export has no {cls.name} model (exported: {', '.join(meta['files']) or 'none'})", directory / META)
        path = directory / entry["file"]
        if not path.is_file():
            raise RelxInputError("missing ONNX file listed in onnx.json", path)
        if entry.get("sha256") and file_sha256(path) != entry["sha256"]:
            raise RelxInputError("checksum mismatch (the file is damaged or was replaced after export)", path)
        if not supports_onnx(model):
            raise RelxConfigError(f"{directory}: engine {cls.name} needs a transformer pair model, not {model.registered_name!r}")
        return cls(OnnxRunner(path, list(meta["inputs"]), threads))

    def device(self, model: Any) -> torch.device:
        return torch.device("cpu")

    def __call__(self, model: Any, batch: dict[str, torch.Tensor]) -> Any:
        return self.runner(batch)


class OnnxInt8Engine(OnnxEngine):
    """:class:`OnnxEngine` over ``model.int8.onnx`` (dynamic int8 MatMul weights)."""

    name = "onnx_int8"
