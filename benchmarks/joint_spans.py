"""Joint entity + relation extraction (two-phase paper): span_base, two_phase and the Table 7 ablations.

CoNLL04 (train -> test, dev selects the epoch by strict RE micro-F1) and SciERC (RE scored without
entity types, as the paper does: selection and the main RE column use the boundary setting). Each
run writes its model, dev/test predictions and a row of benchmarks/results/joint_spans.json;
``--report`` rebuilds the Markdown tables (Tables 4-7 shaped), the entity-length / distance
bucket PNGs (Figures 3-4, dev sets) and the paired bootstrap two_phase vs span_base.

Main rows, 3 seeds (CPU, 2 threads):
    python benchmarks/joint_spans.py --datasets conll04 --models span_base,two_phase --seeds 13,14,15 --resume
Ablations, 1 seed:
    python benchmarks/joint_spans.py --datasets conll04 --models ablations --seeds 13 --resume
relx design checks of two_phase (Phase Two with a reject class; Phase One conditioned on the type pair):
    python benchmarks/joint_spans.py --datasets conll04 --models reject-class,typed-phase-one --seeds 13,14,15 --resume
Training speed on one CPU thread (no evaluation inside the timed loop):
    python benchmarks/joint_spans.py --speed --threads 1 --speed-batches 2,8
Longer budget with a fit curve (200 training sentences scored each epoch):
    python benchmarks/joint_spans.py --datasets conll04 --models span_base,two_phase --seeds 13,14,15 --epochs 40 --train-eval-docs 200 --budget-name cpu-40ep --resume
Tables and plots from the saved runs:
    python benchmarks/joint_spans.py --report
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, code_commit, hardware, keep_predictions, load_rows, save_rows  # noqa: E402

from relx.config import load_config  # noqa: E402
from relx.data.schema import Document, read_jsonl, write_jsonl  # noqa: E402
from relx.models.two_phase import ABLATIONS, VARIANTS  # noqa: E402
from relx.training.config import FitContext  # noqa: E402
from relx.training.run import load_splits, parse_run_config, run_experiment  # noqa: E402

RESULTS_JSON = RESULTS / "joint_spans.json"
RUNS = ROOT / "runs" / "joint_spans"
DATASETS = ("conll04", "scierc")
MAIN = ("span_base", "two_phase")
ABLATION_NAMES = [a for a in ABLATIONS if a != "two_phase"]


def model_spec(name: str) -> tuple[str, dict[str, Any]]:
    """(config file stem, model overrides) for a row name: span_base, two_phase or an ablation."""
    if name in MAIN:
        return name, {}
    if name in ABLATIONS or name in VARIANTS:
        return "two_phase", dict({**ABLATIONS, **VARIANTS}[name])
    raise SystemExit(f"unknown model row {name!r} (choose from {', '.join([*MAIN, *ABLATION_NAMES, *VARIANTS])}, or 'ablations')")


def run_dir(dataset: str, name: str, seed: int, budget: str) -> Path:
    slug = name.replace("w/o ", "wo_").replace("-", "_").replace(" ", "_")
    return RUNS / budget / dataset / f"{slug}_s{seed}"


def symmetric_types(dataset: str) -> set[str]:
    """Symmetric relation types from the dataset's SpERT types file (Compare, Conjunction in SciERC)."""
    from relx.data.readers.spert_types import symmetric_relations

    return symmetric_relations(ROOT / "data" / dataset / f"{dataset}_types.json.gz")


def raw_config(dataset: str, name: str, seed: int, args: argparse.Namespace) -> dict:
    stem, overrides = model_spec(name)
    raw = load_config(ROOT / "configs" / dataset / f"{stem}.yaml")
    raw["model"].update(overrides)
    for key in ("train", "dev", "test"):
        raw["data"][key] = str(ROOT / raw["data"][key])
    tr = raw["trainer"]
    tr.update({"seed": seed, "progress": not args.quiet})
    if args.epochs:
        tr["epochs"] = args.epochs
    if args.threads:
        tr["num_threads"] = args.threads
    if args.train_docs:
        raw["data"]["max_train_docs"] = args.train_docs
    if args.train_eval_docs:
        tr["train_eval_docs"] = args.train_eval_docs
    return raw


