"""Kernel-matrix paper: multi-label triples with per-relation asymmetric kernels, vs a softmax marker pair classifier.

Datasets (entities given, as in the paper): WebNLG and WebNLG* (bundled, CasRel split: train -> test, dev selects
the epoch and the threshold); NYT and NYT* from ``--nyt-dir`` (not bundled; only the public dev and test splits
exist here: train on dev minus 500 held-out sentences, test on test); SemEval-2010 Task 8 as single-relation data
(official macro-F1 and triple micro-F1; 800 training sentences held out as dev).

Rows (``benchmarks/results/kernel_triples.json``): one per (dataset, model, seed, budget) with micro P/R/F1 of
the dataset's match mode (exact; last word of each entity for the starred variants), both modes, SemEval's
official macro-F1, the tuned threshold, speeds; plus one row per overlap subset (``subset``: normal, epo, seo,
x1 ... x5plus, single, double, multiple, all) and the ``kind: speed`` / ``kind: bootstrap`` rows.

    python benchmarks/kernel_triples.py --datasets webnlg --models kernel,kernel_full,kernel_eq9,marker --resume
    python benchmarks/kernel_triples.py --datasets webnlg --models kernel_own,kernel_batchnorm --resume   # chosen on dev
    python benchmarks/kernel_triples.py --datasets webnlg --models kernel --epochs 20 --budget-name cpu-20ep-eqtime --resume
                                          # ~ the marker's 2-epoch training time (kernel 10 ep 1,972 s, marker 2 ep 4,047 s)
    python benchmarks/kernel_triples.py --datasets webnlg_star,nyt,nyt_star --models kernel --resume
    python benchmarks/kernel_triples.py --datasets semeval --models kernel,marker --resume
    python benchmarks/kernel_triples.py --speed           # training / inference sentences/s side by side
    python benchmarks/kernel_triples.py --memory          # peak memory of a batch-16, length-128 training step
    python benchmarks/kernel_triples.py --report          # tables + PNGs from the saved rows
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, code_commit, hardware, has_speed_row, load_rows, save_rows  # noqa: E402

from relx.config import load_config  # noqa: E402
from relx.data.labels import LabelSet  # noqa: E402
from relx.data.schema import Document, read_jsonl, write_jsonl  # noqa: E402
from relx.models.base import ModelKind  # noqa: E402
from relx.training.config import FitContext  # noqa: E402
from relx.training.run import load_splits, parse_run_config, run_experiment  # noqa: E402

RESULTS_JSON = RESULTS / "kernel_triples.json"
RUNS = ROOT / "runs" / "kernel_triples"
NYT_DIR = ROOT.parent / "shared" / "data" / "nyt_casrel_devtest_only"
MATCH = {"webnlg": "exact", "webnlg_star": "partial_last", "nyt": "exact", "nyt_star": "partial_last", "semeval": "exact"}
MODELS = {  # row name -> (config stem, model overrides); the kernel configs: rank 64, loss_norm mask (chosen on WebNLG dev)
    "kernel": ("kernel", {}),
    "kernel_full": ("kernel", {"rank": None}),  # the paper's full h x h kernels
    "kernel_eq9": ("kernel", {"loss_norm": "positives"}),  # Eq. 9 as printed
    "kernel_paper": ("kernel", {"rank": None, "loss_norm": "positives"}),
    "kernel_own": ("kernel", {"pair_cells": "own"}),  # nested pairs scored and labelled on their own cells
    "kernel_batchnorm": ("kernel", {"loss_norm": "batch_mask"}),  # the loss averaged over the batch's cells
    "marker": ("marker", {}),
}


def raw_config(dataset: str, name: str, seed: int, args: argparse.Namespace) -> dict:
    stem, overrides = MODELS[name]
    raw = load_config(ROOT / "configs" / dataset / f"{stem}.yaml")
    raw["model"].update(overrides)
    for key in ("train", "dev", "test"):
        if raw["data"].get(key):
            path = raw["data"][key]
            if dataset.startswith("nyt"):  # configs/nyt*/kernel.yaml name data/nyt/<variant>/<file>: take them from --nyt-dir
                path = str(Path(args.nyt_dir) / Path(path).parent.name / Path(path).name)
            raw["data"][key] = str(ROOT / path)
    tr = raw["trainer"]
    tr.update({"seed": seed, "progress": not args.quiet})
    for key, value in (("epochs", args.epochs), ("num_threads", args.threads)):
        if value:
            tr[key] = value
    if args.train_docs:
        raw["data"]["max_train_docs"] = args.train_docs
    if args.batch_size:
        tr["batch_size"] = args.batch_size
    return raw


def run_dir(dataset: str, name: str, seed: int, budget: str) -> Path:
    return RUNS / budget / dataset / f"{name}_s{seed}"


def labels_for(cls: type, train: list[Document], dev: list[Document] | None, negative: str) -> LabelSet:
    return cls.build_labels(train + (dev or []), negative)


def sentences(cfg: Any) -> tuple[list[Document], dict[str, int]]:
    """The test sentences as triples (pairs undone) and the casrel reader's counts for the test file."""
    from relx.data.io import read_with_report

    docs, _ = read_with_report(cfg.data.test, cfg.data.format)
    stats = {
        "unlocated": sum(len(d.meta.get("unlocated_triples") or []) for d in docs),
        "triples": sum(len(d.relations) for d in docs),
        "self_relations": sum(r.head == r.tail for d in docs for r in d.relations),
    }
    return docs, stats


