"""TACRED rows of the two TACRED papers, on the user's own LDC copy (never bundled, never committed).

``--tacred-dir DIR`` holds the official JSON files ``train.json``, ``dev.json``, ``test.json`` (TACRED, TACREV and
Re-TACRED share the format). Each model trains from its committed config under ``configs/tacred/`` (dev
selects; test is scored once) and gives one row of ``--results`` (default
``benchmarks/results/tacred.json``): accuracy, TACRED micro-F1, macro-F1 over all labels and over the
relations, weighted F1, plus the all-data / relation-only regime tables (Tables 2-3 of the LSTM paper) and
the length-bucket PNG, next to the papers' own TACRED numbers.

    python benchmarks/tacred.py --tacred-dir /data/tacred --models marker,marker_mld_mse,hybrid --resume
    relx bench hybrid-mld --tacred /data/tacred            # the same, as a suite
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, hardware, load_rows, markdown_table, save_rows, write_text  # noqa: E402

from relx.config import load_config  # noqa: E402
from relx.training.run import run_experiment  # noqa: E402

# the papers' TACRED test numbers (fractions): hybrid-and-bert-mld-mse (Sec. 5) and lstm-bert-gpt2-svm (Table 2, all data)
PAPER = {
    "hybrid": {"accuracy": 0.7592, "macro_f1_all": 0.1010},
    "marker_mld_mse": {"accuracy": 0.8655, "macro_f1_all": 0.4451},
    "feature_bilstm": {"weighted_f1_all": 0.79, "macro_f1_all": 0.36},
    "bert_extra": {"weighted_f1_all": 0.81, "macro_f1_all": 0.41},
}
SUITES = {"hybrid-mld": "hybrid,marker,marker_mld,marker_mse,marker_mld_mse", "lstm-bert-svm": "feature_bilstm,bert_extra,svm2stage"}
METRICS = ("accuracy", "micro_f1", "macro_f1", "macro_f1_all", "weighted_f1_all")


def build(name: str, args: argparse.Namespace) -> dict:
    path = ROOT / "configs" / "tacred" / f"{name}.yaml"
    if not path.is_file():
        raise SystemExit(f"unknown TACRED config {name!r} (configs/tacred/*.yaml)")
    raw = copy.deepcopy(load_config(path))
    tdir = Path(args.tacred_dir)
    for split in ("train", "dev", "test"):
        f = tdir / f"{split}.json"
        if not f.is_file():
            raise SystemExit(f"{f}: missing (--tacred-dir needs train.json, dev.json and test.json in TACRED format)")
        raw["data"][split] = str(f)
    raw["data"]["format"] = "tacred"
    tr = raw["trainer"]
    tr["progress"] = not args.quiet
    if args.threads:
        tr["num_threads"] = args.threads
    if args.epochs:
        tr["epochs"] = args.epochs
    if args.train_docs:
        raw["data"]["max_train_docs"] = args.train_docs
    if args.encoder and "encoder" in raw["model"]:
        raw["model"]["encoder"] = args.encoder
    if args.encoder and raw["model"].get("word_vectors") == "encoder":
        raw["model"]["word_vectors"] = f"encoder:{args.encoder}"
    return raw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tacred-dir", required=True)
    ap.add_argument("--models", default=SUITES["hybrid-mld"], help=f"configs/tacred names, or a suite: {', '.join(SUITES)}")
    ap.add_argument("--epochs", type=int, default=0, help="override the configs' epochs (0: keep)")
    ap.add_argument("--train-docs", type=int, default=0, help="random training subset (smoke runs)")
    ap.add_argument("--encoder", default=None, help="local HF encoder for the transformer / embedding models")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budget-name", default="cpu")
    ap.add_argument("--runs", default=str(ROOT / "runs" / "tacred"))
    ap.add_argument("--results", default=str(RESULTS / "tacred.json"))
    ap.add_argument("--resume", action="store_true", help="keep finished rows of this budget")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    out_json = Path(args.results)
    rows = load_rows(out_json) if args.resume else []
    names = SUITES.get(args.models, args.models).split(",")
    for name in names:
        if any(r["model"] == name and r["budget"] == args.budget_name for r in rows):
            continue
        raw = build(name, args)
        t0 = time.perf_counter()
        res = run_experiment(raw, Path(args.runs) / args.budget_name / name, verbose=False).summary
        t = res["test"]
        row = {
            "dataset": "tacred",
            "model": name,
            "seed": raw["trainer"].get("seed", 13),
            "budget": args.budget_name,
            **{k: t.get(k) for k in METRICS},
            "dev_metric": res["best_dev"],
            "train_docs": res["train_docs"],
            "epochs": raw["trainer"].get("epochs"),
            "seconds": round(time.perf_counter() - t0, 1),
            "hardware": hardware(),
            "script": "benchmarks/tacred.py " + " ".join(a for a in sys.argv[1:] if not a.startswith("/")),
        }
        rows = [r for r in rows if not (r["model"] == name and r["budget"] == args.budget_name)] + [row]
        save_rows(out_json, rows)
        print(
            f"{name:16s} micro-F1 {100 * t['micro_f1']:.2f}  macro-F1 (all) {100 * t['macro_f1_all']:.2f}  accuracy {100 * t['accuracy']:.2f}",
            flush=True,
        )
    report(rows, out_json.with_suffix(".md"), names, args)


def report(rows: list[dict], path: Path, names: list[str], args: argparse.Namespace) -> None:
    from relx.data.io import read
    from relx.evaluation.regimes import format_regime_tables, length_bucket_report, regime_tables

    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}"

    table = []
    for r in rows:
        paper = PAPER.get(r["model"], {})
        table.append(
            [
                r["model"],
                r["budget"],
                *(pct(r.get(k)) for k in METRICS),
                " / ".join(f"{k} {100 * v:.2f}" for k, v in paper.items()) or "-",
                r["epochs"],
                r["hardware"],
            ]
        )
    md = markdown_table(
        [
            "model",
            "budget",
            "accuracy",
            "micro-F1",
            "macro-F1 (rel.)",
            "macro-F1 (all)",
            "weighted F1 (all)",
            "paper (TACRED test)",
            "epochs",
            "hardware",
        ],
        table,
    )
    text = (
        "# TACRED (the user's LDC copy; nothing committed from it)\n\nProduced by `benchmarks/tacred.py`. Test = the official "
        "test split; dev selects. The papers used bert-base / their own encoders; relx's default encoder is MiniLM-L6.\n\n" + md
    )
    gold = read(Path(args.tacred_dir) / "test.json", "tacred")
    preds = {}
    for name in names:
        p = Path(args.runs) / args.budget_name / name / "test_predictions.jsonl"
        if p.is_file():
            preds[name] = read(p, "jsonl")
    if preds:
        text += (
            "\n## Regimes (Tables 2-3 shape)\n\n```\n"
            + format_regime_tables(regime_tables(gold, preds, negative="no_relation"))
            + "\n```\n"
        )
        length_bucket_report(gold, preds, negative="no_relation", png=path.with_name(path.stem + "_length_buckets.png"))
    write_text(path, text)
    print(md)


if __name__ == "__main__":
    main()
