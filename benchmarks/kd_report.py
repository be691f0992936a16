"""Markdown for benchmarks/kd.py, shaped like the soft-label distillation paper's Tables 2-4."""

from __future__ import annotations

import functools
from collections import defaultdict

from common import RESULTS, ROOT, markdown_table, mean_sd, write_text

from relx.config import load_config

NAMES = {"semeval": "SemEval-2010 Task 8 (official macro-F1)", "conll04_pairs": "CoNLL04 pairs (micro-F1, TACRED semantics)"}
MAIN = ("cgcn", "teacher_s", "teacher_v", "student_s", "student_v", "student_r")
ABL = ("student_r", "-TSD", "-hint", "-TSD&hint", "-TC", "-MAA", "-TC&MAA", "-KD")
PAPER_SEMEVAL = {"cgcn": 84.8, "teacher_s": 85.4, "teacher_v": 85.9, "student_s": 85.5, "student_v": 85.9, "student_r": 86.8}
PAPER_TACRED = {"cgcn": 66.4, "teacher_s": 67.9, "teacher_v": 68.7, "student_s": 68.1, "student_v": 68.8, "student_r": 69.6}
PAPER_T4 = {"student_r": 69.6, "-TSD": 68.8, "-hint": 68.4, "-TSD&hint": 67.9, "-TC": 68.0, "-MAA": 68.3, "-TC&MAA": 67.8, "-KD": 67.5}


_ms = functools.partial(mean_sd, scale=1)  # rows hold percentages


def main_metric(dataset: str) -> str:
    return "official_macro_f1" if dataset == "semeval" else "micro_f1"


def main_table(rows: list[dict], dataset: str, per_epoch: float | None = None) -> str:
    """Tables 2-3 shape; ``per_epoch``: optimizer steps per epoch of the dataset (rows made before steps were
    recorded show epochs x per_epoch)."""
    by = defaultdict(list)
    for r in rows:
        if "kind" not in r:
            by[r["model"]].append(r)
    key = main_metric(dataset)
    out = []
    extra = (("-KD",) if len(by.get("-KD", [])) > 1 else ()) + (("student_r[gamma U]",) if by.get("student_r[gamma U]") else ())
    for m in MAIN + extra:  # "-KD" with its seeds: the MAA claim's row
        rs = by.get(m, [])
        if not rs:
            continue
        steps = sorted({r.get("steps") or (round(r["epochs"] * per_epoch) if per_epoch else "-") for r in rs}, key=str)
        out.append(
            [
                m,
                len(rs),
                _ms([r["micro_p"] for r in rs]),
                _ms([r["micro_r"] for r in rs]),
                _ms([r["micro_f1"] for r in rs]),
                _ms([r[key] for r in rs]) if key != "micro_f1" else "",
                ", ".join(map(str, steps)),
                _ms([r["sec_per_epoch"] for r in rs]),
                PAPER_SEMEVAL.get(m, "-"),
                PAPER_TACRED.get(m, PAPER_T4.get(m, "-")),
            ]
        )
    header = [
        "model",
        "seeds",
        "micro P",
        "micro R",
        "micro F1",
        "official macro-F1" if key != "micro_f1" else "",
        "optimizer steps",
        "s / epoch (incl. dev)",
        "paper SemEval F1",
        "paper TACRED F1",
    ]
    keep = [i for i, h in enumerate(header) if h]
    return markdown_table([header[i] for i in keep], [[line[i] for i in keep] for line in out])


def ablation_table(rows: list[dict], dataset: str) -> str:
    key = main_metric(dataset)
    by = {r["model"]: r for r in rows if "kind" not in r and r["seed"] == 13}
    base = by.get("student_r", {}).get(key)
    out = []
    for m in ABL:
        if m not in by:
            out.append([m, "-", "-", PAPER_T4[m]])
            continue
        v = by[m][key]
        out.append([m, f"{v:.2f}", f"{v - base:+.2f}" if base is not None and m != "student_r" else "", PAPER_T4[m]])
    return markdown_table(["Student-R", f"{key} (seed 13)", "change", "paper (TACRED Table 4)"], out)


