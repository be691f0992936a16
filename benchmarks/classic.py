"""Classic and feature-based families on SemEval-2010 Task 8: one row per model / variant.

Models: two-stage SVM, feature BiLSTM, unified hybrid (with its branch ablation) and BERT + extra
transformer layer. Each trains end to end through `relx.training.run.run_experiment` (the code behind
`relx train`) from the committed configs under configs/semeval/ (or configs/tacred/ for the
TACRED-format run), with no test-set tuning: dev = 800 training sentences drawn at random (dev_seed 0).

Datasets:
  semeval        bundled spaCy-annotated relx JSONL (data/semeval2010_task8/annotated/), official test.
  tacred-format  the official SemEval files converted by `relx data annotate ... --to tacred` into
                 TACRED JSON (written under runs/, never committed), read by the `tacred` reader, so the
                 TACRED path (reader, stanford_* fields, scorer) is exercised end to end.

Each row: accuracy, micro F1 over positives (TACRED style), macro F1 over positives and over all labels
(negative included), the SemEval official macro-F1, training seconds and CPU inference sentences/s
(batch 64, length-sorted, the whole test set). Also writes Tables 2-3-shape regime tables (all data /
relation only) and a length-bucket PNG (F1 by sentence-length quintile, Figure 1 of the LSTM paper).

    python benchmarks/classic.py --dataset semeval --threads 2
    python benchmarks/classic.py --dataset tacred-format --threads 2 --models svm2stage,feature_bilstm,hybrid
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, hardware, load_rows, markdown_table, save_rows, write_text  # noqa: E402

from relx.config import load_config  # noqa: E402
from relx.training.run import run_experiment  # noqa: E402

# name -> (config file stem, model-section overrides)
VARIANTS: dict[str, tuple[str, dict]] = {
    "svm2stage": ("svm2stage", {}),
    "feature_bilstm": ("feature_bilstm", {}),
    "hybrid": ("hybrid", {}),
    "hybrid -lstm": ("hybrid", {"use_lstm": False}),
    "hybrid -rules": ("hybrid", {"use_rules": False}),
    "hybrid -tfidf": ("hybrid", {"use_tfidf": False}),
    "bert_extra": ("bert_extra", {}),
}
ABLATIONS = ["hybrid -lstm", "hybrid -rules", "hybrid -tfidf"]


def tacred_format_files(work: Path) -> tuple[Path, Path]:
    """Convert the official SemEval train/test files to TACRED JSON with `relx data annotate` (cached)."""
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for split, name in (("train", "TRAIN_FILE.TXT.gz"), ("test", "TEST_FILE_FULL.TXT.gz")):
        target = work / f"{split}.json"
        if not target.is_file():
            cmd = [
                sys.executable,
                "-m",
                "relx",
                "data",
                "annotate",
                str(ROOT / "data" / "semeval2010_task8" / name),
                str(target),
                "--from",
                "semeval",
                "--to",
                "tacred",
                "--quiet",
            ]
            print("$", " ".join(cmd[2:]), flush=True)
            subprocess.run(cmd, check=True)
        out.append(target)
    return out[0], out[1]


def build_config(variant: str, dataset: str, args: argparse.Namespace, tacred_files: tuple[Path, Path] | None) -> dict:
    stem, overrides = VARIANTS[variant]
    raw = load_config(ROOT / "configs" / "semeval" / f"{stem}.yaml")
    raw = copy.deepcopy(raw)
    raw["model"].update(overrides)
    data = raw["data"]
    if dataset == "semeval":
        data.update(
            {
                "train": str(ROOT / "data/semeval2010_task8/annotated/train.jsonl.gz"),
                "test": str(ROOT / "data/semeval2010_task8/annotated/test.jsonl.gz"),
                "format": "jsonl",
            }
        )
        raw["evaluation"]["scheme"] = "semeval"
    else:
        assert tacred_files is not None
        data.update({"train": str(tacred_files[0]), "test": str(tacred_files[1]), "format": "tacred"})
        raw["evaluation"]["scheme"] = "semeval"  # same labels; the official scorer is still meaningful
    data.update({"negative": "Other", "dev_holdout": 800, "dev_seed": 0})
    tr = raw["trainer"]
    tr["progress"] = not args.quiet
    if args.threads:
        tr["num_threads"] = args.threads
    if stem == "bert_extra" and args.transformer_epochs:
        tr["epochs"] = args.transformer_epochs
    return raw


def row_for(variant: str, dataset: str, res: dict, raw: dict, n_test: int, args: argparse.Namespace) -> dict:
    t = res["test"]
    epochs = raw["trainer"].get("epochs")
    return {
        "dataset": "semeval2010_task8" if dataset == "semeval" else "semeval2010_task8 (TACRED format via relx data annotate)",
        "model": res["model"],
        "config": variant,
        "seed": raw["trainer"].get("seed", 13),
        "official_macro_f1": t["official_macro_f1"],
        "micro_f1": t["micro_f1"],
        "accuracy": t["accuracy"],
        "macro_f1": t["macro_f1"],
        "macro_f1_all": t["macro_f1_all"],
        "weighted_f1_all": t["weighted_f1_all"],
        "dev_metric": res["best_dev"],
        "train_docs": res["train_docs"],
        "epochs": epochs,
        "train_seconds": round(res["train_seconds"], 1),
        "cpu_infer_sent_per_s": round(n_test / res["test_seconds"], 1) if hardware().startswith("cpu") else None,
        "hardware": hardware(),
        "script": "benchmarks/classic.py " + " ".join(sys.argv[1:]),
    }


def run(args: argparse.Namespace) -> tuple[list[dict], dict, list]:
    from relx.data.io import read

    dataset = args.dataset
    out_json = Path(args.results or RESULTS / ("classic_semeval.json" if dataset == "semeval" else "classic_tacred_format.json"))
    runs = Path(args.runs) / dataset
    tacred_files = tacred_format_files(runs / "data") if dataset == "tacred-format" else None
    variants = args.models.split(",") + (ABLATIONS if args.ablations else [])
    old = {r["config"]: r for r in load_rows(out_json)} if args.resume else {}
    rows, preds = [], {}
    for variant in variants:
        if variant not in VARIANTS:
            raise SystemExit(f"unknown variant {variant!r} (known: {', '.join(VARIANTS)})")
        out = runs / variant.replace(" ", "").replace("-", "_no_")
        if variant in old and (out / "test_predictions.jsonl").is_file():
            rows.append(old[variant])
        else:
            raw = build_config(variant, dataset, args, tacred_files)
            t0 = time.perf_counter()
            res = run_experiment(raw, out, verbose=False).summary
            n_test = res["test"]["n"]
            row = row_for(variant, dataset, res, raw, n_test, args)
            print(
                f"{variant:16s} official macro-F1 {100 * row['official_macro_f1']:.2f}  micro-F1 {100 * row['micro_f1']:.2f}  "
                f"(dev {100 * res['best_dev']:.2f}; train {row['train_seconds']:.0f} s; total {time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            rows.append(row)
            save_rows(out_json, rows + [r for k, r in old.items() if k not in {x["config"] for x in rows} and k not in variants])
        preds[variant] = read(out / "test_predictions.jsonl", "jsonl")
    save_rows(out_json, rows)
    gold = read(tacred_files[1], "tacred") if tacred_files else read(ROOT / "data/semeval2010_task8/annotated/test.jsonl.gz", "jsonl")
    return rows, preds, gold


def reports(rows: list[dict], preds: dict, gold: list, args: argparse.Namespace) -> str:
    from relx.evaluation.regimes import format_bucket_table, format_regime_tables, length_bucket_report, regime_tables

    stem = "classic_semeval" if args.dataset == "semeval" else "classic_tacred_format"
    for name, p in preds.items():
        if [x.id for x in p] != [d.id for d in gold]:
            raise SystemExit(f"{name}: test predictions are not aligned with the gold test file")
    table = [
        [
            r["config"],
            f"{100 * r['accuracy']:.2f}",
            f"{100 * r['micro_f1']:.2f}",
            f"{100 * r['macro_f1']:.2f}",
            f"{100 * r['macro_f1_all']:.2f}",
            f"{100 * r['official_macro_f1']:.2f}",
            f"{r['train_seconds']:.0f}",
            r["cpu_infer_sent_per_s"] if r["cpu_infer_sent_per_s"] is not None else "-",
            r["epochs"] if r["epochs"] is not None else "-",
        ]
        for r in rows
    ]
    md = markdown_table(
        [
            "model",
            "accuracy",
            "micro-F1 (pos)",
            "macro-F1 (pos)",
            "macro-F1 (all labels)",
            "official macro-F1",
            "train s",
            "CPU infer sent/s",
            "epochs",
        ],
        table,
    )
    regime = format_regime_tables(regime_tables(gold, preds, negative="Other", scheme="semeval"))
    buckets = length_bucket_report(gold, preds, negative="Other", scheme="semeval", png=RESULTS / f"{stem}_length_buckets.png")
    bucket_txt = "\n".join(format_bucket_table(b, title=name) for name, b in buckets.items())
    hw = "; ".join(sorted({r["hardware"] for r in rows}))
    text = (
        f"# Classic and feature-based models, {rows[0]['dataset']}\n\nProduced by `{rows[-1]['script']}` on "
        f"{hw} (per row: the torch threads of that run; train and inference share them).\nTest = the 2,717 official test sentences; dev = 800 random training sentences "
        f"(selection only). `pos` = averaged over the 9x2 directed relation labels (Other excluded); `all labels` "
        f"includes Other; official = SemEval (9+1)-way with directionality.\n\n{md}\n"
        f"## Regimes (Tables 2-3 shape of the LSTM paper)\n\n```\n{regime}\n```\n\n"
        f"## Length buckets (sentence-length quintiles; PNG: `{stem}_length_buckets.png`)\n\n```\n{bucket_txt}\n```\n"
    )
    write_text(RESULTS / f"{stem}.md", text)
    return md


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=["semeval", "tacred-format"], default="semeval")
    p.add_argument("--models", default="svm2stage,feature_bilstm,hybrid,bert_extra")
    p.add_argument("--ablations", action="store_true", help="also the hybrid's branch ablation (-lstm, -rules, -tfidf)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--transformer-epochs", type=int, default=None, help="reduced CPU budget for bert_extra (e.g. 1)")
    p.add_argument("--runs", default=str(ROOT / "runs" / "bench_classic"))
    p.add_argument("--results", default=None)
    p.add_argument("--resume", action="store_true", help="reuse finished variants of the results file")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()
    rows, preds, gold = run(args)
    print(reports(rows, preds, gold, args))


if __name__ == "__main__":
    main()
