"""Inference and training speed of the MiniLM entity-marker model, side by side in one run.

Engines (each measured in its own child process, so peak RSS is its own):

* ``relx``: ``Pipeline`` / ``model.predict`` (one batched fast-tokenizer call, length-bucketed batches,
  ``torch.inference_mode``, bf16 autocast on CUDA);
* ``onnx`` / ``onnx_int8``: the same pipeline with the tensor part in onnxruntime (``relx export onnx``);
* ``naive``: what a plain Hugging Face loop does: tokenize one sentence at a time, pad every sentence to
  ``max_length`` (128), no bucketing, fp32, ``torch.no_grad``; same weights and marker text.

Training: the relx Trainer vs a naive loop (per-sentence tokenization padded to 128, unbucketed shuffled
batches, fp32, non-fused AdamW) on the same first ``--train-n`` SemEval training sentences, one epoch, batch 32.

The model is a trained SemEval marker model (``--model DIR``; default: trained once into
``runs/speed/model`` with ``configs/semeval/marker.yaml`` for ``--train-epochs`` epochs). Official macro-F1 on
the SemEval test set is reported for every batch-64 inference row (the int8 cost is the difference).

    python benchmarks/speed.py --threads 2                 # CPU rows (about 15 min after the model exists)
    python benchmarks/speed.py --device cuda --batch-sizes 256 --engines relx,naive --encoder gpu_bundle/encoder   # GPU rows
    python benchmarks/speed.py --report                    # tables + PNG from benchmarks/results/speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, load_rows, markdown_table, save_rows, train_semeval_marker, write_text  # noqa: E402

RUNS = ROOT / "runs" / "speed"
OUT = RESULTS / "speed.json"
SEMEVAL = ROOT / "data" / "semeval2010_task8"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def device_name(device: str) -> str:
    import torch

    return "cpu" if device == "cpu" else torch.cuda.get_device_name(0)


# --- naive Hugging Face loops ---------------------------------------------------------------
def naive_batch(model, docs, max_length: int = 128):
    """Per-sentence tokenization padded to max_length, stacked: (B, 128) ids / mask and (B,) anchors."""
    import torch

    from relx.nn.markers import insert_markers

    enc_mod = model.front_end
    ids, masks, e1, e2 = [], [], [], []
    for d in docs:
        marked = insert_markers(d, enc_mod.style, enc_mod._types(d))
        enc = enc_mod.tokenizer(
            marked.words, is_split_into_words=True, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt"
        )
        word_ids = enc.word_ids()
        ids.append(enc["input_ids"])
        masks.append(enc["attention_mask"])
        e1.append(word_ids.index(marked.anchors[0]) if marked.anchors[0] in word_ids else 0)  # truncated away: CLS
        e2.append(word_ids.index(marked.anchors[1]) if marked.anchors[1] in word_ids else 0)
    return torch.cat(ids), torch.cat(masks), torch.tensor(e1), torch.tensor(e2)


def naive_logits(model, ids, mask, e1, e2):
    import torch

    states = model.front_end.encoder(input_ids=ids, attention_mask=mask).last_hidden_state  # (B, 128, H)
    rows = torch.arange(ids.shape[0])
    rep = torch.cat([states[rows, e1], states[rows, e2]], dim=-1)  # (B, 2H)
    return model.classifier(model.head_dropout(rep))  # (B, C)


# --- one measurement (child process) ---------------------------------------------------------
def child(args: argparse.Namespace) -> dict:
    import torch

    from relx.data.io import read

    torch.set_num_threads(args.threads)
    torch.manual_seed(13)
    device = args.device
    if args.mode == "infer":
        from relx.models.base import Decoded, assign_predictions

        docs = list(read(SEMEVAL / "TEST_FILE_FULL.TXT.gz", "semeval"))[: args.n]
        engine = "torch" if args.engine in ("relx", "naive") else args.engine
        from relx.inference.pipeline import Pipeline

        nlp = Pipeline.load(args.onnx_dir if engine != "torch" else args.model, device=device, engine=engine)
        model = nlp.model
        if args.engine == "naive" and (model.config.use_cls or model.config.pooling != "start" or model.config.mld):
            raise SystemExit("the naive loop reproduces the plain marker head only (pooling start, no CLS, no MLD)")
        model.eval()
        warm = docs[: min(len(docs), 2 * args.batch)]
        start = None
        for run in ("warmup", "timed"):
            batch_docs = warm if run == "warmup" else docs
            if run == "timed":
                if device.startswith("cuda"):
                    torch.cuda.synchronize()
                start = time.perf_counter()
            if args.engine == "naive":
                labels = []
                with torch.no_grad():
                    for s in range(0, len(batch_docs), args.batch):
                        ids, mask, e1, e2 = naive_batch(model, batch_docs[s : s + args.batch])
                        logits = naive_logits(model, ids.to(device), mask.to(device), e1.to(device), e2.to(device))
                        labels += logits.argmax(-1).tolist()
                rels = [[r] if (r := model.labels.to_relation(model.labels.label(i), 0, 1)) else [] for i in labels]
                preds = assign_predictions(batch_docs, [Decoded(r) for r in rels])
            else:
                preds = model.predict(batch_docs, batch_size=args.batch, engine=nlp.engine)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        row = {"sent_per_s": round(len(docs) / seconds, 1), "sentences": len(docs)}
        if args.score:
            from relx.evaluation.scorer import score_documents

            row["official_macro_f1"] = round(100 * score_documents(docs, preds, model.labels, scheme="semeval")["official_macro_f1"], 2)
    else:
        row = train_child(args)
    row["peak_rss_mb"] = round(peak_rss_mb(), 0)
    if device.startswith("cuda"):
        row["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 0)
    return row


def train_child(args: argparse.Namespace) -> dict:
    import torch

    from relx.data.io import read
    from relx.data.labels import LabelSet
    from relx.models.marker import MarkerConfig, MarkerModel
    from relx.training.config import TrainerConfig
    from relx.training.trainer import Trainer

    docs = list(read(SEMEVAL / "TRAIN_FILE.TXT.gz", "semeval"))[: args.train_n]
    labels = LabelSet.from_documents(docs, negative="Other")
    model = MarkerModel(
        MarkerConfig(marker_style="typed_punct", max_length=128, **({"encoder": args.encoder} if args.encoder else {})), labels
    )
    device = args.device
    start = time.perf_counter()
    if args.engine == "relx":
        cfg = TrainerConfig(
            epochs=1, batch_size=32, lr=1e-4, head_lr=1e-3, progress=False, device=device, seed=13, num_threads=args.threads
        )
        Trainer(cfg).fit(model, docs, None)
    else:
        model.prepare(docs)
        model.to(device).train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        order = list(range(len(docs)))
        random.Random(13).shuffle(order)
        for s in range(0, len(order), 32):
            chunk = [docs[i] for i in order[s : s + 32]]
            ids, mask, e1, e2 = naive_batch(model, chunk)
            gold = torch.tensor([model.labels.pair_id(d) for d in chunk], device=device)
            logits = naive_logits(model, ids.to(device), mask.to(device), e1.to(device), e2.to(device))
            loss = torch.nn.functional.cross_entropy(logits, gold)
            opt.zero_grad()
            loss.backward()
            opt.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {"sent_per_s": round(len(docs) / seconds, 1), "sentences": len(docs)}


# --- orchestration ---------------------------------------------------------------------------
def ensure_model(args: argparse.Namespace) -> tuple[Path, Path]:
    model = Path(args.model) if args.model else RUNS / "model"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "src")}
    if not (model / "config.json").is_file():
        if args.model:
            raise SystemExit(f"{model}: not a saved relx model")
        print(f"training the SemEval marker model ({args.train_epochs} epochs) into {RUNS / 'train'} ...", flush=True)
        settings = [f"trainer.epochs={args.train_epochs}", f"trainer.num_threads={args.threads}"]
        model = train_semeval_marker(RUNS / "train", settings + ([f"model.encoder={args.encoder}"] if args.encoder else []), env)
    onnx_dir = RUNS / "onnx"
    if args.device == "cpu" and not (onnx_dir / "onnx.json").is_file():
        subprocess.run([sys.executable, "-m", "relx", "export", "onnx", str(model), str(onnx_dir)], check=True, env=env)
    return model, onnx_dir


def measure(args: argparse.Namespace, mode: str, engine: str, batch: int, model: Path, onnx_dir: Path, score: bool) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "--mode",
        mode,
        "--engine",
        engine,
        "--batch",
        str(batch),
        "--threads",
        str(args.threads),
        "--device",
        args.device,
        "--n",
        str(args.n),
        "--train-n",
        str(args.train_n),
        "--model",
        str(model),
        "--onnx-dir",
        str(onnx_dir),
    ]
    if args.encoder:
        cmd += ["--encoder", args.encoder]
    if score:
        cmd.append("--score")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": str(args.threads)}
    out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    row = {"device": device_name(args.device), "engine": engine, "mode": mode, "batch_size": batch, "threads": args.threads, **res}
    print(json.dumps(row), flush=True)
    return row


def report(rows: list[dict]) -> None:
    rows = sorted(rows, key=lambda r: (r["device"], r["mode"], r["batch_size"], r["engine"]))
    lines = [
        "# Inference and training speed (MiniLM entity-marker model, SemEval)",
        "",
        "Produced by `benchmarks/speed.py` (each row in its own process, all rows of a device in one run). "
        "`naive`: one sentence tokenized at a time, padded to 128, no bucketing, fp32. F1: official macro-F1 on the "
        "2,717 SemEval test sentences.",
        "",
    ]
    for device, mode in sorted({(r["device"], r["mode"]) for r in rows}):
        sel = [r for r in rows if (r["device"], r["mode"]) == (device, mode)]
        naive = {r["batch_size"]: r["sent_per_s"] for r in sel if r["engine"] == "naive"}
        lines += [
            f"## {mode} on {device}",
            "",
            markdown_table(
                ["engine", "batch", "threads", "sentences/s", "× naive", "peak RSS MB", "official macro-F1"],
                [
                    [
                        r["engine"],
                        r["batch_size"],
                        r["threads"],
                        r["sent_per_s"],
                        f"{r['sent_per_s'] / naive[r['batch_size']]:.2f}" if naive.get(r["batch_size"]) else "-",
                        int(r["peak_rss_mb"]),
                        r.get("official_macro_f1", "-"),
                    ]
                    for r in sel
                ],
            ),
        ]
    write_text(RESULTS / "speed.md", "\n".join(lines))
    plot(rows)


def plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sel = [r for r in rows if r["mode"] == "infer" and r["device"] == "cpu"]
    if not sel:
        return
    engines = sorted({r["engine"] for r in sel})
    batches = sorted({r["batch_size"] for r in sel})
    fig, ax = plt.subplots(figsize=(6, 3.5))
    width = 0.8 / len(batches)
    for k, b in enumerate(batches):
        vals = [next((r["sent_per_s"] for r in sel if r["engine"] == e and r["batch_size"] == b), 0) for e in engines]
        ax.bar([i + k * width for i in range(len(engines))], vals, width, label=f"batch {b}")
    ax.set_xticks([i + width * (len(batches) - 1) / 2 for i in range(len(engines))], engines)
    ax.set_ylabel("sentences / s")
    ax.set_title("CPU inference, MiniLM marker model (SemEval test)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "speed_cpu.png", dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="trained marker model dir (default: train one into runs/speed)")
    ap.add_argument("--train-epochs", type=int, default=2)
    ap.add_argument("--encoder", default=None, help="local HF encoder dir (default: bundled MiniLM; on a GPU machine: gpu_bundle/encoder)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=2717, help="test sentences per inference row")
    ap.add_argument("--train-n", type=int, default=1024, help="training sentences per training row")
    ap.add_argument("--batch-sizes", default="1,64")
    ap.add_argument("--engines", default="naive,relx,onnx,onnx_int8")
    ap.add_argument("--no-train", action="store_true")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--resume", action="store_true", help="measure nothing when every requested row exists")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="infer", help=argparse.SUPPRESS)
    ap.add_argument("--engine", default="relx", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=64, help=argparse.SUPPRESS)
    ap.add_argument("--onnx-dir", default=str(RUNS / "onnx"), help=argparse.SUPPRESS)
    ap.add_argument("--score", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    rows = load_rows(OUT)
    if args.report:
        report(rows)
        return
    engines = [e for e in args.engines.split(",") if e]
    if args.device != "cpu":
        engines = [e for e in engines if not e.startswith("onnx")]  # onnxruntime runs on the CPU here
    if args.resume:
        have = {(r["device"], r["engine"], r["mode"], r["batch_size"], r["threads"]) for r in rows}
        dev = device_name(args.device)
        want = {(dev, e, "infer", int(b), args.threads) for b in args.batch_sizes.split(",") for e in engines}
        want |= set() if args.no_train else {(dev, e, "train", 32, args.threads) for e in ("naive", "relx")}
        if want <= have:
            print("every requested row exists (--resume): not measured again")
            return
    model, onnx_dir = ensure_model(args)
    new = []
    for b in [int(x) for x in args.batch_sizes.split(",")]:
        for e in engines:
            new.append(measure(args, "infer", e, b, model, onnx_dir, score=b >= 64 or len(args.batch_sizes.split(",")) == 1))
    if not args.no_train:
        for e in ("naive", "relx"):
            new.append(measure(args, "train", e, 32, model, onnx_dir, score=False))
    dev = device_name(args.device)
    for r in new:
        r["model"] = str(model.resolve().relative_to(ROOT)) if model.resolve().is_relative_to(ROOT) else str(model)
    keys = {(r["device"], r["engine"], r["mode"], r["batch_size"]) for r in new}
    rows = [r for r in rows if (r["device"], r["engine"], r["mode"], r["batch_size"]) not in keys] + new
    save_rows(OUT, rows)
    report(rows)
    print((RESULTS / "speed.md").read_text())
    print(f"device: {dev}")


if __name__ == "__main__":
    main()
