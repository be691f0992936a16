"""`make demo`: train the entity-marker MiniLM on bundled SemEval-2010 Task 8 within a CPU budget,
score the 2,717 official test sentences (official (9+1)-way directional macro-F1 and TACRED-style
micro-F1), then predict three raw sentences with the saved model.

CPU budget (2 cores, about 6-7 minutes of training): two epochs over the other 7,200 training sentences;
dev = 800 training sentences drawn at random (seed 0), scored after each epoch (best kept). Full-data numbers come from ``benchmarks/semeval_marker.py``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

CONFIG = Path("configs") / "semeval" / "demo.yaml"  # shipped with the repository; `make demo` runs from its root
SENTENCES = [
    "The <e1>fire</e1> was caused by a faulty <e2>heater</e2> in the basement.",
    "<e1>Bill Gates</e1> founded <e2>Microsoft</e2> in 1975.",
    "The <e1>letters</e1> were put into a wooden <e2>box</e2>.",
]
RAW = "The fire was caused by a faulty heater in the basement. The letters were put into a wooden box."


def demo_config(train_docs: int | None, epochs: int, threads: int, config: str | Path = CONFIG) -> dict:
    """The shipped ``configs/semeval/demo.yaml`` (bases merged, data paths resolved) with the command-line budget."""
    from relx.config import load_config

    sets = [f"trainer.epochs={epochs}", f"trainer.num_threads={threads}"]
    if train_docs is not None:
        sets.append(f"data.max_train_docs={train_docs}")
    return load_config(config, sets, strict_paths=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-docs", type=int, default=None, help="random subset of the 7,200 training sentences")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--config", default=str(CONFIG), help="the demo's run config (default: %(default)s, from the repository root)")
    p.add_argument("--out", default=str(Path("runs") / "demo"))
    args = p.parse_args(argv)

    import relx
    from relx.training.run import run_experiment

    t0 = time.perf_counter()
    result = run_experiment(demo_config(args.train_docs, args.epochs, args.threads, args.config), args.out)
    test, summary = result.metrics, result.summary
    print(
        f"\nSemEval-2010 Task 8 test (2,717): official macro-F1 (9+1-way, directional) = {100 * test['official_macro_f1']:.2f}  "
        f"micro-F1 (positives) = {100 * test['micro_f1']:.2f}  accuracy = {100 * test['accuracy']:.2f}  "
        f"[trained on {summary['train_docs']} sentences x {args.epochs} epochs in {summary['train_seconds']:.0f}s]"
    )
    pipeline = relx.load(result.model_dir)
    print("\nRaw sentences:")
    for doc in pipeline(SENTENCES):
        print(f"  {doc.meta['pair_label']:<28} p={doc.meta['pair_score']:.2f}  {doc.meta['text']}")
    doc = pipeline(RAW)  # no tags: spaCy noun chunks are the candidates, every ordered pair is classified
    print(f"\nRaw text (no tags): {RAW}")
    from relx.inference.extraction import extraction_view

    for r in extraction_view(doc)["relations"]:
        print(f"  {r['head_text']} --{r['label']}--> {r['tail_text']}  p={r['score']:.2f}  chars {r['head_span']} -> {r['tail_span']}")
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f}s; model saved in {args.out}/model")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