def triple_scores(dataset: str, gold: list[Document], pred: list[Document], negative: str) -> dict[str, Any]:
    from relx.evaluation.scorer import score_relations, score_triples

    out: dict[str, Any] = {}
    for mode in ("exact", "partial_last"):
        if dataset == "semeval":  # directed pair labels: relation-level scoring normalises T(e2,e1)
            m = score_relations(gold, pred, negative) if mode == "exact" else None
        else:
            m = score_triples(gold, pred, mode)
        if m is not None:
            out[mode] = {k: round(100 * m[k], 2) for k in ("micro_p", "micro_r", "micro_f1")}
    return out


def nested_false_positives(gold: list[Document], pred: list[Document], negative: str) -> dict[str, int]:
    """Wrong exact-span triples whose head and tail lie within a gold triple's head and tail with the same relation
    (what Eq. 7's block union labels positive), and the wrong triples in all."""
    from relx.data.triples import relation_triples

    wrong = nested = 0
    for g, p in zip(gold, pred):
        gs = relation_triples(g, negative)
        for h, r, t in relation_triples(p, negative) - gs:
            wrong += 1
            nested += any(r == gr and gh[0] <= h[0] and h[1] <= gh[1] and gt[0] <= t[0] and t[1] <= gt[1] for gh, gr, gt in gs)
    return {"wrong": wrong, "nested_in_gold": nested}