def curve(out: Path) -> list[dict[str, Any]]:
    """Per-evaluation strict RE and NER micro-F1 (%) on dev, and on the fixed training sample when the run scored one
    (``--train-eval-docs``), from the run's history.json."""
    keys = {
        "dev_re": "re_strict_micro_f1",
        "dev_ner": "ner_micro_f1",
        "train_re": "train_fit_re_strict_micro_f1",
        "train_ner": "train_fit_ner_micro_f1",
    }
    rows = json.loads((out / "history.json").read_text())
    return [
        {
            "epoch": h["epoch"],
            "step": h["step"],
            **{k: round(100 * h[v], 2) for k, v in keys.items() if v in h},
            "train_loss": h.get("train_loss"),
        }
        for h in rows
    ]


def joint_scores(gold: list[Document], pred: list[Document], symmetric: set[str]) -> dict[str, Any]:
    from relx.evaluation.scorer import score_joint

    return score_joint(gold, pred, symmetric=symmetric)


def summary(m: dict[str, Any]) -> dict[str, float]:
    keys = (
        "ner_micro_p",
        "ner_micro_r",
        "ner_micro_f1",
        "re_boundaries_micro_p",
        "re_boundaries_micro_r",
        "re_boundaries_micro_f1",
        "re_strict_micro_p",
        "re_strict_micro_r",
        "re_strict_micro_f1",
    )
    return {k: round(100 * m[k], 2) for k in keys}


def train_one(dataset: str, name: str, seed: int, args: argparse.Namespace) -> dict:
    """One row through ``run_experiment`` (the run ``relx train`` makes: dev selection with the symmetric
    relation types of the SpERT types file), then dev predictions and the row's own scores."""
    out = run_dir(dataset, name, seed, args.budget_name)
    result = run_experiment(raw_config(dataset, name, seed, args), out, resume=True, verbose=False)
    summ, model, dev, test = result.summary, result.model, result.dev, result.test
    sym = symmetric_types(dataset)
    t0 = time.perf_counter()
    dev_pred = model.predict(dev, batch_size=64)
    infer_s = time.perf_counter() - t0 + summ["test_seconds"]
    write_jsonl(out / "dev_predictions.jsonl", dev_pred)
    dev_m, test_m = joint_scores(dev, dev_pred, sym), joint_scores(test, result.predictions, sym)
    counts = model.sample_counts()
    epochs = result.config.trainer.epochs
    row = {
        "dataset": dataset,
        "model": name,
        "seed": seed,
        "budget": args.budget_name,
        "epochs": epochs,
        "encoder": "MiniLM-L6-H384 (uncased)" if model.config.encoder == "default" else model.config.encoder,
        "ner_f1": round(100 * test_m["ner_micro_f1"], 2),
        "rel_f1": round(100 * test_m["re_boundaries_micro_f1"], 2),
        "rel_strict_f1": round(100 * test_m["re_strict_micro_f1"], 2),
        "test": summary(test_m),
        "dev": summary(dev_m),
        "best_step": summ["best_step"],
        "steps": summ.get("steps"),
        "train_docs": summ.get("train_docs"),
        "train_seconds": round(summ["train_seconds"], 1),
        # wall time of fit() includes the per-epoch dev evaluations; see the --speed rows for the pure training rate
        "train_sent_per_s": round(epochs * len(result.train) / summ["train_seconds"], 2),
        "infer_sent_per_s": round((len(dev) + len(test)) / infer_s, 1),
        "sample_counts": counts if counts else None,  # training instances per class (absent when resumed from a finished run)
        "hardware": hardware(),
        "threads": args.threads,
        "symmetric": sorted(sym),
        "run_dir": str(out.relative_to(ROOT)),
        "commit": code_commit(),
        "curve": curve(out),
        "train_eval_docs": args.train_eval_docs or None,
    }
    stem = f"joint/{dataset}_{args.budget_name}_{out.name}"
    row["predictions"] = keep_predictions(out, stem)
    row["dev_predictions"] = keep_predictions(out, f"{stem}_dev", split="dev")
    return row


