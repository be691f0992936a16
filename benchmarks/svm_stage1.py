"""Two-stage SVM, stage 1 (relation vs negative): does it ever predict the negative class, and what decides it?

For each dataset the shipped ``svm2stage`` config is trained (C per stage chosen on dev from its ``c_grid``; test
never looked at) in four variants: the shipped class weighting, ``class_weight_detect: balanced``, and each of
them with the stage-1 margin also chosen on dev (``margin_grid``). Reported per variant: the chosen (C1, C2,
margin), stage 1's P/R/F1 for the negative class on dev and test (with how many negatives it predicts), and the
end-to-end test metric the config selects on.

Datasets: SemEval-2010 Task 8 (bundled spaCy-annotated copy, 17% negatives ``Other``, dev = 800 training
sentences), CoNLL04 pairs (every ordered gold-entity pair, 89% ``no_relation``, official dev) and, with
``--tacred-format``, SemEval converted to TACRED JSON by ``relx data annotate`` (cached under runs/).

    python benchmarks/svm_stage1.py                       # semeval, conll04_pairs
    python benchmarks/svm_stage1.py --tacred-format       # + the TACRED-format copy
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, markdown_table  # noqa: E402

from relx.config import load_config  # noqa: E402
from relx.training.run import run_experiment  # noqa: E402

MARGINS = [0.0, -1.0, -0.75, -0.5, -0.25, 0.25, 0.5, 0.75, 1.0]
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "balanced": {"class_weight_detect": "balanced"},
    "shipped + margin on dev": {"margin_grid": MARGINS},
    "balanced + margin on dev": {"class_weight_detect": "balanced", "margin_grid": MARGINS},
}


def datasets(args: argparse.Namespace) -> dict[str, dict]:
    out = {
        "semeval": load_config(ROOT / "configs" / "semeval" / "svm2stage.yaml", strict_paths=True),
        "conll04_pairs": load_config(ROOT / "configs" / "semeval" / "svm2stage.yaml", strict_paths=True),
    }
    pairs = load_config(ROOT / "configs" / "conll04_pairs" / "_annotated.yaml", strict_paths=True)
    out["conll04_pairs"]["data"] = pairs["data"]
    out["conll04_pairs"]["evaluation"] = pairs["evaluation"]
    if args.tacred_format:
        from classic import tacred_format_files

        train, test = tacred_format_files(ROOT / "runs" / "classic" / "tacred_format")
        raw = load_config(ROOT / "configs" / "semeval" / "svm2stage.yaml", strict_paths=True)
        raw["data"].update({"train": str(train), "test": str(test), "format": "tacred"})
        out["semeval (TACRED format)"] = raw
    return out


def stage1(model: Any, docs: list) -> dict[str, Any]:
    """Stage 1's negative-class row on ``docs`` (P/R/F1 in %, support, negatives predicted)."""
    table = model.stage_reports(docs)["binary"]
    neg = table["classes"][model.labels.negative]
    return {
        "p": round(100 * neg["p"], 2),
        "r": round(100 * neg["r"], 2),
        "f1": round(100 * neg["f1"], 2),
        "support": neg["support"],
        "predicted": table["predicted_negative"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tacred-format", action="store_true")
    args = p.parse_args()
    rows = []
    for name, base in datasets(args).items():
        for variant, overrides in VARIANTS.items():
            raw = json.loads(json.dumps(base))
            raw["model"].update(overrides)
            t0 = time.perf_counter()
            res = run_experiment(raw, ROOT / "runs" / "svm_stage1" / name.replace(" ", "_") / variant.replace(" ", "_"), verbose=False)
            cfg, metric = res.model.config, res.config.evaluation.metric
            rows.append(
                {
                    "dataset": name,
                    "variant": variant,
                    "c_detect": cfg.c_detect,
                    "c_classify": cfg.c_classify,
                    "detect_margin": cfg.detect_margin,
                    "dev_stage1_negative": stage1(res.model, res.dev),
                    "test_stage1_negative": stage1(res.model, res.test),
                    "metric": metric,
                    "test_metric": round(100 * res.metrics[metric], 2),
                    "dev_metric": round(100 * res.summary["best_dev"], 2),
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
            r = rows[-1]
            print(f"{name:24s} {variant:26s} test {metric} {r['test_metric']:.2f}  stage-1 negatives {r['test_stage1_negative']}")
    (RESULTS / "svm_stage1.json").write_text(json.dumps(rows, indent=1) + "\n")
    head = [
        "dataset",
        "variant",
        "C1",
        "C2",
        "margin",
        "dev neg P/R",
        "test neg P/R/F1",
        "neg predicted / gold",
        "dev metric",
        "test metric",
    ]
    body = [
        [
            r["dataset"],
            r["variant"],
            r["c_detect"],
            r["c_classify"],
            r["detect_margin"],
            f"{r['dev_stage1_negative']['p']:.1f} / {r['dev_stage1_negative']['r']:.1f}",
            f"{r['test_stage1_negative']['p']:.1f} / {r['test_stage1_negative']['r']:.1f} / {r['test_stage1_negative']['f1']:.1f}",
            f"{r['test_stage1_negative']['predicted']} / {r['test_stage1_negative']['support']}",
            f"{r['dev_metric']:.2f}",
            f"{r['test_metric']:.2f} ({r['metric']})",
        ]
        for r in rows
    ]
    md = [
        "# Two-stage SVM: stage 1 and the negative class",
        "",
        "Produced by `benchmarks/svm_stage1.py` (commands in its docstring; CPU, seconds per row). Stage 1 = relation vs",
        "negative; its negative-class precision / recall (%) and how many test items it calls negative. C1, C2 and (in",
        "the `margin on dev` rows) the stage-1 margin are chosen jointly on dev by the end-to-end metric; test is scored once.",
        "",
        markdown_table(head, body),
        "",
    ]
    (RESULTS / "svm_stage1.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
