"""Markdown tables (shaped like the kernel-matrix paper's Tables 2-4) and Figure 2-3 PNGs for benchmarks/kernel_triples.py."""

from __future__ import annotations

import functools
import statistics
from collections import defaultdict
from typing import Any

from common import RESULTS, ROOT, config_steps, markdown_table, mean_sd, write_text

from relx.evaluation.overlap import LABELS, overlap_png

DATASETS = ("webnlg", "webnlg_star", "nyt", "nyt_star", "semeval")
NAMES = {"webnlg": "WebNLG", "webnlg_star": "WebNLG*", "nyt": "NYT", "nyt_star": "NYT*", "semeval": "SemEval"}
MODEL_NAMES = {
    "kernel": "kernel (rank 64, mask-averaged loss)",
    "kernel_full": "kernel (full h x h, mask-averaged loss)",
    "kernel_eq9": "kernel (rank 64, Eq. 9 loss)",
    "kernel_paper": "kernel (full h x h, Eq. 9 loss: the paper)",
    "kernel_own": "kernel (rank 64, mask-averaged loss, nested pairs on their own cells)",
    "kernel_batchnorm": "kernel (rank 64, loss averaged over the batch's cells)",
    "marker": "marker pair classifier (softmax)",
}
# The paper's Table 3 / Table 4 ("ours", BERT-base uncased, V100): micro-F1 and the All row. The paper does not
# state its match mode; its baselines (CopyRE, CasRel) report on the last-word variants, so its WebNLG / NYT
# numbers sit beside WebNLG* / NYT* (last-word match), not beside exact match.
PAPER_T3 = {"semeval": 91.0, "nyt_star": 89.8, "webnlg_star": 96.3}
PAPER_T4 = {  # dataset -> subset -> (P, R, F1)
    "nyt": {
        "normal": (95.1, 94.0, 94.5),
        "epo": (96.3, 73.2, 83.2),
        "seo": (92.2, 78.9, 85.0),
        "single": (95.1, 94.0, 94.6),
        "double": (89.6, 80.2, 84.7),
        "multiple": (95.8, 75.3, 84.3),
        "all": (94.2, 85.7, 89.8),
    },
    "webnlg": {
        "normal": (96.2, 92.9, 94.5),
        "epo": (100.0, 90.3, 94.9),
        "seo": (97.2, 96.3, 96.8),
        "single": (96.1, 92.7, 94.4),
        "double": (96.9, 96.5, 96.7),
        "multiple": (97.3, 96.3, 96.8),
        "all": (97.0, 95.7, 96.3),
    },
    "semeval": {"normal": (94.2, 88.0, 91.0), "single": (94.2, 88.0, 91.0), "double": (83.3, 83.3, 83.3), "all": (94.2, 88.0, 91.0)},
}
T4_ORDER = ("normal", "epo", "seo", "single", "double", "multiple", "all")


def _variants(rows: list[dict]) -> list[dict]:
    """Rows of one model at different budgets are different variants: model -> 'model@budget'."""
    return [{**r, "model": f"{r['model']}@{r['budget']}"} if r.get("budget") and "@" not in r["model"] else r for r in rows]


def _name(variant: str) -> str:
    base, _, budget = variant.partition("@")
    return f"{MODEL_NAMES.get(base, base)}, {budget}" if budget else MODEL_NAMES.get(base, base)


def _order(variant: str) -> tuple[int, str]:
    base, _, budget = variant.partition("@")
    return (list(MODEL_NAMES).index(base) if base in MODEL_NAMES else 99, budget)


def _present(rows: list[dict]) -> list[str]:
    return sorted({r["model"] for r in rows if r.get("kind") in (None, "overlap")}, key=_order)


_ms = functools.partial(mean_sd, scale=1)  # rows hold percentages


