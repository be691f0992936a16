"""SemEval-2010 Task 8: entity-marker MiniLM, configs plain / +MLD / +MSE / +MLD+MSE, several seeds.

Train = official train minus 800 sentences drawn at random (seed 0; held out as dev for model
selection on the official macro-F1); test = the 2,717 official test sentences. Writes one row per
(config, seed) to benchmarks/results/semeval_marker.json and a mean±sd Markdown table.

Full budget (GPU):   python benchmarks/semeval_marker.py --epochs 10
Reduced CPU budget:  python benchmarks/semeval_marker.py --epochs 1 --threads 2 --budget-name cpu-1epoch
Ideas on dev:        python benchmarks/semeval_marker.py --epochs 2 --threads 2 --seeds 13 --budget-name cpu-2epoch \
                         --resume --configs +mention,+cls+mention,+R-Drop
More seeds of the 10-epoch CPU rows (one thread each, two at once), merged, then the paired bootstrap:
    taskset -c 0 python benchmarks/semeval_marker.py --configs plain --seeds 14 --epochs 10 --threads 1 \
        --budget-name cpu-10epoch --results /tmp/plain_s14.json     # and +MLD+MSE on core 1 (/tmp/MLDMSE_s14.json)
    python benchmarks/semeval_marker.py --merge /tmp/plain_s14.json,/tmp/MLDMSE_s14.json --compare +MLD+MSE,plain \
        --budget-name cpu-10epoch
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    RESULTS,
    ROOT,
    code_commit,
    hardware,
    keep_predictions,
    load_rows,
    markdown_table,
    mean_sd,
    prediction_path,
    save_rows,
    write_text,
)

from relx.config import load_config  # noqa: E402
from relx.training.run import run_experiment  # noqa: E402

CONFIGS = {"plain": "marker", "+MLD": "marker_mld", "+MSE": "marker_mse", "+MLD+MSE": "marker_mld_mse"}
# Ideas towards the >= 87.5 target, each a change to the plain config (compare on dev with `--resume`):
IDEAS = {
    "+mention": ("marker", {"pooling": "start_mention"}),
    "+cls+mention": ("marker", {"use_cls": True, "pooling": "start_mention"}),
    "+R-Drop": ("marker", {"rdrop": 1.0}),
    "+MLD+MSE+mention": ("marker_mld_mse", {"pooling": "start_mention"}),
}


def run(args: argparse.Namespace) -> list[dict]:
    out_json = Path(args.results)
    old = load_rows(out_json)
    rows = [r for r in old if r.get("budget") != args.budget_name] if args.append or args.resume else []
    done = {(r["config"], r["seed"]) for r in old if r.get("budget") == args.budget_name} if args.resume else set()
    rows += [r for r in old if r.get("budget") == args.budget_name and (r["config"], r["seed"]) in done]
    for name in args.configs.split(","):
        base, overrides = IDEAS.get(name, (CONFIGS.get(name), {}))
        raw = load_config(ROOT / "configs" / "semeval" / f"{base}.yaml")
        raw["model"].update(overrides)
        for key in ("train", "test"):
            raw["data"][key] = (
                str(ROOT / raw["data"][key]) if args.data_dir is None else str(Path(args.data_dir) / Path(raw["data"][key]).name)
            )
        if args.data_format:
            raw["data"]["format"] = args.data_format
        tr = raw["trainer"]
        tr.update({"epochs": args.epochs, "progress": not args.quiet})
        raw["data"]["max_train_docs"] = args.train_docs
        if args.threads:
            tr["num_threads"] = args.threads
        if args.encoder:
            raw["model"]["encoder"] = args.encoder
        for seed in [int(s) for s in args.seeds.split(",")]:
            if (name, seed) in done:
                continue
            tr["seed"] = seed
            run_dir = default_run_dir(Path(args.runs), name, seed, args.budget_name)
            res = run_experiment(raw, run_dir, verbose=False).summary
            t = res["test"]
            row = {
                "dataset": "semeval2010_task8",
                "model": "marker",
                "config": name,
                "seed": seed,
                "official_macro_f1": t["official_macro_f1"],
                "micro_f1": t["micro_f1"],
                "accuracy": t["accuracy"],
                "macro_f1": t["macro_f1"],
                "dev_official_macro_f1": res["best_dev"],
                "train_docs": res["train_docs"],
                "epochs": args.epochs,
                "steps": res.get("steps"),
                "best_step": res.get("best_step"),
                "train_seconds": round(res["train_seconds"], 1),
                "hardware": hardware(),
                "budget": args.budget_name,
                "run_dir": rel(run_dir),
                "commit": code_commit(),
                "script": "benchmarks/semeval_marker.py " + " ".join(sys.argv[1:]),
            }
            row["predictions"] = keep_predictions(run_dir, predictions_name(row))
            print(
                f"{name:10s} seed {seed}: official macro-F1 {100 * row['official_macro_f1']:.2f} (dev {100 * res['best_dev']:.2f})",
                flush=True,
            )
            rows.append(row)
            save_rows(out_json, rows)
    return rows


def steps(row: dict, batch: int) -> str:
    """Optimizer steps a row's run made (early stopping can end it before its epochs), else epochs x batches of
    ``batch`` training documents marked ``*`` (rows made before runs recorded their steps)."""
    return str(row["steps"]) if row.get("steps") else f"{row['epochs'] * -(-row['train_docs'] // batch)}*"


def summarize(rows: list[dict], path: Path) -> str:
    batch = load_config(ROOT / "configs" / "semeval" / "marker.yaml")["trainer"]["batch_size"]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if "kind" not in r:
            groups[(r["budget"], r["config"])].append(r)
    table = [
        [
            b,
            c,
            ", ".join(str(r["seed"]) for r in g),
            mean_sd([r["dev_official_macro_f1"] for r in g]),
            mean_sd([r["official_macro_f1"] for r in g]),
            mean_sd([r["micro_f1"] for r in g]),
            ", ".join(steps(r, batch) for r in g),
            ", ".join(str(r.get("best_step", "–")) for r in g),
            ", ".join(f"{r['train_seconds']:.0f}" for r in g),
            "; ".join(sorted({r["hardware"] for r in g})),
            ", ".join(sorted({r.get("commit", "–") for r in g})),
        ]
        for (b, c), g in groups.items()
    ]
    header = [
        "budget",
        "config",
        "seeds",
        "official macro-F1 (dev)",
        "official macro-F1 (test)",
        "micro-F1 (test)",
        "optimizer steps (per seed)",
        "best step",
        "train s (per seed)",
        "hardware",
        "commit",
    ]
    text = markdown_table(header, table)
    boots = [r for r in rows if r.get("kind") == "bootstrap"]
    if boots:
        text += "\n\nPaired bootstrap (1,000 resamples of the 2,717 test sentences; pooled: the seeds' mean on the same resamples):\n\n"
        text += "".join(
            f"- {x['budget']}, {x['a']} vs {x['b']}, seed {x['seed']}{' (' + ', '.join(map(str, x['seeds'])) + ')' if 'seeds' in x else ''}: "
            f"{100 * x['metric_a']:.2f} vs {100 * x['metric_b']:.2f}, difference {100 * x['diff']:+.2f} "
            f"(95% CI {100 * x['ci_low']:+.2f} .. {100 * x['ci_high']:+.2f}), p = {x['p_value']:.3f}\n"
            for x in boots
        )
        text += seed_differences(rows, {(x["budget"], x["a"], x["b"]) for x in boots})
    note = (
        "Train = official train minus 800 held-out sentences (dev, model selection); test = the official test set. "
        "Training stops early after 4 dev evaluations without a gain (`trainer.patience`); `optimizer steps` are the "
        "steps each run made (`*`: epochs x batches, the budget's upper bound, for rows made before runs recorded "
        "the steps they made), `best step` the selected checkpoint. `train s` includes the per-epoch dev evaluation; rows made with 1 thread (two runs at once, pinned) and 2 threads "
        "differ in time, not in what they compute.\n\n"
    )
    write_text(path, "# SemEval-2010 Task 8, entity-marker MiniLM-L6\n\nProduced by `benchmarks/semeval_marker.py`. " + note + text)
    return text


def seed_differences(rows: list[dict], pairs: set[tuple]) -> str:
    """One line per (budget, A, B): the test difference A - B of every seed with both rows, and their mean ± sd (the
    seed-level view, which needs no saved predictions)."""
    by = {(r["budget"], r["config"], r["seed"]): r["official_macro_f1"] for r in rows if "kind" not in r}
    lines = []
    for budget, a, b in sorted(pairs):
        seeds = sorted(s for (bb, c, s) in by if bb == budget and c == a and (budget, b, s) in by)
        diffs = [by[(budget, a, s)] - by[(budget, b, s)] for s in seeds]
        if len(diffs) > 1:
            each = ", ".join(f"seed {s} {100 * d:+.2f}" for s, d in zip(seeds, diffs))
            m, sd = statistics.mean(diffs), statistics.stdev(diffs)
            lines.append(f"- {budget}, {a} minus {b} per seed (test official macro-F1): {each}; mean {100 * m:+.2f} ± {100 * sd:.2f}\n")
    return "\nSeed by seed:\n\n" + "".join(lines) if lines else ""


def default_run_dir(runs: Path, config: str, seed: int, budget: str) -> Path:
    name = CONFIGS.get(config) or "marker" + config.replace("+", "_").lower().replace("-", "")
    return runs.resolve() / f"{name}_s{seed}_{budget}"


def predictions_name(row: dict) -> str:
    """Where a row's test predictions are kept in the repository (under benchmarks/results/predictions/)."""
    slug = row["config"].replace("+", "_").lower().replace("-", "").strip("_") or "plain"
    return f"semeval_marker/{row['budget']}_{slug}_s{row['seed']}"


