"""Soft-label distillation paper: C-GCN, knowledgeable teachers, distilled students and Table 4's ablations.

Datasets: SemEval-2010 Task 8 (spaCy-annotated; 800 training sentences held out as dev; official macro-F1) and
the CoNLL04 pair dataset (typed entities; micro-F1 with TACRED semantics). Main rows: cgcn, teacher_s, teacher_v,
student_s, student_v, student_r; ablations of student_r (1 seed on CPU). A student reuses the teacher another
finished row of the same seed and budget trained (student_s <- teacher_s, ...), else trains its own first.

    python benchmarks/kd.py --datasets semeval,conll04_pairs --models main --seeds 13,14,15 --resume
    python benchmarks/kd.py --datasets semeval,conll04_pairs --models ablations --seeds 13 --resume
    # teachers to convergence on dev first (40 epochs at most, patience 5), then 20-epoch students:
    python benchmarks/kd.py --models "cgcn,student_r,-KD,student_r[gamma U]" --seeds 13 --epochs 20 --threads 1 \
        --teacher-epochs 40 --budget-name cpu-20ep-tconv --resume
    python benchmarks/kd.py --speed            # cgcn training seconds per epoch on SemEval (no dev evaluation)
    python benchmarks/kd.py --report

Results: benchmarks/results/kd_semeval.json, kd_conll04_pairs.json (+ kd.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    RESULTS,
    ROOT,
    code_commit,
    hardware,
    has_speed_row,
    keep_predictions,
    load_rows,
    prediction_path,
    save_rows,
)

from relx.config import load_config  # noqa: E402
from relx.training.config import FitContext  # noqa: E402
from relx.training.run import load_splits, parse_run_config, run_experiment  # noqa: E402

RUNS = ROOT / "runs" / "kd"
DATASETS = ("semeval", "conll04_pairs")
MAIN = ("cgcn", "teacher_s", "teacher_v", "student_s", "student_v", "student_r")
ABLATIONS: dict[str, dict[str, Any]] = {  # student_r with ...
    "-TSD": {"teacher_overrides": {"tsd": False}},
    "-hint": {"hint": False},
    "-TSD&hint": {"teacher_overrides": {"tsd": False}, "hint": False},
    "-TC": {"teacher_overrides": {"type_constraints": False}},
    "-MAA": {"maa": False},
    "-TC&MAA": {"teacher_overrides": {"type_constraints": False}, "maa": False},
    "-KD": {"kd": False},
}
VARIANTS: dict[str, dict[str, Any]] = {  # student_r with another Teacher-R init (chosen on dev)
    "student_r[gamma U]": {"teacher_overrides": {"gamma_init": "uniform"}},
}
# where a row may take its teacher from (a finished row of the same dataset, seed and budget)
TEACHER_FROM = {
    "student_s": "teacher_s",
    "student_v": "teacher_v",
    "-hint": "student_r",
    "-MAA": "student_r",
    "-TSD&hint": "-TSD",
    "-TC&MAA": "-TC",
}


def results_json(dataset: str) -> Path:
    return RESULTS / f"kd_{dataset}.json"


def run_dir(dataset: str, name: str, seed: int, budget: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_]+", "_", name.replace("-", "wo_").replace("&", "_")).strip("_")
    return RUNS / budget / dataset / f"{slug}_s{seed}"


def teacher_dir(dataset: str, name: str, seed: int, budget: str) -> str | None:
    src = TEACHER_FROM.get(name)
    if src is None:
        return None
    d = run_dir(dataset, src, seed, budget)
    path = d / "model" if src.startswith("teacher") else d / "teacher" / "model"
    return str(path) if (path / "config.json").is_file() else None


def changes(name: str) -> dict[str, Any]:
    """The model settings a row changes in its config (an ablation or a variant of student_r)."""
    return ABLATIONS.get(name) or VARIANTS.get(name, {})


def raw_config(dataset: str, name: str, seed: int, args: argparse.Namespace) -> dict:
    stem = name if name in MAIN else "student_r"
    raw = load_config(ROOT / "configs" / dataset / f"{stem}.yaml")
    raw["model"].update(changes(name))
    for key in ("train", "dev", "test"):
        if raw["data"].get(key):
            raw["data"][key] = str(ROOT / raw["data"][key])
    tr = raw["trainer"]
    tr.update({"seed": seed, "progress": not args.quiet})
    for key, value in (("epochs", args.epochs), ("num_threads", args.threads)):
        if value:
            tr[key] = value
    if args.train_docs:
        raw["data"]["max_train_docs"] = args.train_docs
    if raw["model"]["type"].startswith("student") and raw["model"].get("kd", True):
        raw["model"]["teacher"] = teacher_dir(dataset, name, seed, args.budget_name)
        if args.teacher_epochs:  # the teacher stage's own budget: selected on dev, early stopping
            raw["model"]["teacher_trainer"] = {"epochs": args.teacher_epochs, "patience": args.teacher_patience}
            raw["model"]["teacher_overrides"] = {**raw["model"].get("teacher_overrides", {}), "select_on_dev": True}
    return raw


def train_one(dataset: str, name: str, seed: int, args: argparse.Namespace) -> dict:
    """One row through ``run_experiment`` (the run ``relx train`` makes), scored on the test split."""
    out = run_dir(dataset, name, seed, args.budget_name)
    result = run_experiment(raw_config(dataset, name, seed, args), out, resume=True, verbose=False)
    summ, m, epochs = result.summary, result.metrics, result.config.trainer.epochs
    row = {
        "dataset": dataset,
        "model": name,
        "seed": seed,
        "budget": args.budget_name,
        "epochs": epochs,
        "micro_p": round(100 * m["micro_p"], 2),
        "micro_r": round(100 * m["micro_r"], 2),
        "micro_f1": round(100 * m["micro_f1"], 2),
        "official_macro_f1": round(100 * m["official_macro_f1"], 2) if "official_macro_f1" in m else None,
        "best_dev": summ["best_dev"],
        "best_step": summ["best_step"],
        "steps": summ.get("steps"),
        "train_docs": summ.get("train_docs"),
        "train_seconds": round(summ["train_seconds"], 1),
        "sec_per_epoch": round(summ["train_seconds"] / epochs, 1),  # includes the per-epoch dev evaluation
        "teacher": summ.get("teacher") or None,
        "overrides": changes(name),
        "infer_sent_per_s": round(len(result.test) / summ["test_seconds"], 1),
        "hardware": hardware(),
        "threads": args.threads,
        "run_dir": str(out.relative_to(ROOT)),
        "kd_anneal": getattr(result.model.config, "kd_anneal", None) if getattr(result.model.config, "kd", False) else None,
        "commit": code_commit(),
    }
    if row["teacher"] and row["teacher"].get("loaded"):  # a reused teacher: its dev score and best step from the row that trained it
        from kd_report import teacher_info

        row["teacher"] = teacher_info(row, load_rows(results_json(dataset)))
    row["predictions"] = keep_predictions(out, f"kd/{dataset}_{args.budget_name}_{name.replace('-', '_').replace('&', '_')}_s{seed}")
    return row


def speed(args: argparse.Namespace) -> dict:
    """cgcn: one SemEval training epoch without dev evaluation (seconds), ``--threads`` threads."""
    raw = raw_config("semeval", "cgcn", 13, args)
    cfg, cls, model_cfg = parse_run_config(raw)
    train, _, _, _ = load_splits(cfg.data)
    model = cls(model_cfg, cls.build_labels(train, cfg.data.negative))
    hist = model.fit(train, None, FitContext(cfg.trainer), epochs=1, progress=False)
    return {
        "kind": "speed",
        "dataset": "semeval",
        "model": "cgcn",
        "threads": args.threads,
        "train_documents": len(train),
        "sec_per_epoch": round(hist["train_seconds"], 1),
        "hardware": hardware(),
        "note": args.speed_note,
    }


PAIRS = (("student_r", "cgcn"), ("student_r", "-KD"), ("-KD", "cgcn"))  # the KD claim; the MAA claim
PAIRS += tuple((v, b) for v in VARIANTS for b in ("cgcn", "-KD"))


def bootstrap(rows: list[dict], dataset: str, n: int = 1000) -> list[dict]:
    """Paired bootstrap on the test predictions (official macro-F1 / micro-F1) of each pair in ``PAIRS``:
    per seed, and over the seeds both rows share (``seed`` "pooled": the same resampled test documents
    for every seed, the metric averaged over the seeds)."""
    from relx.data.io import read
    from relx.evaluation.compare import compare_by_seed

    out = []
    by = {(r["model"], r["seed"], r["budget"]): r for r in rows if "kind" not in r and prediction_path(r)}
    raw = load_config(ROOT / "configs" / dataset / "cgcn.yaml")["data"]
    gold = list(read(ROOT / raw["test"], raw["format"]))
    negative = raw.get("negative", "no_relation")
    scheme = "semeval" if dataset == "semeval" else "tacred"
    for budget in sorted({b for (_, _, b) in by}):
        for a, b in PAIRS:
            seeds = sorted(s for (m, s, bb) in by if m == a and bb == budget and (b, s, budget) in by)
            runs = {m: {s: test_predictions(by[(m, s, budget)]) for s in seeds} for m in (a, b)}
            for res in compare_by_seed(gold, runs[a], runs[b], scheme, negative, n=n):
                out.append({"kind": "bootstrap", "dataset": dataset, "budget": budget, "a": a, "b": b, **res})
    return out


def about_current_runs(boot: dict, rows: list[dict]) -> bool:
    """Whether a bootstrap row still compares the runs the results file holds: both sides' scores (the mean over
    its seeds for a pooled row) equal the current rows' scores. A row whose runs were re-made is stale."""
    seeds = boot["seeds"] if boot["seed"] == "pooled" else [boot["seed"]]
    for side in ("a", "b"):
        found = [
            r[boot["metric"]]
            for r in rows
            if "kind" not in r and r.get("budget") == boot["budget"] and r.get("model") == boot[side] and r.get("seed") in seeds
        ]
        if len(found) != len(seeds) or None in found or abs(sum(found) / len(found) - 100 * boot[f"metric_{side}"]) > 0.006:
            return False
    return True


