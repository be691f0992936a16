"""Raw-text extraction speed (sentences/s) of saved models on CPU, batch 1 and 64, spaCy and model time apart.

Input: the detokenized text of the first N CoNLL04 test sentences (288 in the file), one raw text each.
A joint model (``kind`` joint) predicts entities itself (kind ``joint``); a pair classifier gets
spaCy NER / noun-chunk candidates and classifies every allowed pair (kind ``pair+spacy``). spaCy runs
on the CPU either way. One warm-up pass precedes the timed ones.

    python benchmarks/extract_speed.py runs/demo/model [MORE_DIRS] --out benchmarks/results/extract_speed.json
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, hardware, load_rows, markdown_table, save_rows, write_text  # noqa: E402

HEADER = ["model", "kind", "batch", "sentences", "seconds", "sent/s", "spaCy s", "model s", "model inputs", "hardware"]


def detokenize(tokens: list[str]) -> str:
    """Plain text from PTB-style tokens (quotes, punctuation and clitics re-attached)."""
    text = " ".join(tokens).replace("` `", '"').replace("' '", '"').replace("``", '"').replace("''", '"')
    text = re.sub(r" ([.,;:!?%)\]}])", r"\1", text)
    text = re.sub(r"([(\[{$]) ", r"\1", text)
    text = re.sub(r" (n't|'s|'re|'ve|'m|'ll|'d)\b", r"\1", text)
    return re.sub(r'" ([^"]*?) "', r'"\1"', text)


def time_extraction(model, texts: list[str], batch_size: int, threshold: float | None, candidates: str) -> dict:
    """Extract from ``texts`` in chunks of ``batch_size`` (spaCy batch and model batch); seconds and counts."""
    from relx.inference.extraction import Extractor

    ex = Extractor(model, batch_size=batch_size, threshold=threshold, candidates=candidates)
    relations = 0
    t0 = time.perf_counter()
    for s in range(0, len(texts), batch_size):
        relations += sum(len(d.relations) for d in ex(texts[s : s + batch_size]))
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "relations": relations, "candidates": ex.candidates, **ex.stats}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", metavar="MODEL_DIR", help="saved relx model directories")
    p.add_argument("--data", default=str(ROOT / "data" / "conll04" / "conll04_test.json.gz"))
    p.add_argument("--format", default="spert")
    p.add_argument("--n", type=int, default=300, help="first N sentences (default 300; the CoNLL04 test file has 288)")
    p.add_argument("--batch-sizes", default="1,64")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--threshold", type=float, default=None, help="default: 0.5 for pair models, joint models keep their own decisions")
    p.add_argument("--candidates", default="auto", choices=("auto", "ner", "noun_chunks"))
    p.add_argument("--out", default=str(RESULTS / "extract_speed.json"))
    args = p.parse_args(argv)

    import torch

    from relx.data.io import read
    from relx.inference.extraction import load_spacy
    from relx.models.loading import load_model

    torch.set_num_threads(args.threads)
    texts = [detokenize(d.tokens) for d in read(args.data, args.format)[: args.n]]
    load_spacy()
    hw = hardware()
    out = Path(args.out)
    new = []
    for directory in args.models:
        model = load_model(directory, device="cpu")
        if hasattr(model, "eval"):
            model.eval()
        kind = {"pair": "pair+spacy", "all_pairs": "all_pairs+spacy"}.get(model.kind.value, model.kind.value)
        time_extraction(model, texts[:16], 16, args.threshold, args.candidates)  # warm-up
        for bs in [int(b) for b in args.batch_sizes.split(",")]:
            r = time_extraction(model, texts, bs, args.threshold, args.candidates)
            new.append(
                {
                    "dataset": "conll04_test",
                    "model": model.registered_name,
                    "model_dir": str(directory),
                    "kind": kind,
                    "config": f"candidates={r['candidates']} threshold={args.threshold}",
                    "seed": None,
                    "batch_size": bs,
                    "sentences": len(texts),
                    "spacy_sentences": r["sentences"],
                    "seconds": round(r["seconds"], 3),
                    "sent_per_s": round(len(texts) / r["seconds"], 2),
                    "spacy_seconds": round(r["spacy_seconds"], 3),
                    "model_seconds": round(r["model_seconds"], 3),
                    "model_inputs": r["model_inputs"],
                    "relations": r["relations"],
                    "threads": args.threads,
                    "hardware": hw,
                    "script": "benchmarks/extract_speed.py",
                }
            )
    keys = {(r["model_dir"], r["batch_size"], r["hardware"]) for r in new}
    rows = [r for r in load_rows(out) if (r.get("model_dir"), r.get("batch_size"), r.get("hardware")) not in keys] + new
    save_rows(out, rows)
    table = markdown_table(
        HEADER,
        [
            [
                r["model"],
                r["kind"],
                r["batch_size"],
                r["sentences"],
                f"{r['seconds']:.2f}",
                f"{r['sent_per_s']:.1f}",
                f"{r['spacy_seconds']:.2f}",
                f"{r['model_seconds']:.2f}",
                r["model_inputs"],
                r["hardware"],
            ]
            for r in rows
        ],
    )
    write_text(out.with_suffix(".md"), f"# Raw-text extraction speed (CoNLL04 test, detokenized)\n\n{table}")
    print(table)
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