def bootstrap_lines(rows: list[dict]) -> str:
    boots = [r for r in rows if r.get("kind") == "bootstrap"]
    if not boots:
        return "(needs two rows of the same seed with their test predictions)\n"
    return "".join(
        f"- {b.get('a', 'student_r')} vs {b.get('b', 'cgcn')}, seed {b['seed']}"
        f"{' (' + ', '.join(map(str, b['seeds'])) + ', the seeds mean)' if 'seeds' in b else ''}: "
        f"{100 * b['metric_a']:.2f} vs {100 * b['metric_b']:.2f} ({b['metric']}), "
        f"difference {100 * b['diff']:+.2f} (95% CI {100 * b['ci_low']:+.2f} .. {100 * b['ci_high']:+.2f}), "
        f"p = {b['p_value']:.3f}\n"
        for b in sorted(boots, key=lambda b: (b.get("a", "student_r"), b.get("b", "cgcn"), str(b["seed"])))
    )


def target_lines(rows: list[dict]) -> str:
    """The paper's claims on the seeds' mean (pooled bootstrap rows): A > B at p < 0.05, met or missed."""
    out = []
    for b in sorted((r for r in rows if r.get("kind") == "bootstrap" and r.get("seed") == "pooled"), key=lambda b: (b["a"], b["b"])):
        met = b["diff"] > 0 and b["p_value"] < 0.05
        out.append(
            f"- target {b['a']} > {b['b']} (p < 0.05, seeds {', '.join(map(str, b['seeds']))}): {'met' if met else 'missed'} "
            f"({100 * b['metric_a']:.2f} vs {100 * b['metric_b']:.2f}, p = {b['p_value']:.3f})\n"
        )
    return "".join(out)


def teacher_info(row: dict, rows: list[dict]) -> dict:
    """``row``'s teacher stage; a teacher loaded from another row's run (``{"loaded": path}``) gets that row's record:
    a teacher row's own dev score and step, or the teacher stage another student row trained, plus ``from_row``."""
    t = dict(row.get("teacher") or {})
    path = str(t.get("loaded") or "")
    for r in rows if path else []:
        if "kind" in r or (r.get("dataset"), r.get("budget"), r.get("seed")) != (row.get("dataset"), row.get("budget"), row.get("seed")):
            continue
        if path.endswith(f"{r['run_dir']}/model") and r["model"].startswith("teacher"):
            src = {"type": r["model"], "best_dev": r["best_dev"], "best_step": r["best_step"], "epochs_run": r.get("epochs")}
        elif path.endswith(f"{r['run_dir']}/teacher/model") and r.get("teacher"):
            src = {k: v for k, v in r["teacher"].items() if k != "saved"}
        else:
            continue
        return {**src, **t, "from_row": r["model"]}
    return t


def teacher_lines(rows: list[dict]) -> str:
    """Each student's teacher (its stage's dev score and step; a reused teacher's from the row that trained it) beside
    the same seed's cgcn best dev."""
    cgcn = {r["seed"]: r for r in rows if "kind" not in r and r["model"] == "cgcn"}
    out = []
    for r in sorted((r for r in rows if "kind" not in r and r.get("teacher")), key=lambda r: (r["model"], r["seed"])):
        t = teacher_info(r, rows)
        dev = t.get("best_dev") if t.get("best_dev") is not None else t.get("final_dev")
        how = "best" if t.get("best_dev") is not None else "final weights" if dev is not None else "not scored"
        c = cgcn.get(r["seed"])
        t_dev = "-" if dev is None else f"{100 * dev:.2f}"
        c_dev = "-" if c is None else f"{100 * c['best_dev']:.2f}"
        anneal = f"; kd_anneal {r['kd_anneal']}" if r.get("kd_anneal") else ""
        name = t.get("type", t.get("loaded", "?")) + (f" (trained by the {t['from_row']} row)" if t.get("from_row") else "")
        stage = t.get("trainer") or {}
        budget = (
            f" of {t['epochs_run']} epochs run, at most {stage['epochs']}, patience {stage.get('patience')}" if stage.get("epochs") else ""
        )
        out.append(
            f"- {r['model']} seed {r['seed']}: teacher {name} dev {t_dev} ({how}, step {t.get('best_step') or t.get('final_step') or '-'}"
            f"{budget}); cgcn dev {c_dev}{anneal}\n"
        )
    return "".join(out) or "(no student rows with a teacher stage)\n"