def rel(path: Path) -> str:
    """A run directory as stored in a row: relative to the repository when inside it."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def merge(path: Path, files: list[str], runs: Path, commit: str | None = None) -> list[dict]:
    """Rows of ``files`` (results of runs made elsewhere, e.g. one per core) into ``path``; a (budget, config, seed)
    row there is replaced by the merged one; a row without ``run_dir`` gets its directory under ``runs``, one
    without ``commit`` gets ``commit`` (the code its run was started with) when given."""
    rows = load_rows(path)
    for f in files:
        new = [
            {**r, "run_dir": rel(Path(r["run_dir"]) if r.get("run_dir") else default_run_dir(runs, r["config"], r["seed"], r["budget"]))}
            for r in load_rows(Path(f))
        ]
        for r in new:
            if "kind" in r:
                continue
            result = ROOT / r["run_dir"] / "result.json"
            if not r.get("steps") and result.is_file():
                summary = json.loads(result.read_text())
                r.update(steps=summary.get("steps"), best_step=summary.get("best_step"))
            if not r.get("predictions"):
                r["predictions"] = keep_predictions(ROOT / r["run_dir"], predictions_name(r))
            if commit and not r.get("commit"):
                r["commit"] = commit
        keys = {(r["budget"], r["config"], r["seed"]) for r in new if "kind" not in r}
        rows = [r for r in rows if "kind" in r or (r["budget"], r["config"], r["seed"]) not in keys] + [r for r in new if "kind" not in r]
    save_rows(path, rows)
    return rows


def compare(rows: list[dict], a: str, b: str, budget: str, n: int = 1000) -> list[dict]:
    """Paired bootstrap of configs ``a`` vs ``b`` (official macro-F1) per seed and over the seeds both have, on the
    test predictions of the rows' run directories or, once those are gone, the copies kept in the repository."""
    from relx.data.io import read
    from relx.evaluation.compare import compare_by_seed

    def preds(r: dict) -> list | None:
        f = prediction_path(r)
        return list(read(f)) if f else None

    raw = load_config(ROOT / "configs" / "semeval" / "marker.yaml")["data"]
    gold = list(read(ROOT / raw["test"], raw["format"]))
    negative = raw.get("negative", "Other")
    runs: dict[str, dict] = {a: {}, b: {}}
    for r in rows:
        if "kind" not in r and r["budget"] == budget and r["config"] in runs and (p := preds(r)) is not None:
            runs[r["config"]][r["seed"]] = p
    out = [
        {"kind": "bootstrap", "budget": budget, "a": a, "b": b, **res}
        for res in compare_by_seed(gold, runs[a], runs[b], "semeval", negative, n=n)
    ]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--seeds", default="13,14,15")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train-docs", type=int, default=None, help="random subset of the training part (CPU budgets)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--encoder", default=None, help="e.g. an fp16 copy made by `relx export gpu-bundle`")
    p.add_argument("--data-dir", default=None, help="directory holding the train/test files (GPU bundle)")
    p.add_argument("--data-format", default=None)
    p.add_argument("--budget-name", default="full")
    p.add_argument("--runs", default=str(ROOT / "runs" / "bench_semeval_marker"))
    p.add_argument("--results", default=str(RESULTS / "semeval_marker.json"))
    p.add_argument("--append", action="store_true", help="keep rows of other budgets already in the results file")
    p.add_argument("--resume", action="store_true", help="keep finished (config, seed) rows of this budget; run the rest")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--merge", default=None, help="comma-separated results files to merge into --results (no training)")
    p.add_argument("--commit", default=None, help="with --merge: the commit that rows without one were run at")
    p.add_argument("--compare", default=None, metavar="A,B", help="paired bootstrap of config A vs B in --budget-name (no training)")
    args = p.parse_args()
    out_json = Path(args.results)
    if args.merge or args.compare:
        rows = merge(out_json, args.merge.split(","), Path(args.runs), args.commit) if args.merge else load_rows(out_json)
        if args.compare:
            a, b = args.compare.split(",")
            boot = compare(rows, a, b, args.budget_name)
            keys = {(x["budget"], x["a"], x["b"], str(x["seed"])) for x in boot}
            rows = [r for r in rows if r.get("kind") != "bootstrap" or (r["budget"], r["a"], r["b"], str(r["seed"])) not in keys] + boot
            save_rows(out_json, rows)
    else:
        rows = run(args)
    print(summarize(rows, Path(args.results).with_suffix(".md")))


if __name__ == "__main__":
    main()