def train_one(dataset: str, name: str, seed: int, args: argparse.Namespace) -> list[dict]:
    from relx.data.pairs import from_pairs
    from relx.evaluation.overlap import overlap_scores

    out = run_dir(dataset, name, seed, args.budget_name)
    result = run_experiment(raw_config(dataset, name, seed, args), out, resume=True, verbose=False)
    cfg, model, train, hist = result.config, result.model, result.train, result.summary
    gold, data_stats = sentences(cfg)
    pred, infer_s = result.predictions, hist["test_seconds"]
    official = None
    if dataset == "semeval":
        official = round(100 * result.metrics["official_macro_f1"], 2)
    if cfg.data.pairs:
        pred = from_pairs(gold, pred, cfg.data.negative)
    write_jsonl(out / "test_triples.jsonl", pred)
    scores = triple_scores(dataset, gold, pred, cfg.data.negative)
    main = scores[MATCH[dataset]] if MATCH[dataset] in scores else scores["exact"]
    seen = min(len(train), cfg.data.max_train_docs or len(train))  # documents fit() trained on (pairs for the marker)
    n_train = round(seen * len({d.meta.get("source_id", d.id) for d in train}) / len(train))  # ... as sentences
    base = {"dataset": dataset, "model": name, "seed": seed, "budget": args.budget_name}
    row = {
        **base,
        "epochs": cfg.trainer.epochs,
        "match": MATCH[dataset],
        "encoder": "MiniLM-L6-H384 (uncased)" if getattr(model.config, "encoder", "default") == "default" else model.config.encoder,
        "micro_p": main["micro_p"],
        "micro_r": main["micro_r"],
        "micro_f1": main["micro_f1"],
        "scores": scores,
        "false_positives": nested_false_positives(gold, pred, cfg.data.negative) if dataset != "semeval" else None,
        "official_macro_f1": official,
        "threshold": (hist.get("threshold") or {}).get("threshold"),
        "threshold_dev": (hist.get("threshold") or {}).get("dev"),
        "best_dev": hist["best_dev"],
        "best_step": hist["best_step"],
        "steps": hist["steps"],  # optimizer steps
        "train_sentences": n_train,
        "train_documents": seen,
        "train_seconds": round(hist["train_seconds"], 1),
        # fit() wall time includes the per-epoch dev evaluations; --speed rows time training alone
        "train_sent_per_s": round(cfg.trainer.epochs * n_train / hist["train_seconds"], 2),
        "infer_sent_per_s": round(len(gold) / infer_s, 1),
        "test_sentences": len(gold),
        "test_unlocated_triples": data_stats["unlocated"],
        "test_self_relations": data_stats["self_relations"],
        "hardware": hardware(),
        "threads": args.threads,
        "run_dir": str(out.relative_to(ROOT)),
        "commit": code_commit(),
    }
    rows = [row]
    for mode in ("exact", "partial_last") if dataset != "semeval" else ("exact",):
        for sub in overlap_scores(gold, pred, mode, cfg.data.negative):
            rows.append(
                {
                    **base,
                    "kind": "overlap",
                    "match": mode,
                    "subset": sub["subset"],
                    "sentences": sub["sentences"],
                    "gold": sub["gold"],
                    "predicted": sub["predicted"],
                    "correct": sub["correct"],
                    "micro_p": round(100 * sub["p"], 2),
                    "micro_r": round(100 * sub["r"], 2),
                    "micro_f1": round(100 * sub["f1"], 2),
                }
            )
    return rows


def speed(args: argparse.Namespace) -> list[dict]:
    """Training (one epoch on ``--speed-docs`` WebNLG sentences, no dev) and inference sentences/s of every
    ``--speed-models`` row, side by side in one process; the marker trains and predicts on all ordered pairs."""
    import torch

    from relx.data.pairs import to_pairs

    rows = []
    threads = args.threads or 2
    torch.set_num_threads(threads)
    for name in args.speed_models.split(","):
        raw = raw_config("webnlg", name, 13, args)
        cfg, cls, model_cfg = parse_run_config(raw)
        cfg.data.pairs = False
        train, _, test, _ = load_splits(cfg.data)
        docs, test = train[: args.speed_docs], test[: args.speed_docs]
        pair = cls.kind is ModelKind.PAIR
        fit_docs = to_pairs(docs)[0] if pair else docs
        test_docs = to_pairs(test)[0] if pair else test
        model = cls(model_cfg, labels_for(cls, fit_docs, None, cfg.data.negative))
        hist = model.fit(fit_docs, None, FitContext(cfg.trainer), epochs=1, progress=False, num_threads=threads)
        t0 = time.perf_counter()
        model.predict(test_docs, batch_size=64)
        infer = time.perf_counter() - t0
        rows.append(
            {
                "kind": "speed",
                "dataset": "webnlg",
                "model": name,
                "threads": threads,
                "sentences": len(docs),
                "model_inputs": len(fit_docs),
                "batch_size": cfg.trainer.batch_size,
                "train_seconds": round(hist["train_seconds"], 2),
                "train_sent_per_s": round(len(docs) / hist["train_seconds"], 2),
                "infer_sent_per_s": round(len(test) / infer, 2),
                "kernel_params_m": round(sum(p.numel() for p in model.kernels.parameters()) / 1e6, 2)
                if hasattr(model, "kernels")
                else None,
                "hardware": hardware(),
                "note": args.speed_note,
            }
        )
        print(json.dumps(rows[-1]))
    return rows


