"""Markdown tables, bucket PNGs and the bootstrap test for benchmarks/joint_spans.py (shaped like the paper's Tables 4-7)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from common import RESULTS, ROOT, markdown_table, mean_sd, prediction_path, write_text  # mean_sd takes fractions

from relx.data.io import read
from relx.data.schema import Document, read_jsonl

MAIN_RE = {
    "conll04": ("re_strict", "strict: entity spans and types must match"),
    "scierc": ("re_boundaries", "entity types ignored, as the paper scores SciERC"),
}
# Published numbers (bert-base-cased on CoNLL04, scibert on SciERC, 120 epochs): NER P/R/F1, RE P/R/F1.
PAPER_MAIN = {
    "conll04": {
        "SpERT (paper Table 4)": (88.3, 89.6, 89.0, 73.0, 70.0, 71.5),
        "two-phase (paper Table 4)": (89.6, 91.4, 90.5, 78.7, 73.3, 75.9),
    },
    "scierc": {
        "SpERT (paper Table 5)": (70.9, 69.8, 70.3, 53.4, 48.5, 50.8),
        "two-phase (paper Table 5)": (69.7, 72.3, 71.0, 52.9, 52.5, 52.7),
    },
}
# The public SpERT code with the same MiniLM encoder, 20 epochs, lr 1e-4, batch 2, one CPU thread.
SPERT_MINILM = {"ner": 83.5, "re_boundaries": 62.1, "re_strict": 61.9, "train_sent_per_s": 5.4}
PAPER_TABLE7 = {  # dev F1: (NER, RE)
    "conll04": {
        "two_phase": (88.7, 74.2),
        "w/o two-phase": (86.4, 71.5),
        "w/o bi-features": (88.2, 73.5),
        "w/o multi-features": (88.4, 72.4),
        "w/o both-features": (88.5, 72.0),
        "w/o gated": (88.1, 73.3),
        "span_base": (85.9, 70.2),
    },
    "scierc": {
        "two_phase": (71.4, 53.5),
        "w/o two-phase": (68.2, 50.9),
        "w/o bi-features": (71.1, 51.7),
        "w/o multi-features": (71.5, 52.0),
        "w/o both-features": (70.0, 51.5),
        "w/o gated": (69.9, 52.7),
        "span_base": (67.8, 49.0),
    },
}
PAPER_TABLE6 = {
    "conll04": {"NER": ("1: 171.5", "1: 23.7", "1: 2.6"), "RE": ("1: 56.4", "1: 9.9", "1: 1.8")},
    "scierc": {"NER": ("1: 605.3", "1: 25.5", "1: 7.7"), "RE": ("1: 913.5", "1: 35.6", "1: 13.6")},
}
ORDER = ["span_base", "two_phase", "w/o two-phase", "w/o bi-features", "w/o multi-features", "w/o both-features", "w/o gated"]
VARIANT_ORDER = ["reject-class", "typed-phase-one"]  # relx design checks of two_phase (not in the paper)
ROW_ORDER = ORDER + VARIANT_ORDER
ROW_RANK = {n: k for k, n in enumerate(ROW_ORDER)}  # sort key of a row name; unknown names last (99)


def mean_of(rs: list[dict], split: str, key: str) -> float:
    """Mean of ``r[split][key]`` over the runs ``rs`` (seeds)."""
    return sum(r[split][key] for r in rs) / len(rs)


def pr_cell(rs: list[dict], task: str) -> str:
    """'P / R' of the task's test micro scores, each the mean over the runs."""
    return f"{mean_of(rs, 'test', f'{task}_micro_p'):.1f} / {mean_of(rs, 'test', f'{task}_micro_r'):.1f}"


def gold_docs(dataset: str, split: str) -> list[Document]:
    return list(read(ROOT / "data" / dataset / f"{dataset}_{split}.json.gz", "spert"))


def _ratio(counts: list[int]) -> str:
    counts = [c for c in counts if c > 0]
    return f"1: {max(counts) / min(counts):.1f}" if counts else "-"


def imbalance(counts: dict[str, dict[str, int]]) -> dict[str, tuple[str, str, str]]:
    """Most imbalanced class ratio (smallest : largest) of the training instances: single-phase (all classes),
    Phase One (positives pooled vs negatives) and Phase Two (positive types only)."""
    out = {}
    for task, kind, neg in (("NER", "entity", "Not-Entity"), ("RE", "relation", "Not-Relation")):
        c = counts.get(kind, {})
        types = [v for k, v in c.items() if k != neg]
        out[task] = (_ratio(list(c.values())), _ratio([sum(types), c.get(neg, 0)]), _ratio(types))
    return out


