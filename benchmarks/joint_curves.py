"""Per-epoch curves of span_base vs two_phase on CoNLL04: dev strict RE and the same metric on 200 training sentences.

Under-fitting predicts two_phase lower on the training sentences too; a design (generalisation) problem predicts
similar training scores and lower dev. Runs go through the one run path (``run_experiment``) with
``trainer.train_eval_docs: 200`` (a fixed random sample of the training split, scored at every evaluation).

    python benchmarks/joint_curves.py --train --epochs 8 --threads 1      # both models, seed 13 (resumable)
    python benchmarks/joint_curves.py --train --epochs 8 --threads 1 --models "two_phase+slot_norm,two_phase w/o gated"
    python benchmarks/joint_curves.py --report --epochs 8                  # table + PNG from the saved histories
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, hardware, markdown_table  # noqa: E402

from relx.config import load_config  # noqa: E402

MODELS = ("span_base", "two_phase")
VARIANTS = {  # name -> (config under configs/conll04, extra settings)
    "span_base": ("span_base", []),
    "two_phase": ("two_phase", []),
    "two_phase+slot_norm": ("two_phase", ["model.slot_norm=true"]),
    "two_phase w/o gated": ("two_phase", ["model.gated=false"]),
}
RUNS = ROOT / "runs" / "curves"
METRIC = "re_strict_micro_f1"


def run_dir(name: str, epochs: int, seed: int) -> Path:
    return RUNS / f"{name.replace('+', '_').replace('w/o ', 'wo_').replace(' ', '_')}_e{epochs}_s{seed}"


def train(name: str, args: argparse.Namespace) -> None:
    from relx.training.run import run_experiment

    out = run_dir(name, args.epochs, args.seed)
    if (out / "result.json").is_file():
        print(f"{out}: done")
        return
    stem, extra = VARIANTS[name]
    sets = extra + [
        f"trainer.epochs={args.epochs}",
        f"trainer.num_threads={args.threads}",
        f"trainer.seed={args.seed}",
        f"trainer.train_eval_docs={args.train_eval_docs}",
    ]
    raw = load_config(ROOT / "configs" / "conll04" / f"{stem}.yaml", sets, strict_paths=True)
    run_experiment(raw, out, resume=(out / "last").is_dir())


def report(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves: dict[str, list[dict[str, Any]]] = {}
    for name in VARIANTS:
        path = run_dir(name, args.epochs, args.seed) / "history.json"
        if path.is_file():
            curves[name] = json.loads(path.read_text())
    rows = []
    for name, hist in curves.items():
        for epoch, h in enumerate(hist, 1):  # one evaluation per epoch
            rows.append(
                [
                    name,
                    epoch,
                    h["step"],
                    f"{100 * h['train_fit_ner_micro_f1']:.2f}",
                    f"{100 * h['ner_micro_f1']:.2f}",
                    f"{100 * h[f'train_fit_{METRIC}']:.2f}",
                    f"{100 * h[METRIC]:.2f}",
                    f"{h['train_loss']:.4f}",
                ]
            )
    tests = []
    for name in curves:
        res = json.loads((run_dir(name, args.epochs, args.seed) / "result.json").read_text())
        t = res["test"]
        tests.append(
            [name, f"{100 * res['best_dev']:.2f}"]
            + [f"{100 * t[k]:.2f}" for k in ("ner_micro_f1", "re_strict_micro_p", "re_strict_micro_r", "re_strict_micro_f1")]
            + [f"{res['train_seconds']:.0f}"]
        )
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, hist in curves.items():
        ep = list(range(1, len(hist) + 1))
        (line,) = ax.plot(ep, [100 * h[METRIC] for h in hist], marker="o", label=f"{name} dev")
        ax.plot(
            ep, [100 * h[f"train_fit_{METRIC}"] for h in hist], marker="s", ls="--", color=line.get_color(), label=f"{name} train (200)"
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("strict RE micro-F1 (%)")
    ax.set_title("CoNLL04: dev vs 200 training sentences")
    ax.legend()
    fig.tight_layout()
    png = RESULTS / "joint_curves_conll04.png"
    fig.savefig(png, dpi=110)
    md = [
        "# CoNLL04 learning curves: span_base vs two_phase",
        "",
        f"Produced by `benchmarks/joint_curves.py` (commands in its docstring): seed {args.seed}, {args.epochs} epochs, "
        f"MiniLM-L6-H384, batch 2, {hardware()} at report time (training: 1 thread). Strict RE micro-F1 (%) after each "
        "epoch on dev (231 sentences) and on 200 fixed training sentences (`trainer.train_eval_docs`).",
        "",
        markdown_table(["model", "epoch", "step", "train (200) NER", "dev NER", "train (200) RE", "dev RE", "train loss"], rows),
        "",
        "Test (288 sentences) with the best-dev epoch's weights:",
        "",
        markdown_table(["model", "best dev RE", "test NER", "test RE P", "test RE R", "test RE F1", "train s"], tests),
        "",
        f"![curves]({png.name})",
        "",
    ]
    (RESULTS / "joint_curves.md").write_text("\n".join(md))
    print("\n".join(md))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", action="store_true")
    p.add_argument("--report", action="store_true")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--train-eval-docs", type=int, default=200)
    args = p.parse_args()
    if args.train:
        for name in args.models.split(","):
            train(name, args)
    if args.report:
        report(args)


if __name__ == "__main__":
    main()
