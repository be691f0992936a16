"""`relx export gpu-bundle` (fp16 encoder + pre-annotated data, < 64 MiB, for a GPU run) and `relx export onnx`."""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from pathlib import Path

LIMIT = 64 * 1024 * 1024
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json", "vocab.json", "merges.txt")


BUNDLE_OVERWRITE_HELP = "write into a non-empty OUT (e.g. an earlier bundle): replaces only the files the bundle writes, keeps the rest"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export artifacts")
    esub = p.add_subparsers(dest="export_command", required=True)
    g = esub.add_parser("gpu-bundle", help="fp16 encoder copy + pre-annotated data for a GPU machine without spaCy")
    g.add_argument("--out", default="gpu_bundle")
    g.add_argument("--encoder", default="default", help="local HF encoder directory (default: bundled MiniLM)")
    g.add_argument(
        "--data", action="append", default=None, metavar="PATH[:FORMAT]", help="dataset to include (default: bundled SemEval train + test)"
    )
    g.add_argument("--no-annotate", action="store_true", help="skip spaCy POS/NER/dependency annotation")
    g.add_argument("--overwrite", action="store_true", help=BUNDLE_OVERWRITE_HELP)
    g.set_defaults(func=run_gpu_bundle)
    o = esub.add_parser("onnx", help="ONNX (+ int8) copy of a transformer pair model for onnxruntime CPU inference")
    o.add_argument("model", help="saved relx model directory (marker, bert_extra or gpt2_clf) or built zoo model name")
    o.add_argument("out", help="output directory: a copy of MODEL + model.onnx, model.int8.onnx, onnx.json")
    o.add_argument("--no-int8", action="store_true", help="skip the dynamic int8 quantized variant")
    o.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a non-empty OUT: replaces only the files the export writes (MODEL's files, model.onnx, "
        "model.int8.onnx, onnx.json); other files in OUT are kept",
    )
    o.set_defaults(func=run_onnx)


def run_onnx(args: argparse.Namespace) -> int:
    from relx.errors import RelxInputError
    from relx.inference.engines.onnx import export_onnx

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise RelxInputError("exists and is not a directory (OUT names the export folder)", out)
    from relx.zoo.cache import resolve_model_path

    meta = export_onnx(resolve_model_path(args.model), out, int8=not args.no_int8, overwrite=args.overwrite)
    for engine, entry in meta["files"].items():
        print(f"{engine:10s} {out / entry['file']}  max |logit - PyTorch| on probe sentences = {entry['max_abs_diff']:.2e}")
    print(f"load it with relx.load({str(out)!r}, engine='onnx') or `relx predict {out} --engine onnx ...`")
    return 0


def export_fp16_encoder(src: Path, dst: Path) -> None:
    """Copy config + tokenizer files and a float16 safetensors of the weights (written atomically, usual file mode)."""
    import torch
    from safetensors.torch import load_file, save_file

    from relx.models.neural import save_atomically
    from relx.models.persistence import check_safetensors
    from relx.nn.encoder import check_encoder_dir

    check_encoder_dir(src)  # refuse custom code, links out of the folder, FIFOs and devices before copying anything
    dst.mkdir(parents=True, exist_ok=True)
    check_safetensors(src / "model.safetensors")
    weights = load_file(str(src / "model.safetensors"))
    half = {k: (v.to(torch.float16) if v.is_floating_point() else v).contiguous() for k, v in weights.items()}
    save_atomically(dst / "model.safetensors", lambda tmp: save_file(half, tmp, metadata={"format": "pt"}))
    for name in ("config.json", *TOKENIZER_FILES):
        if (src / name).is_file():
            shutil.copyfile(src / name, dst / name)


def default_datasets() -> list[str]:
    """The bundled SemEval train/test of the checkout in the current directory."""
    root = Path("data") / "semeval2010_task8"
    return [f"{root / 'TRAIN_FILE.TXT.gz'}:semeval", f"{root / 'TEST_FILE_FULL.TXT.gz'}:semeval"]


def run_gpu_bundle(args: argparse.Namespace) -> int:
    """Build the bundle in a unique temp folder beside OUT; only a complete bundle under the size limit is moved in
    (MANIFEST.json last). A non-empty OUT needs --overwrite, and then only the bundle's own files are replaced."""

    from relx.data.io import read
    from relx.errors import RelxInputError
    from relx.nn.encoder import resolve_encoder
    from relx.utils import install_files, staging_directory, write_json

    out = Path(args.out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise RelxInputError("exists and is not a directory (--out names the bundle folder)", out)
    if out.exists() and any(out.iterdir()) and not args.overwrite:
        raise RelxInputError(
            "output folder is not empty; pass --overwrite to replace the files the bundle writes "
            "(encoder/, data/*.jsonl.gz, MANIFEST.json; nothing else is touched), or choose a new folder",
            out,
        )
    specs = []
    for spec in args.data or default_datasets():
        path, _, fmt = spec.partition(":")
        name = Path(path).name.split(".")[0].lower() + ".jsonl.gz"
        if any(name == other for _, _, other in specs):
            raise RelxInputError(f"two --data files would both be written as data/{name}; rename one", path)
        specs.append((path, fmt, name))
    encoder = resolve_encoder(args.encoder)
    with staging_directory(out) as tmp:
        export_fp16_encoder(encoder, tmp / "encoder")
        (tmp / "data").mkdir()
        manifest = {"encoder": str(args.encoder), "dtype": "float16", "data": []}
        for path, fmt, name in specs:
            docs = read(path, fmt or "auto")
            if not args.no_annotate:
                from relx.data.annotate import annotate

                docs = annotate(docs)
            with gzip.open(tmp / "data" / name, "wt", encoding="utf-8") as fh:
                for d in docs:
                    fh.write(json.dumps(d.to_dict(), ensure_ascii=False) + "\n")
            manifest["data"].append({"source": path, "file": f"data/{name}", "documents": len(docs), "annotated": not args.no_annotate})
        write_json(tmp / "MANIFEST.json", manifest)
        size = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())  # the bundle's files only, not others in OUT
        if size > LIMIT:
            raise RelxInputError(
                f"bundle would be {size / 2**20:.1f} MiB, over the 64 MiB a GPU run can carry; include less data (nothing written)", out
            )
        install_files(tmp, out, last=("MANIFEST.json",))
    print(f"wrote {out} ({size / 2**20:.1f} MiB): encoder fp16 + {len(manifest['data'])} dataset(s)")
    return 0