def memory_one(rank: int | None, batch: int, length: int) -> dict:
    """Peak memory of one AdamW training step of ``kernel`` on a worst-case batch: ``batch`` sentences of
    ``length`` sub-tokens, every token inside an entity (3-token entities), WebNLG's 216 relation types."""
    import resource

    import torch

    from relx.data.schema import Entity, Relation
    from relx.models.kernel import KernelConfig, KernelModel

    rel2id = json.loads(__import__("gzip").decompress((ROOT / "data" / "webnlg" / "rel2id.json.gz").read_bytes()))
    types = sorted(rel2id[1])
    words = length - 2
    gen = torch.Generator().manual_seed(0)
    docs = []
    for i in range(batch):
        ents = [Entity(s, s + 3, "ENTITY") for s in range(0, words - 2, 3)]
        pairs = torch.randint(0, len(ents), (8, 2), generator=gen).tolist()  # 8 random triples per sentence
        rels = [Relation(h, t, types[(7 * h + t + i) % len(types)]) for h, t in pairs if h != t]
        docs.append(Document(str(i), ["word"] * words, ents, rels))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = KernelModel(KernelConfig(rank=rank, max_length=length), LabelSet(types)).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch_t = {k: v.to(device) if hasattr(v, "to") else v for k, v in model.collate([model.featurize(d) for d in docs]).items()}
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    out = model(batch_t)
    out.loss.backward()
    opt.step()
    step_s = time.perf_counter() - t0
    row = {
        "kind": "memory",
        "model": "kernel" if rank is None else f"kernel_r{rank}",
        "rank": rank,
        "batch_size": batch,
        "max_length": length,
        "relations": len(types),
        "entity_tokens_per_sentence": sum(len(m) for m in model.featurize(docs[0])["members"]),
        "kernel_params_m": round(sum(p.numel() for p in model.kernels.parameters()) / 1e6, 2),
        "step_seconds": round(step_s, 2),
        "device": device,
        "hardware": hardware(),
    }
    if device == "cuda":
        row["peak_gpu_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    row["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)
    return row


def memory(args: argparse.Namespace) -> list[dict]:
    """``memory_one`` for the full and rank-64 kernels, each in a fresh process (peak RSS is per process)."""
    import subprocess

    rows = []
    for rank in ("full", "64"):
        cmd = [sys.executable, __file__, "--memory-one", rank, "--threads", str(args.threads or 2)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]))
    return rows