def main_table(rows: list[dict], dataset: str) -> str:
    task, note = MAIN_RE[dataset]
    by = defaultdict(list)
    for r in rows:
        if r["model"] in ("span_base", "two_phase"):
            by[r["model"]].append(r)
    table = []
    for name in ("span_base", "two_phase"):
        rs = by.get(name, [])
        if not rs:
            continue

        def col(key: str, rs: list[dict] = rs) -> str:
            return mean_sd([r["test"][key] / 100 for r in rs])  # rows hold percentages

        table.append(
            [
                f"relx {name} (MiniLM)",
                len(rs),
                col("ner_micro_p"),
                col("ner_micro_r"),
                col("ner_micro_f1"),
                col(f"{task}_micro_p"),
                col(f"{task}_micro_r"),
                col(f"{task}_micro_f1"),
                col("re_boundaries_micro_f1"),
                col("re_strict_micro_f1"),
                mean_sd([r["train_sent_per_s"] / 100 for r in rs]),
            ]
        )
    if dataset == "conll04":
        s = SPERT_MINILM
        table.append(
            [
                "public SpERT code (MiniLM, 20 ep)",
                1,
                "-",
                "-",
                s["ner"],
                "-",
                "-",
                s[task],
                s["re_boundaries"],
                s["re_strict"],
                f"{s['train_sent_per_s']} (1 thread)",
            ]
        )
    for name, v in PAPER_MAIN[dataset].items():
        table.append([name, "-", *v[:3], *v[3:], "-", "-", "-"])
    head = ["model", "seeds", "NER P", "NER R", "NER F1", "RE P", "RE R", "RE F1", "RE boundary F1", "RE strict F1", "train sent/s"]
    return f"### {dataset}: test micro P/R/F1 (RE = {note})\n\n" + markdown_table(head, table)


def ablation_table(rows: list[dict], dataset: str) -> str:
    """Table 7 shape: each row's mean over its seeds, its difference from two_phase on the same seeds (a one-seed
    row is set against two_phase's run with that seed), test precision and recall beside F1."""
    task = MAIN_RE[dataset][0]
    by = defaultdict(list)
    for r in rows:
        by[r["model"]].append(r)
    if "two_phase" not in by:
        return ""
    ref = {r["seed"]: r for r in by["two_phase"]}

    def cells(rs: list[dict]) -> list[str]:
        paired = [ref[r["seed"]] for r in rs if r["seed"] in ref]
        base = paired if len(paired) == len(rs) else by["two_phase"]
        out = []
        for split, key in (("dev", "ner_micro_f1"), ("dev", f"{task}_micro_f1"), ("test", f"{task}_micro_f1")):
            v = mean_of(rs, split, key)
            out.append(f"{mean_sd([r[split][key] for r in rs], scale=1)} ({v - mean_of(base, split, key):+.1f})")
        out.insert(2, pr_cell(rs, task))
        return out

    table = []
    for name in ["two_phase", *ORDER[2:], "span_base", *VARIANT_ORDER]:
        rs = sorted(by.get(name, []), key=lambda r: r["seed"])
        if not rs:
            continue
        paper = PAPER_TABLE7[dataset].get(name)
        pref = PAPER_TABLE7[dataset]["two_phase"]
        ps = [f"{paper[k]} ({paper[k] - pref[k]:+.1f})" for k in (0, 1)] if paper else ["-", "-"]
        label = name if paper else f"{name} (relx)"
        table.append([label, ", ".join(str(r["seed"]) for r in rs), *cells(rs), *ps])
    head = ["model", "seeds", "dev NER F1", "dev RE F1", "test RE P / R", "test RE F1", "paper NER F1", "paper RE F1"]
    return (
        f"### {dataset}: ablations (Table 7 shape; mean ± sd over the seeds run, in brackets the difference from two_phase on the "
        f"same seeds; RE = {task}; the paper's columns are dev F1)\n\n" + markdown_table(head, table)
    )


