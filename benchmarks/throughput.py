"""Inference throughput (sentences/s) of the entity-marker MiniLM, batch 1 and batch 64, length-bucketed.

Uses the first N official SemEval test sentences. Weights do not change speed, so a saved model is
optional (default: the untrained marker head on the pretrained MiniLM encoder).

    python benchmarks/throughput.py --threads 2 --n 512        # CPU, 2 threads
    python benchmarks/throughput.py --device cuda --n 2717      # GPU
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, hardware, load_rows, markdown_table, save_rows, write_text  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=None, help="saved model dir (default: fresh marker model on MiniLM)")
    p.add_argument("--data", default=str(ROOT / "data" / "semeval2010_task8" / "TEST_FILE_FULL.TXT.gz"))
    p.add_argument("--format", default="semeval")
    p.add_argument("--n", type=int, default=512)
    p.add_argument("--batch-sizes", default="1,64")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--encoder", default="default")
    p.add_argument("--results", default=str(RESULTS / "throughput.json"))
    args = p.parse_args()

    import torch

    from relx.data.io import read
    from relx.data.labels import LabelSet
    from relx.models.loading import load_model
    from relx.models.marker import MarkerConfig, MarkerModel

    torch.set_num_threads(args.threads)
    docs = read(args.data, args.format)[: args.n]
    if args.model:
        model = load_model(args.model, device=args.device)
    else:
        model = MarkerModel(MarkerConfig(encoder=args.encoder), LabelSet.from_documents(docs, negative="Other")).to(args.device)
    model.eval()
    model.predict(docs[:64], batch_size=64)  # warm-up
    rows = [r for r in load_rows(Path(args.results)) if r.get("hardware") != hardware() or r.get("device") != args.device]
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model.predict(docs, batch_size=bs)  # featurization (tokenization, markers) included
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        row = {
            "dataset": "semeval2010_task8_test",
            "model": "marker",
            "config": "MiniLM-L6 typed_punct",
            "seed": None,
            "device": args.device,
            "threads": args.threads if args.device == "cpu" else None,
            "batch_size": bs,
            "sentences": len(docs),
            "sent_per_s": round(len(docs) / dt, 1),
            "hardware": hardware(),
            "script": "benchmarks/throughput.py " + " ".join(sys.argv[1:]),
        }
        print(f"{args.device} batch {bs:3d}: {row['sent_per_s']:.1f} sentences/s ({len(docs)} sentences, {dt:.1f}s)", flush=True)
        rows.append(row)
    save_rows(Path(args.results), rows)
    table = [[r["hardware"], r["device"], r["threads"], r["batch_size"], r["sentences"], r["sent_per_s"]] for r in rows]
    write_text(
        Path(args.results).with_suffix(".md"),
        "# Inference throughput (tokenization included, length-bucketed batches)\n\nProduced by `benchmarks/throughput.py`.\n\n"
        + markdown_table(["hardware", "device", "threads", "batch", "sentences", "sentences/s"], table),
    )


if __name__ == "__main__":
    main()
