"""`make demo`: build the zoo's CoNLL04 joint recipe (span_base MiniLM: people, organisations, locations and
their relations) from the bundled data within a CPU budget, extract relations from a handful of raw news-style
sentences (entities with types and character offsets, relations with scores), then print its test scores.

The model goes to runs/demo/conll04 (run directory; the model itself in runs/demo/conll04/model), inside the
repository: `make demo` writes nothing elsewhere. `relx zoo build conll04` trains the same recipe into RELX_HOME.

`make demo-semeval` (``python -m relx.cli.demo --semeval``) is the second step: the entity-marker MiniLM on
bundled SemEval-2010 Task 8 (marked pairs of nominals), scored on the 2,717 official test sentences, into
runs/demo/semeval.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

CONFIG = Path("configs") / "semeval" / "demo.yaml"  # shipped with the repository; `make demo` runs from its root
JOINT_CONFIG = Path("configs") / "zoo" / "conll04.yaml"
SENTENCES = [
    "The <e1>fire</e1> was caused by a faulty <e2>heater</e2> in the basement.",
    "<e1>Bill Gates</e1> founded <e2>Microsoft</e2> in 1975.",
    "The <e1>letters</e1> were put into a wooden <e2>box</e2>.",
]
RAW = "The fire was caused by a faulty heater in the basement. The letters were put into a wooden box."
NEWS = [
    "Tim Cook is the chief executive of Apple, which is based in Cupertino, California.",
    "Lee Harvey Oswald shot President John F. Kennedy in Dallas on Nov. 22, 1963.",
    "Angela Merkel, who lives in Berlin, met officials of the World Bank in Washington.",
    "Bill Gates, the chairman of Microsoft Corp. of Redmond, Wash., spoke to reporters in Seattle.",
    "The Louvre is a museum in Paris, the capital of France.",
]


def demo_config(train_docs: int | None, epochs: int, threads: int, config: str | Path = CONFIG) -> dict:
    """The shipped ``configs/semeval/demo.yaml`` (bases merged, data paths resolved) with the command-line budget."""
    from relx.config import load_config

    sets = [f"trainer.epochs={epochs}", f"trainer.num_threads={threads}"]
    if train_docs is not None:
        sets.append(f"data.max_train_docs={train_docs}")
    return load_config(config, sets, strict_paths=True)


def joint_config(threads: int, epochs: int | None = None, config: str | Path = JOINT_CONFIG) -> dict:
    """The zoo's CoNLL04 recipe (``configs/zoo/conll04.yaml``) with the demo's thread count (and epochs, when given)."""
    from relx.config import load_config

    sets = [f"trainer.num_threads={threads}"] + ([f"trainer.epochs={epochs}"] if epochs is not None else [])
    return load_config(config, sets, strict_paths=True)


def extraction_lines(doc: Any) -> list[str]:
    """A raw-text extraction as lines: the text, each entity (type, character offsets), each relation
    (head, label, tail, score, the character spans of head and tail)."""
    from relx.data.safetext import printable
    from relx.inference.extraction import extraction_view

    view = extraction_view(doc)
    lines = [f"  {printable(doc.meta.get('text', ''))}"]
    width = max((len(printable(e["text"])) for e in view["entities"]), default=0)
    for e in view["entities"]:
        lines.append(f"    entity    {printable(e['text']):<{width}}  {printable(e['label']):<6} chars {e['char_start']}:{e['char_end']}")
    if not view["entities"]:
        lines.append("    entity    (none)")
    for r in view["relations"]:
        (hs, he), (ts, te) = r["head_span"], r["tail_span"]
        score = "-" if r["score"] is None else f"{r['score']:.2f}"
        lines.append(
            f"    relation  {printable(r['head_text'])} --{printable(r['label'])}--> {printable(r['tail_text'])}"
            f"  score {score}  chars {hs}:{he} -> {ts}:{te}"
        )
    if not view["relations"]:
        lines.append("    relation  (none)")
    return lines


def joint_scores_line(test: dict, n_test: int) -> str:
    """NER and RE (strict, boundaries) micro-F1 of the joint scorer on the test set, on one line."""
    return (
        f"CoNLL04 test ({n_test} sentences), micro-F1: NER (span + type) = {100 * test['ner_micro_f1']:.2f}  "
        f"RE strict = {100 * test['re_strict_micro_f1']:.2f}  RE boundaries = {100 * test['re_boundaries_micro_f1']:.2f}"
    )


def run_joint(args: argparse.Namespace) -> int:
    """The main demo: CoNLL04 joint recipe -> raw news sentences -> test scores."""
    import relx
    from relx.training.run import run_experiment

    t0 = time.perf_counter()
    out = Path(args.out or Path("runs") / "demo" / "conll04")
    raw = joint_config(args.threads, args.epochs, args.config or JOINT_CONFIG)
    print(f"Training span_base (MiniLM) on CoNLL04 ({raw['trainer']['epochs']} epochs, {args.threads} threads) into {out} ...")
    result = run_experiment(raw, out, verbose=False, origin="make demo")
    train_s = result.summary["train_seconds"]
    pipeline = relx.load(result.model_dir)
    print("\nRaw news sentences (entities: text, type, character offsets; relations: head --label--> tail):")
    for doc in pipeline(NEWS):
        print("\n".join(extraction_lines(doc)))
    print(f"\n{joint_scores_line(result.metrics, len(result.test or []))}")
    print(f"[trained on {result.summary['train_docs']} sentences in {train_s:.0f}s; scores in {out}/result.json; the full report:")
    print(f"  relx evaluate --gold {result.config.data.test} --pred {out}/test_predictions.jsonl --scheme joint]")
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f}s; model saved in {result.model_dir}")
    print(f'next: relx predict {result.model_dir} --text "..."   or   make demo-semeval (marked pairs)')
    return 0


def run_semeval(args: argparse.Namespace) -> int:
    """The second step: the SemEval entity-marker demo (marked pairs of nominals)."""
    import relx
    from relx.training.run import run_experiment

    t0 = time.perf_counter()
    out = args.out or str(Path("runs") / "demo" / "semeval")
    epochs = 2 if args.epochs is None else args.epochs
    result = run_experiment(demo_config(args.train_docs, epochs, args.threads, args.config or CONFIG), out, origin="make demo-semeval")
    test, summary = result.metrics, result.summary
    print(
        f"\nSemEval-2010 Task 8 test (2,717): official macro-F1 (9+1-way, directional) = {100 * test['official_macro_f1']:.2f}  "
        f"micro-F1 (positives) = {100 * test['micro_f1']:.2f}  accuracy = {100 * test['accuracy']:.2f}  "
        f"[trained on {summary['train_docs']} sentences x {epochs} epochs in {summary['train_seconds']:.0f}s]"
    )
    pipeline = relx.load(result.model_dir)
    print("\nMarked sentences:")
    for doc in pipeline(SENTENCES):
        print(f"  {doc.meta['pair_label']:<28} p={doc.meta['pair_score']:.2f}  {doc.meta['text']}")
    doc = pipeline(RAW)  # no tags: spaCy noun chunks are the candidates, every ordered pair is classified
    print(f"\nRaw text (no tags): {RAW}")
    from relx.inference.extraction import extraction_view

    for r in extraction_view(doc)["relations"]:
        print(f"  {r['head_text']} --{r['label']}--> {r['tail_text']}  p={r['score']:.2f}  chars {r['head_span']} -> {r['tail_span']}")
    print(f"\ndemo finished in {time.perf_counter() - t0:.0f}s; model saved in {out}/model")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    p.add_argument("--semeval", action="store_true", help="the SemEval marked-pair demo (make demo-semeval) instead")
    p.add_argument("--epochs", type=int, default=None, help="override the budget (default: the recipe's; SemEval: 2)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-docs", type=int, default=None, help="--semeval: random subset of the 7,200 training sentences")
    p.add_argument("--config", default=None, help=f"the run config (default: {JOINT_CONFIG}, with --semeval {CONFIG})")
    p.add_argument("--out", default=None, help="run directory (default: runs/demo/conll04, with --semeval runs/demo/semeval)")
    args = p.parse_args(argv)
    return run_semeval(args) if args.semeval else run_joint(args)


if __name__ == "__main__":
    raise SystemExit(main())