def table6(rows: list[dict], dataset: str) -> str:
    first = {name: next((r for r in rows if r["model"] == name and r.get("sample_counts")), None) for name in ("span_base", "two_phase")}
    if not all(first.values()):
        return ""
    base, ours = imbalance(first["span_base"]["sample_counts"]), imbalance(first["two_phase"]["sample_counts"])
    table = [[task, base[task][0], ours[task][1], ours[task][2], *PAPER_TABLE6[dataset][task]] for task in ("NER", "RE")]
    head = ["task", "relx baseline", "relx Phase One", "relx Phase Two", "paper baseline", "paper Phase One", "paper Phase Two"]
    return (
        f"### {dataset}: most imbalanced class ratio of the training instances (Table 6 shape; counted during training, "
        "all epochs)\n\n" + markdown_table(head, table)
    )


def buckets(rows: list[dict], dataset: str, symmetric: set[str], tag: str = "") -> tuple[str, list[str]]:
    from relx.evaluation.analysis import ner_f1_by_entity_length, re_f1_by_distance
    from relx.evaluation.plots import bucket_f1_png

    kept = [r for r in rows if prediction_path(r, "dev")]  # rows whose dev predictions are on disk
    # span_base, two_phase and every ablation row with kept predictions: the lowest seed of each
    pick = {name: min(rs, key=lambda r: r["seed"]) for name in ROW_ORDER if (rs := [r for r in kept if r["model"] == name])}
    if not {"span_base", "two_phase"} <= set(pick):
        return "", []
    gold = gold_docs(dataset, "dev")
    strict = MAIN_RE[dataset][0] == "re_strict"
    preds = {name: list(read_jsonl(prediction_path(r, "dev"))) for name, r in pick.items()}
    ner = {n: ner_f1_by_entity_length(gold, p) for n, p in preds.items()}
    rel = {n: re_f1_by_distance(gold, p, strict=strict, symmetric=symmetric) for n, p in preds.items()}
    pngs = [f"joint_spans{tag}_{dataset}_entity_length.png", f"joint_spans{tag}_{dataset}_distance.png"]
    bucket_f1_png(ner, RESULTS / pngs[0], title=f"{dataset} dev: NER F1 by entity length", xlabel="entity length (tokens)")
    bucket_f1_png(rel, RESULTS / pngs[1], title=f"{dataset} dev: RE F1 by entity distance", xlabel="entity distance (tokens between)")
    used = sorted({r["seed"] for r in pick.values()})
    seeds = f"seed {used[0]}" if len(used) == 1 else "each row's lowest seed: " + ", ".join(f"{n} {r['seed']}" for n, r in pick.items())
    out = []
    for title, series in (("NER F1 by entity length", ner), ("RE F1 by entity distance", rel)):
        labels = [b["bucket"] for b in next(iter(series.values()))]
        table = [[n, *[f"{100 * b['f1']:.1f} ({b['gold']})" for b in bs]] for n, bs in series.items()]
        out.append(f"**{dataset} dev, {title}** (F1, gold count in brackets; {seeds})\n\n" + markdown_table(["model", *labels], table))
    return "\n\n".join(out), pngs


def bootstrap(rows: list[dict], dataset: str, symmetric: set[str], model: str = "two_phase", base: str = "span_base") -> str:
    """``model`` vs ``base`` per seed and pooled over the seeds (the same resampled sentences for every seed, the
    seeds' mean F1), for the seeds whose test predictions are on disk."""
    from relx.evaluation.compare import compare_by_seed

    task = MAIN_RE[dataset][0]
    runs: dict[str, dict[int, list[Document]]] = {model: {}, base: {}}
    missing = []
    for r in rows:
        if r["model"] in runs:
            path = prediction_path(r)
            if path is None:
                missing.append(f"{r['model']} seed {r['seed']}")
            else:
                runs[r["model"]][r["seed"]] = list(read_jsonl(path))
    res = compare_by_seed(gold_docs(dataset, "test"), runs[model], runs[base], "joint", "no_relation", f"{task}_micro_f1", 1000, symmetric)
    table = [
        [
            r["seed"] if r["seed"] != "pooled" else f"pooled ({len(r['seeds'])} seeds)",
            f"{100 * r['metric_a']:.2f}",
            f"{100 * r['metric_b']:.2f}",
            f"{100 * r['diff']:+.2f}",
            f"[{100 * r['ci_low']:+.2f}, {100 * r['ci_high']:+.2f}]",
            f"{r['p_value']:.3f}",
        ]
        for r in res
    ]
    note = f"\n\nNot in the test (test predictions no longer on disk): {', '.join(sorted(missing))}." if missing else ""
    if not table:
        return f"### {dataset}: paired bootstrap\n\nNo seed has both models' test predictions on disk.{note}" if missing else ""
    head = ["seed", model, base, "diff", "95% CI", f"p ({model} not better)"]
    title = "" if (model, base) == ("two_phase", "span_base") else f" ({model} vs {base})"
    return (
        f"### {dataset}: paired bootstrap{title}, test {task} micro-F1, 1,000 resamples of sentences\n\n"
        + markdown_table(head, table)
        + note
    )