def _main(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    by: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        if "kind" not in r:
            by[(r["dataset"], r["model"])].append(r)
    return by


def _overlap(rows: list[dict], dataset: str, model: str, match: str) -> dict[str, list[dict]]:
    by: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r.get("kind") == "overlap" and r["dataset"] == dataset and r["model"] == model and r["match"] == match:
            by[r["subset"]].append(r)
    return by


def data_table(nyt_dir: str | None = None) -> str:
    """Table 2 shape: sentences per structure type (test split) and the triples the casrel reader could not locate."""
    from pathlib import Path

    from common import ROOT

    from relx.data.io import read_with_report
    from relx.evaluation.overlap import overlap_scores

    files = {"webnlg": ROOT / "data" / "webnlg", "webnlg_star": ROOT / "data" / "webnlg_star"}
    if nyt_dir and Path(nyt_dir).is_dir():
        files.update({"nyt": Path(nyt_dir) / "NYT", "nyt_star": Path(nyt_dir) / "NYT_star"})
    out = []
    for d, folder in files.items():
        for split in ("train", "dev", "test"):
            path = next((p for p in (folder / f"{split}_triples.json.gz", folder / f"{split}_triples.json") if p.is_file()), None)
            if path is None:
                continue
            docs, _ = read_with_report(path, "casrel")
            listed = sum(
                len(x.relations) + len(x.meta.get("unlocated_triples") or []) + len(x.meta.get("duplicate_triples") or []) for x in docs
            )
            unlocated = sum(len(x.meta.get("unlocated_triples") or []) for x in docs)
            same = sum(r.head == r.tail for x in docs for r in x.relations)
            sub = {r["subset"]: r["sentences"] for r in overlap_scores(docs, docs)}
            out.append([NAMES[d], split, len(docs), listed, unlocated, same, *[sub[k] for k in T4_ORDER]])
    header = ["dataset", "split", "sentences", "triples listed", "not located", "head = tail span", *[LABELS[k] for k in T4_ORDER]]
    return markdown_table(header, out)


def table3(rows: list[dict]) -> str:
    main = _main(rows)
    models = sorted({m for _, m in main}, key=_order)
    present = [d for d in DATASETS if any((d, m) in main for m in models)]
    header = ["model", *[f"{NAMES[d]} micro-F1" for d in present], "SemEval official macro-F1" if "semeval" in present else ""]
    header = [h for h in header if h]
    out = []
    for m in models:
        line = [_name(m)] + [_ms([r["micro_f1"] for r in main.get((d, m), [])]) for d in present]
        if "semeval" in present:
            line.append(_ms([r["official_macro_f1"] for r in main.get(("semeval", m), []) if r.get("official_macro_f1") is not None]))
        out.append(line)
    out.append(
        ["paper, ours (BERT-base)", *[f"{PAPER_T3[d]}" if d in PAPER_T3 else "-" for d in present]]
        + (["-"] if "semeval" in present else [])
    )
    return markdown_table(header, out)


def table4(rows: list[dict], dataset: str, model: str, match: str) -> str:
    sub = _overlap(rows, dataset, model, match)
    paper = PAPER_T4.get(dataset.replace("_star", "")) if dataset.endswith("_star") or dataset == "semeval" else None
    out = []
    for s in (*T4_ORDER[:-1], "x1", "x2", "x3", "x4", "x5plus", "all"):
        rs = sub.get(s, [])
        if not rs:
            continue
        line = [LABELS[s], rs[0]["sentences"], rs[0]["gold"], *[_ms([r[k] for r in rs]) for k in ("micro_p", "micro_r", "micro_f1")]]
        if paper is not None:
            line.append(" / ".join(f"{v:.1f}" for v in paper[s]) if s in paper else "-")
        out.append(line)
    header = ["sentences", "count", "gold triples", "P", "R", "F1"] + (["paper P / R / F1"] if paper is not None else [])
    return markdown_table(header, out)


def side_by_side(rows: list[dict]) -> str:
    main = _main(rows)
    speed = {r["model"]: r for r in rows if r.get("kind") == "speed"}
    out = []
    for m in _present(rows):
        if ("webnlg", m) not in main:
            continue
        sub = _overlap(rows, "webnlg", m, "exact")
        rs = main[("webnlg", m)]
        sp = speed.get(m.partition("@")[0], {})
        out.append(
            [
                _name(m),
                len(rs),
                _ms([r["micro_f1"] for r in rs]),
                *[_ms([r["micro_f1"] for r in sub.get(s, [])]) for s in ("normal", "epo", "seo")],
                sp.get("train_sent_per_s", "-"),
                sp.get("infer_sent_per_s", "-"),
                sp.get("kernel_params_m", "-") or "-",
                _ms([r["train_sent_per_s"] for r in rs]),
            ]
        )
    header = [
        "model",
        "seeds",
        "all",
        "Normal",
        "EPO",
        "SEO",
        "train sent/s (--speed)",
        "infer sent/s (--speed)",
        "kernel params (M)",
        "train sent/s incl. dev evals (full run)",
    ]
    return markdown_table(header, out) if out else "(no WebNLG rows yet)\n"


def _steps(r: dict) -> str:
    """A row's optimizer steps; rows made before steps were recorded: derived from the config, marked '*'."""
    if r.get("steps"):
        return str(r["steps"])
    stem = "marker" if r["model"].partition("@")[0] == "marker" else "kernel"
    return f"{config_steps(r['epochs'], r['train_documents'], ROOT / 'configs' / r['dataset'] / f'{stem}.yaml')}*"


def options_table(rows: list[dict]) -> str:
    """WebNLG rows of every kernel option: dev (what selects), test exact and last-word scores, the wrong triples
    nested inside a gold block of the same relation, and the budget (epochs, optimizer steps, seconds, commit)."""
    main = _main(rows)
    out = []
    for m in _present(rows):
        for r in main.get(("webnlg", m), []):
            fp = r.get("false_positives") or {}
            last = (r.get("scores") or {}).get("partial_last", {})
            out.append(
                [
                    _name(m),
                    r["seed"],
                    f"{100 * r['best_dev']:.2f}",
                    f"{r['micro_p']:.2f} / {r['micro_r']:.2f} / {r['micro_f1']:.2f}",
                    last.get("micro_f1", "-"),
                    fp.get("wrong", "-"),
                    fp.get("nested_in_gold", "-"),
                    r["epochs"],
                    _steps(r),
                    r["train_seconds"],
                    r.get("threads", "-"),
                    r.get("commit", "-"),
                ]
            )
    header = [
        "model",
        "seed",
        "dev F1 (selects)",
        "test exact P / R / F1",
        "test last-word F1",
        "wrong triples",
        "of them nested in a gold block",
        "epochs",
        "optimizer steps",
        "train s (incl. dev evals)",
        "threads",
        "commit",
    ]
    return markdown_table(header, out) if out else "(no WebNLG rows yet)\n"


def memory_table(rows: list[dict]) -> str:
    mem = [r for r in rows if r.get("kind") == "memory"]
    if not mem:
        return "(run `--memory`)\n"
    out = [
        [
            f"kernel, rank {r['rank']}" if r["rank"] else "kernel, full h x h",
            r["kernel_params_m"],
            r["relations"],
            f"{r['batch_size']} x {r['max_length']}",
            r["entity_tokens_per_sentence"],
            r.get("peak_rss_gb", "-"),
            r.get("peak_gpu_gb", "-"),
            r["step_seconds"],
            r["hardware"],
        ]
        for r in mem
    ]
    return markdown_table(
        [
            "model",
            "kernel params (M)",
            "relations",
            "batch x length",
            "entity tokens / sentence",
            "peak RSS (GB)",
            "peak GPU (GB)",
            "one step (s)",
            "hardware",
        ],
        out,
    )


def bootstrap_text(rows: list[dict]) -> str:
    b = next((r for r in rows if r.get("kind") == "bootstrap"), None)
    if b is None:
        return "(needs the SemEval kernel and marker runs of seed 13)\n"
    return (
        f"kernel {100 * b['metric_a']:.2f} vs marker {100 * b['metric_b']:.2f} official macro-F1: difference {100 * b['diff']:+.2f} "
        f"(95% CI {100 * b['ci_low']:+.2f} .. {100 * b['ci_high']:+.2f}), paired bootstrap p = {b['p_value']:.3f} "
        f"(share of {b['n']} resamples where the kernel is not better)\n"
    )


def pngs(rows: list[dict]) -> list[str]:
    made = []
    for d in DATASETS:
        match = "partial_last" if d.endswith("_star") else "exact"
        results: dict[str, Any] = {}
        for m in _present(rows):
            sub = _overlap(rows, d, m, match)
            if sub:
                results[_name(m)] = [{**rs[0], "f1": statistics.mean(r["micro_f1"] for r in rs) / 100} for rs in sub.values()]
        if results and d != "semeval":
            path = RESULTS / f"kernel_triples_{d}_overlap.png"
            overlap_png(results, path, title=f"{NAMES[d]} test: micro-F1 by overlap type and by triples per sentence ({match} match)")
            made.append(path.name)
    return made


def write_report(rows: list[dict], nyt_dir: str | None = None) -> None:
    rows = _variants(rows)
    hw = sorted({r.get("hardware", "?") for r in rows if "kind" not in r})
    parts = [
        "# Kernel-matrix triples (per-relation asymmetric kernels, sigmoid multi-label) vs a softmax pair classifier\n",
        "Produced by `benchmarks/kernel_triples.py` (commands in its docstring); MiniLM-L6-H384 encoder, entities given. "
        f"Hardware: {', '.join(hw) or '-'}. WebNLG/WebNLG*: CasRel split, dev selects epoch and threshold. NYT/NYT*: the NYT train "
        "split is not available here, so these train on the public dev split minus 500 held-out sentences (selection) and test on "
        "the public test split. SemEval: 800 training sentences held out as dev. Starred variants are scored on the last word of "
        "each entity (CasRel's partial match); the others on exact spans.\n",
        "## Data (Table 2 shape; triples the reader could not locate are misses of every model)\n",
        data_table(nyt_dir),
        "## Micro-F1 (Table 3 shape)\n",
        "The paper does not state its match mode; the baselines it compares with (CopyRE, CasRel) report WebNLG and NYT "
        "on the last-word variants, so its numbers stand in the WebNLG* / NYT* columns (and its Table 4 beside the starred "
        "breakdowns), not beside exact match.\n",
        table3(rows),
        "## WebNLG side by side: kernel vs the marker pair classifier (same encoder; compare rows of the same budget)\n",
        side_by_side(rows),
        "## WebNLG (exact match): every kernel option with its dev score and budget\n",
        "Options are chosen on dev. 'Nested in a gold block': a wrong triple whose head and tail lie inside a gold triple's "
        "head and tail with the same relation, which Eq. 7's block union labels positive. Train seconds include the "
        "per-epoch dev evaluations. Rows with a commit ran two at a time on a 2-core machine, one thread each, pinned, so "
        "their seconds are longer than a lone run's (the same kernel 10-epoch setting took 1,972 s in the row this re-run "
        "replaced, kernel_triples.json at commit 8434622, and 3,540 s here); compare seconds within one of these groups only. Equal training time: `cpu-20ep-eqtime` gives the "
        "kernel 20 epochs, the count whose time matches the marker's 2 epochs at the earlier rows' rates (kernel 10 "
        "epochs 1,972 s in that replaced row, marker 2 epochs 4,047 s, both 1 thread). Steps marked * "
        "were not recorded by the run: epochs x batches per epoch at the config's batch size (the marker trains on entity "
        "pairs, the kernel on sentences).\n",
        options_table(rows),
        "## SemEval: kernel head vs softmax marker head\n",
        bootstrap_text(rows),
        "## Memory: one AdamW step on a worst-case batch (every token inside an entity, WebNLG's 216 relations)\n",
        memory_table(rows),
    ]
    for d in DATASETS:
        for m in _present(rows):
            match = "partial_last" if d.endswith("_star") else "exact"
            if _overlap(rows, d, m, match):
                parts += [f"## {NAMES[d]}, {_name(m)}: by sentence type (Table 4 shape, {match} match)\n", table4(rows, d, m, match)]
    made = pngs(rows)
    if made:
        parts += ["## Figures\n", *[f"![{p}]({p})\n" for p in made]]
    write_text(RESULTS / "kernel_triples.md", "\n".join(parts))