def semeval_bootstrap(rows: list[dict], n: int = 1000) -> dict | None:
    """Paired bootstrap of the official macro-F1: kernel vs marker on the SemEval test set (seed 13 runs)."""
    from relx.data.io import read
    from relx.evaluation.compare import bootstrap_row, compare_predictions

    found = {r["model"]: r for r in rows if r.get("dataset") == "semeval" and "kind" not in r and r["seed"] == 13}
    if not {"kernel", "marker"} <= set(found):
        return None
    files = {m: ROOT / found[m]["run_dir"] / "test_predictions.jsonl" for m in ("kernel", "marker")}
    if not all(f.is_file() for f in files.values()):
        print("SemEval bootstrap: a run's test_predictions.jsonl is missing; the saved bootstrap row is kept")
        return None
    preds = {m: list(read_jsonl(f)) for m, f in files.items()}
    gold = list(read(ROOT / "data" / "semeval2010_task8" / "TEST_FILE_FULL.TXT.gz", "semeval"))
    res = compare_predictions(gold, preds["kernel"], preds["marker"], "semeval", "Other", metric="official_macro_f1", n=n)
    return {"kind": "bootstrap", "dataset": "semeval", "a": "kernel", "b": "marker", **bootstrap_row(res)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="webnlg")
    ap.add_argument("--models", default="kernel")
    ap.add_argument("--seeds", default="13")
    ap.add_argument("--epochs", type=int, default=0, help="override the configs' epochs (0: keep)")
    ap.add_argument("--batch-size", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-docs", type=int, default=0, help="random training subset (smoke runs)")
    ap.add_argument("--budget-name", default="cpu-10ep")
    ap.add_argument("--nyt-dir", default=str(NYT_DIR), help="folder with NYT/ and NYT_star/ CasRel files (not bundled)")
    ap.add_argument("--resume", action="store_true", help="keep finished rows; resume interrupted runs from checkpoints")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--speed-models", default="kernel,kernel_full,marker")
    ap.add_argument("--speed-docs", type=int, default=200)
    ap.add_argument("--speed-note", default="")
    ap.add_argument("--memory", action="store_true", help="peak memory of one training step at batch 16, length 128 (full and rank 64)")
    ap.add_argument("--memory-one", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--report", action="store_true", help="only rebuild the tables and PNGs")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    from joint_spans import locked  # one lock helper for results files shared by several queues

    code_commit()  # the code this process runs, before anyone commits again

    if args.memory_one:
        import torch

        torch.set_num_threads(args.threads or 2)
        print(json.dumps(memory_one(None if args.memory_one == "full" else int(args.memory_one), 16, 128)))
        return
    if args.memory:
        new = memory(args)
        with locked(RESULTS_JSON):
            save_rows(
                RESULTS_JSON, [r for r in load_rows(RESULTS_JSON) if r.get("kind") != "memory" or r.get("device") != new[0]["device"]] + new
            )
    elif args.speed and args.resume and has_speed_row(RESULTS_JSON, args.threads or 2):
        print("speed rows for these threads exist (--resume): not measured again")
    elif args.speed:
        new = speed(args)
        with locked(RESULTS_JSON):
            save_rows(RESULTS_JSON, [r for r in load_rows(RESULTS_JSON) if r.get("kind") != "speed"] + new)
    elif not args.report:
        for dataset in args.datasets.split(","):
            for name in args.models.split(","):
                for seed in (int(s) for s in args.seeds.split(",")):
                    key = (dataset, name, seed, args.budget_name)

                    def same(r: dict, key: tuple = key) -> bool:
                        return (r.get("dataset"), r.get("model"), r.get("seed"), r.get("budget")) == key and r.get("kind") in (
                            None,
                            "overlap",
                        )

                    if args.resume and any(same(r) and "kind" not in r for r in load_rows(RESULTS_JSON)):
                        continue
                    new = train_one(dataset, name, seed, args)
                    with locked(RESULTS_JSON):
                        save_rows(RESULTS_JSON, [r for r in load_rows(RESULTS_JSON) if not same(r)] + new)
                    print(
                        json.dumps(
                            {k: new[0][k] for k in ("dataset", "model", "seed", "micro_p", "micro_r", "micro_f1", "official_macro_f1")}
                        )
                    )
    rows = load_rows(RESULTS_JSON)
    boot = semeval_bootstrap(rows)
    if boot is not None:
        with locked(RESULTS_JSON):
            rows = [r for r in load_rows(RESULTS_JSON) if r.get("kind") != "bootstrap"] + [boot]
            save_rows(RESULTS_JSON, rows)
    from kernel_report import write_report

    write_report(rows, args.nyt_dir)


if __name__ == "__main__":
    main()