def runs_table(rows: list[dict], dataset: str) -> str:
    """One line per run: its budget in epochs, optimizer steps and seconds, where dev selection stopped, the code."""
    task = MAIN_RE[dataset][0]
    table = [
        [
            r["model"],
            r["seed"],
            r["epochs"],
            r.get("steps") or "-",
            r["best_step"],
            r["train_seconds"],
            r.get("threads") or "-",
            f"{r['dev'][f'{task}_micro_f1']:.2f}",
            f"{r['test'][f'{task}_micro_f1']:.2f}",
            r.get("commit") or "-",
        ]
        for r in sorted(rows, key=lambda r: (ROW_RANK.get(r["model"], 99), r["seed"]))
    ]
    head = ["model", "seed", "epochs", "optimizer steps", "best step", "train s", "threads", f"dev {task} F1", f"test {task} F1", "commit"]
    return f"**{dataset}: runs** (train s: wall time of training with its per-epoch dev evaluations)\n\n" + markdown_table(head, table)


def speed_table(rows: list[dict]) -> str:
    sp = [r for r in rows if r.get("kind") == "train_speed"]
    if not sp:
        return ""
    table = [
        [
            r["model"],
            r["threads"],
            r["sentences"],
            r["batch_size"],
            r["train_sent_per_s"],
            f"{r['train_sent_per_s'] / SPERT_MINILM['train_sent_per_s']:.1f}x" if r["threads"] == 1 else "-",
            r["hardware"],
            r.get("note") or "-",
        ]
        for r in sp
    ]
    head = [
        "model",
        "threads",
        "sentences",
        "batch",
        "train sent/s",
        "vs public SpERT (5.4 sent/s, 1 thread, batch 2)",
        "hardware",
        "meanwhile on the machine",
    ]
    return "### Training speed (CoNLL04, MiniLM, CPU, one epoch over the first sentences, no evaluation)\n\n" + markdown_table(head, table)


def curves(rows: list[dict], dataset: str, tag: str) -> tuple[str, list[str]]:
    """Per-epoch strict RE on dev and on the fixed training sample, for every run of the budget that stored its curve
    with a training sample: a table every 5 epochs (plus each run's best-dev epoch) and one PNG."""
    rs = [r for r in rows if r.get("curve") and "train_re" in r["curve"][0]]
    if not rs:
        return "", []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from relx.evaluation.plots import save_figure

    rs.sort(key=lambda r: (ROW_RANK.get(r["model"], 99), r["seed"]))
    table = []
    for r in rs:
        # the epoch dev selection kept (the row's best step); else the first epoch reaching the best rounded dev score
        kept = [c for c in r["curve"] if c["step"] == r.get("best_step")]
        best = kept[0] if kept else max(r["curve"], key=lambda c: (c["dev_re"], -c["step"]))
        for c in r["curve"]:
            if c["epoch"] % 5 == 0 or c["epoch"] == 1 or c is best:
                table.append(
                    [r["model"], r["seed"], c["epoch"], c["step"], c["train_ner"], c["dev_ner"], c["train_re"], c["dev_re"]]
                    + [f"{c['train_loss']:.4f}" if c.get("train_loss") is not None else "-", "best dev" if c is best else ""]
                )
    n = rs[0]["train_eval_docs"]
    head = ["model", "seed", "epoch", "step", f"train ({n}) NER", "dev NER", f"train ({n}) RE", "dev RE", "train loss", ""]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rs:
        ep = [c["epoch"] for c in r["curve"]]
        (line,) = ax.plot(ep, [c["dev_re"] for c in r["curve"]], label=f"{r['model']} s{r['seed']} dev")
        ax.plot(ep, [c["train_re"] for c in r["curve"]], ls="--", color=line.get_color(), label=f"{r['model']} s{r['seed']} train ({n})")
    ax.set_xlabel("epoch")
    ax.set_ylabel("strict RE micro-F1 (%)")
    ax.set_title(f"{dataset}: dev vs {n} training sentences")
    ax.legend(fontsize=7)
    png = f"joint_spans{tag}_{dataset}_curves.png"
    save_figure(fig, RESULTS / png)
    text = (
        f"**{dataset}: learning curves** (strict RE / NER micro-F1 after each epoch; every 5th epoch and each run's "
        f"best-dev epoch shown; all epochs in the rows' `curve` field)\n\n" + markdown_table(head, table)
    )
    return text, [png]