def train_speed(args: argparse.Namespace) -> list[dict]:
    """Training sentences/s of span_base and two_phase: ``--speed-docs`` CoNLL04 sentences, no dev, at each
    ``--speed-batches`` batch size (the configs train with 2, SpERT's)."""
    import torch

    rows = []
    for name, batch in ((n, int(b)) for n in MAIN for b in args.speed_batches.split(",")):
        raw = raw_config("conll04", name, 13, args)
        raw["trainer"]["batch_size"] = batch
        cfg, cls, model_cfg = parse_run_config(raw)
        train, _, _, _ = load_splits(cfg.data)
        docs = train[: args.speed_docs]
        model = cls(model_cfg, cls.build_labels(train, cfg.data.negative))
        torch.set_num_threads(args.threads or 2)
        hist = model.fit(docs, None, FitContext(cfg.trainer), epochs=1, progress=False, num_threads=args.threads or 2)
        rows.append(
            {
                "kind": "train_speed",
                "dataset": "conll04",
                "model": name,
                "threads": args.threads or 2,
                "note": args.speed_note,
                "sentences": len(docs),
                "batch_size": cfg.trainer.batch_size,
                "seconds": round(hist["train_seconds"], 2),
                "train_sent_per_s": round(len(docs) / hist["train_seconds"], 2),
                "hardware": hardware(),
            }
        )
        print(json.dumps(rows[-1]))
    return rows


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive lock beside ``path`` (several benchmark queues may share one results file)."""
    import fcntl

    RUNS.mkdir(parents=True, exist_ok=True)
    with open(RUNS / f".{path.stem}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def load_predictions(row: dict, split: str) -> list[Document]:
    return list(read_jsonl(ROOT / row["run_dir"] / f"{split}_predictions.jsonl"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="conll04")
    ap.add_argument("--models", default="span_base,two_phase", help="row names, or 'ablations' for every Table 7 ablation")
    ap.add_argument("--seeds", default="13")
    ap.add_argument("--epochs", type=int, default=0, help="override the config's epochs (0: keep)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-docs", type=int, default=0, help="train on the first N sentences only (smoke runs)")
    ap.add_argument("--train-eval-docs", type=int, default=0, help="also score this many training sentences at every epoch (fit curve)")
    ap.add_argument("--budget-name", default="cpu-20ep")
    ap.add_argument("--resume", action="store_true", help="keep finished rows; resume interrupted runs from their checkpoints")
    ap.add_argument("--speed", action="store_true", help="measure training sentences/s instead")
    ap.add_argument("--speed-docs", type=int, default=240)
    ap.add_argument("--speed-batches", default="2,8", help="batch sizes to time (default: 2,8)")
    ap.add_argument("--speed-note", default="", help="what else ran on the machine meanwhile (stored with the rows)")
    ap.add_argument("--report", action="store_true", help="only rebuild tables and plots from saved rows")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    code_commit()  # the code this process runs, before anyone commits again
    rows = load_rows(RESULTS_JSON)
    if args.speed:
        new = train_speed(args)
        with locked(RESULTS_JSON):
            rows = [r for r in load_rows(RESULTS_JSON) if not (r.get("kind") == "train_speed" and r.get("threads") == args.threads)]
            save_rows(RESULTS_JSON, rows + new)
        return
    if not args.report:
        names = ABLATION_NAMES if args.models == "ablations" else args.models.split(",")
        for dataset in args.datasets.split(","):
            for name in names:
                for seed in (int(s) for s in args.seeds.split(",")):
                    key = (dataset, name, seed, args.budget_name)
                    if args.resume and any(
                        (r.get("dataset"), r.get("model"), r.get("seed"), r.get("budget")) == key for r in load_rows(RESULTS_JSON)
                    ):
                        continue
                    row = train_one(dataset, name, seed, args)
                    with locked(RESULTS_JSON):  # other queues may have added rows meanwhile
                        rows = [
                            r for r in load_rows(RESULTS_JSON) if (r.get("dataset"), r.get("model"), r.get("seed"), r.get("budget")) != key
                        ]
                        rows.append(row)
                        save_rows(RESULTS_JSON, rows)
                    print(json.dumps({k: row[k] for k in ("dataset", "model", "seed", "ner_f1", "rel_f1", "rel_strict_f1")}))
    from joint_report import write_report

    write_report(load_rows(RESULTS_JSON), args.budget_name)


if __name__ == "__main__":
    main()