def rules_line(dataset: str) -> str:
    """How informative the soft type rules are: patterns and the share of relations under the largest one."""
    from relx.data.io import read
    from relx.data.labels import LabelSet
    from relx.rules.soft import SoftRules

    raw = load_config(ROOT / "configs" / dataset / "cgcn.yaml")["data"]
    docs = list(read(ROOT / raw["train"], raw["format"]))
    rules = SoftRules.from_documents(docs, LabelSet.from_documents(docs, negative=raw.get("negative", "no_relation")))
    support = {p: sum(c.values()) for p, c in rules.counts.items()}
    total = sum(support.values()) or 1
    top = max(support, key=support.get)
    sharp = sum(
        v for p, v in support.items() if v and max(rules.row(p)[i] for i, lab in enumerate(rules.labels) if lab != rules.negative) >= 0.99
    )
    return (
        f"{len(rules.counts)} patterns; the largest, {top}, holds {100 * support[top] / total:.1f}% of the training relations; "
        f"{100 * sharp / total:.1f}% of the relations fall under patterns that name a single relation (P(r|p) = 1).\n"
    )


def write_report(rows_by_dataset: dict[str, list[dict]]) -> None:
    parts = [
        "# Soft-label distillation: C-GCN, teachers with soft type rules, distilled students\n",
        "Produced by `benchmarks/kd.py` (commands in its docstring). CPU runs; word vectors = the MiniLM input table "
        "(the paper: GloVe 300d), trees / POS / NER from spaCy (the paper: Stanford CoreNLP). Main rows: mean ± sd over "
        "seeds; ablations: 1 seed (13) on CPU. The paper's numbers are TACRED / SemEval with its own budget.\n",
    ]
    for dataset, rows in rows_by_dataset.items():
        if not rows:
            continue
        speed = [r for r in rows if r.get("kind") == "speed"]
        parts += [f"## {NAMES[dataset]}\n", "Soft rules: " + rules_line(dataset)]
        for budget in sorted({r["budget"] for r in rows if "kind" not in r}):
            rs = [r for r in rows if r.get("budget") == budget]
            runs = [r for r in rs if "kind" not in r]
            epochs = sorted({r["epochs"] for r in runs})
            threads = sorted({r["threads"] for r in runs})
            parts += [
                f"### Budget `{budget}`: {'/'.join(map(str, epochs))} epochs, {'/'.join(map(str, threads))} torch thread(s) per run, "
                f"{runs[0]['hardware'].split(':')[0]}\n",
                "#### Main rows (Tables 2-3 shape)\n",
                main_table(rs, dataset, next((r["steps"] / r["epochs"] for r in rows if r.get("steps")), None)),
                "#### Student-R ablations (Table 4 shape)\n",
                ablation_table(rs, dataset),
                "#### Teachers (dev score of the weights the student learned from) vs cgcn dev\n",
                teacher_lines(rs),
                "#### Paired bootstrap (1,000 resamples of the test set): KD claim student_r vs -KD, MAA claim -KD vs cgcn\n",
                bootstrap_lines(rs) + target_lines(rs),
            ]
        if speed:
            parts.append(
                "".join(
                    f"cgcn training: {s['sec_per_epoch']} s per SemEval epoch ({s['train_documents']} sentences, no dev "
                    f"evaluation), {s['hardware']}. {s.get('note') or ''}\n"
                    for s in speed
                )
            )
    write_text(RESULTS / "kd.md", "\n".join(parts))