def budgets_table(rows: list[dict], dataset: str, budget: str) -> str:
    """The models of ``budget`` on the same seeds at every other budget that ran all of them: how the budget (epochs,
    optimizer steps, seconds) moves each model. The commits show which budgets ran older code ("-": rows made before
    rows recorded their commit and optimizer steps)."""
    task = MAIN_RE[dataset][0]
    done = [r for r in rows if r.get("dataset") == dataset and "test" in r and r.get("budget")]
    here = [r for r in done if r["budget"] == budget]
    table = []
    for model in sorted({r["model"] for r in here}, key=lambda m: ROW_RANK.get(m, 99)):
        seeds = sorted({r["seed"] for r in here if r["model"] == model})
        group = []
        for b in sorted({r["budget"] for r in done}, key=lambda b: (b != budget, b)):  # this budget first
            rs = [r for r in done if r["budget"] == b and r["model"] == model and r["seed"] in seeds]
            if sorted(r["seed"] for r in rs) != seeds:
                continue
            group.append(
                [
                    model if b == budget else "",  # first line of the model's group
                    f"**{b}**" if b == budget else b,
                    ", ".join(str(s) for s in seeds),
                    rs[0]["epochs"],
                    rs[0].get("steps") or "-",
                    round(sum(r["train_seconds"] for r in rs) / len(rs)),
                    mean_sd([r["dev"][f"{task}_micro_f1"] for r in rs], scale=1),
                    mean_sd([r["test"][f"{task}_micro_f1"] for r in rs], scale=1),
                    pr_cell(rs, task),
                    ", ".join(sorted({r.get("commit") or "-" for r in rs})),
                ]
            )
        if len(group) > 1:  # models run at this budget only get no line
            table += group
    if not table:
        return ""
    head = [
        "model",
        "budget",
        "seeds",
        "epochs",
        "optimizer steps",
        "train s (mean)",
        f"dev {task} F1",
        f"test {task} F1",
        "test P / R",
        "commits",
    ]
    return f"**{dataset}: the same seeds at other budgets** (mean ± sd over the seeds)\n\n" + markdown_table(head, table)


def report_name(budget: str) -> str:
    """The Markdown/PNG stem of a budget's report: ``joint_spans`` for the default budget, else ``joint_spans_<budget>``."""
    return "joint_spans" if budget == "cpu-20ep" else f"joint_spans_{budget}"


def write_report(rows: list[dict[str, Any]], budget: str) -> None:
    from relx.data.readers.spert_types import symmetric_relations

    stem = report_name(budget)
    parts = [
        f"# Joint entity + relation extraction (two-phase paper), budget `{budget}`\n",
        f"Produced by `benchmarks/joint_spans.py --budget-name {budget}` (commands in its docstring); rows in `joint_spans.json`. "
        "Encoder: MiniLM-L6-H384 (uncased) for every relx row; the paper used bert-base-cased / SciBERT for 120 epochs.\n",
    ]
    for dataset in ("conll04", "scierc"):
        rs = [r for r in rows if r.get("dataset") == dataset and r.get("budget") == budget and "test" in r]
        if not rs:
            continue
        sym = symmetric_relations(ROOT / "data" / dataset / f"{dataset}_types.json.gz")
        text, pngs = buckets(rs, dataset, sym, stem.removeprefix("joint_spans"))
        parts += [main_table(rs, dataset), runs_table(rs, dataset), budgets_table(rows, dataset, budget), ablation_table(rs, dataset)]
        parts += [table6(rs, dataset)]
        parts += [bootstrap(rs, dataset, sym)]
        # every other row run with several seeds: against span_base and against two_phase
        multi = [m for m in ROW_ORDER[2:] if len({r["seed"] for r in rs if r["model"] == m}) > 1]
        parts += [bootstrap(rs, dataset, sym, m, b) for m in multi for b in ("span_base", "two_phase")]
        parts.append(text)
        parts += [f"![{p}]({p})" for p in pngs]
        text, pngs = curves(rs, dataset, stem.removeprefix("joint_spans"))
        parts += [text] + [f"![{p}]({p})" for p in pngs]
    parts.append(speed_table(rows))
    write_text(RESULTS / f"{stem}.md", "\n\n".join(p for p in parts if p) + "\n")
    print((RESULTS / f"{stem}.md").read_text())
