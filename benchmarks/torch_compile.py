"""Inference with and without ``torch.compile`` on a saved marker model (SemEval test sentences, one process).

python benchmarks/torch_compile.py --model runs/bench_semeval_marker/marker_mention_s13_cpu-2epoch/model --threads 1 --n 512
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    import torch

    from relx.data.io import read
    from relx.inference.engines.compiled import compile_transformers
    from relx.models.loading import load_model

    torch.set_num_threads(args.threads)
    docs = list(read(ROOT / "data/semeval2010_task8/TEST_FILE_FULL.TXT.gz", "semeval"))[: args.n]
    m = load_model(args.model, device="cpu")
    m.predict(docs[: args.batch_size], args.batch_size)  # warm-up
    t = time.time()
    eager = m.predict(docs, args.batch_size)
    print("eager sentences/s", round(len(docs) / (time.time() - t), 1), flush=True)
    compile_transformers(m)  # what engine="torch_compile" does
    t = time.time()
    m.predict(docs[: 2 * args.batch_size], args.batch_size)
    print("compile + warm-up s", round(time.time() - t, 1), flush=True)
    t = time.time()
    compiled = m.predict(docs, args.batch_size)
    print("compiled sentences/s", round(len(docs) / (time.time() - t), 1))
    print("same labels", sum(a.meta["pair_label"] == b.meta["pair_label"] for a, b in zip(eager, compiled)) / len(docs))


if __name__ == "__main__":
    main()