def boot_key(row: dict) -> tuple:
    return row["budget"], str(row["seed"]), row.get("a", "student_r"), row.get("b", "cgcn")


def test_predictions(row: dict) -> list:
    from relx.data.schema import read_jsonl

    return list(read_jsonl(prediction_path(row)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="semeval")
    ap.add_argument("--models", default="main", help="'main', 'ablations' or comma-separated row names")
    ap.add_argument("--seeds", default="13")
    ap.add_argument("--epochs", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-docs", type=int, default=0)
    ap.add_argument("--teacher-epochs", type=int, default=0, help="a student's teacher stage: this many epochs, best dev weights")
    ap.add_argument("--teacher-patience", type=int, default=5, help="with --teacher-epochs: dev evaluations without gain")
    ap.add_argument("--budget-name", default="cpu-30ep")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--speed-note", default="")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    code_commit()  # the code this process runs, before anyone commits again
    from joint_spans import locked

    if args.speed and args.resume and has_speed_row(results_json("semeval"), args.threads):
        print("a speed row for these threads exists (--resume): not measured again")
    elif args.speed:
        row = speed(args)
        print(json.dumps(row))
        path = results_json("semeval")
        with locked(path):
            save_rows(path, [r for r in load_rows(path) if not (r.get("kind") == "speed" and r.get("threads") == args.threads)] + [row])
    elif not args.report:
        names = list(MAIN) if args.models == "main" else list(ABLATIONS) if args.models == "ablations" else args.models.split(",")
        for dataset in args.datasets.split(","):
            path = results_json(dataset)
            for name in names:
                for seed in (int(s) for s in args.seeds.split(",")):
                    key = (dataset, name, seed, args.budget_name)

                    def same(r: dict, key: tuple = key) -> bool:
                        return "kind" not in r and (r.get("dataset"), r.get("model"), r.get("seed"), r.get("budget")) == key

                    if args.resume and any(same(r) for r in load_rows(path)):
                        continue
                    row = train_one(dataset, name, seed, args)
                    with locked(path):
                        save_rows(path, [r for r in load_rows(path) if not same(r)] + [row])
                    print(json.dumps({k: row[k] for k in ("dataset", "model", "seed", "micro_f1", "official_macro_f1")}))
    for dataset in DATASETS:
        path = results_json(dataset)
        rows = load_rows(path)
        if not rows:
            continue
        boot = bootstrap(rows, dataset)
        fresh = {boot_key(b) for b in boot}  # rows of runs whose predictions are not here are kept while they match
        with locked(path):
            rows = load_rows(path)
            rows = [r for r in rows if not (r.get("kind") == "bootstrap" and (boot_key(r) in fresh or not about_current_runs(r, rows)))]
            rows += boot
            save_rows(path, rows)
    from kd_report import write_report

    write_report({d: load_rows(results_json(d)) for d in DATASETS})


if __name__ == "__main__":
    main()
