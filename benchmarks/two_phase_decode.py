"""Decode-only variants of saved joint span models (no training): how much of two_phase's gap to span_base is
the relation decision rule, and how much is entity recognition.

For each saved model the CoNLL04 dev set picks the threshold of each rule (grid 0.1 .. 0.9); test is scored once
per variant, with distance buckets (tokens between the two arguments). Variants (settings of the span models):

- ``binary``: the paper's Phase One rule, p(Relation) > p(Not-Relation) (two_phase default);
- ``threshold``: p(Relation) >= t; ``product``: p(Relation) x p(type) >= t (t chosen on dev);
- ``+signature``: relation types whose (head type, tail type) never occur in training are not offered to typing;
- ``given entities``: relations decoded between the gold entities (isolates the relation decision from NER);
- models trained with ``relation_reject`` (Phase Two with a Not-Relation class): also ``Phase Two alone``, where
  Phase One keeps every tuple (threshold 0 on p(Relation)) and the reject class alone decides.

span_base rows use its own per-type sigmoid threshold (``rel_threshold``, SpERT's 0.4), with and without the
signature filter and with given entities.

    python benchmarks/two_phase_decode.py --model two_phase=runs/curves/two_phase_e8_s13/model \
        --model span_base=runs/curves/span_base_e8_s13/model --threads 1 --overlapping-entities

(the committed rows were decoded with overlapping entity spans allowed, as span models decoded before
``overlapping_entities`` existed; drop the flag for today's default, non-overlapping entities).
The 20-epoch seed-13 models of ``joint_spans.py --budget-name cpu-20ep-v2``, today's decoding:

    python benchmarks/two_phase_decode.py --model two_phase=runs/joint_spans/cpu-20ep-v2/conll04/two_phase_s13/model \
        --model span_base=runs/joint_spans/cpu-20ep-v2/conll04/span_base_s13/model --threads 1 \
        --out benchmarks/results/two_phase_decode_v2

The ``reject-class`` rows of the same budget (seed 13):

    python benchmarks/two_phase_decode.py --model reject-class=runs/joint_spans/cpu-20ep-v2/conll04/reject_class_s13/model \
        --threads 1 --out benchmarks/results/two_phase_decode_reject
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, hardware, markdown_table, write_json, write_text  # noqa: E402

from relx.data.io import read  # noqa: E402
from relx.data.readers.spert_types import symmetric_relations  # noqa: E402
from relx.data.schema import Document  # noqa: E402
from relx.evaluation.analysis import re_f1_by_distance  # noqa: E402
from relx.evaluation.scorer import score_joint  # noqa: E402
from relx.models.loading import load_model  # noqa: E402

GRID = [round(0.1 * k, 1) for k in range(1, 10)]
KEYS = ("ner_micro_f1", "re_strict_micro_p", "re_strict_micro_r", "re_strict_micro_f1")


def score(model: Any, docs: list[Document], symmetric: set[str], **settings: Any) -> tuple[dict, list[Document]]:
    """Predict ``docs`` with the model's config temporarily changed by ``settings``; joint scores and predictions."""
    old = {k: getattr(model.config, k) for k in settings}
    for k, v in settings.items():
        setattr(model.config, k, v)
    try:
        preds = model.predict(docs, batch_size=32)
    finally:
        for k, v in old.items():
            setattr(model.config, k, v)
    return score_joint(docs, preds, symmetric=symmetric), preds


def pick_on_dev(model: Any, dev: list[Document], symmetric: set[str], key: str, **fixed: Any) -> tuple[float, float]:
    """The grid value of ``key`` with the best dev strict RE micro-F1 (ties: the smaller value)."""
    best = max(GRID, key=lambda t: (round(score(model, dev, symmetric, **{key: t}, **fixed)[0]["re_strict_micro_f1"], 6), -t))
    return best, score(model, dev, symmetric, **{key: best}, **fixed)[0]["re_strict_micro_f1"]


def variants(model: Any, dev: list[Document], symmetric: set[str]) -> list[tuple[str, dict, float | None]]:
    """(name, settings, dev strict RE F1 at the chosen threshold) for one model; thresholds picked on dev."""
    out: list[tuple[str, dict, float | None]] = []
    if model.config.two_phase:
        out.append(("binary (paper)", {"relation_rule": "binary", "type_signature": False}, None))
        for rule in ("threshold", "product"):
            t, f1 = pick_on_dev(model, dev, symmetric, "relation_threshold", relation_rule=rule, type_signature=False)
            out.append((f"{rule} t={t}", {"relation_rule": rule, "relation_threshold": t, "type_signature": False}, f1))
        best = max(out[1:], key=lambda v: v[2] or 0)[1]
        out.append(("binary +signature", {"relation_rule": "binary", "type_signature": True}, None))
        if getattr(model.config, "relation_reject", False):  # Phase One keeps everything; the reject class decides
            alone = {"relation_rule": "threshold", "relation_threshold": 0.0, "type_signature": True}
            out.append(("Phase Two alone +signature", alone, None))
            out.append(("Phase Two alone, given entities", {**alone, "entities": "given", "type_signature": False}, None))
        out.append((f"{best['relation_rule']} t={best['relation_threshold']} +signature", {**best, "type_signature": True}, None))
        out.append(("binary, given entities", {"relation_rule": "binary", "entities": "given", "type_signature": False}, None))
        out.append(
            (
                f"{best['relation_rule']} t={best['relation_threshold']}, given entities",
                {**best, "entities": "given", "type_signature": False},
                None,
            )
        )
    else:
        out.append((f"sigmoid t={model.config.rel_threshold} (SpERT)", {"type_signature": False}, None))
        t, f1 = pick_on_dev(model, dev, symmetric, "rel_threshold", type_signature=False)
        out.append((f"sigmoid t={t}", {"rel_threshold": t, "type_signature": False}, f1))
        out.append(("SpERT +signature", {"type_signature": True}, None))
        out.append(("SpERT, given entities", {"entities": "given", "type_signature": False}, None))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", action="append", required=True, help="NAME=DIR of a saved span model (repeat)")
    p.add_argument("--dataset", default="conll04")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--overlapping-entities", action="store_true", help="decode with overlapping entity spans allowed")
    p.add_argument("--out", default=str(RESULTS / "two_phase_decode"))
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    data = ROOT / "data" / args.dataset
    dev = read(data / f"{args.dataset}_dev.json.gz", "spert")
    test = read(data / f"{args.dataset}_test.json.gz", "spert")
    symmetric = symmetric_relations(data / f"{args.dataset}_types.json.gz")
    rows: list[dict[str, Any]] = []
    for spec in args.model:
        name, _, directory = spec.partition("=")
        model = load_model(directory)
        model.config.overlapping_entities = args.overlapping_entities
        for variant, settings, _ in variants(model, dev, symmetric):
            t0 = time.perf_counter()
            dev_m = score(model, dev, symmetric, **settings)[0]
            test_m, preds = score(model, test, symmetric, **settings)
            buckets = {r["bucket"]: round(100 * r["f1"], 2) for r in re_f1_by_distance(test, preds, symmetric=symmetric)}
            rows.append(
                {
                    "model": name,
                    "directory": directory,
                    "variant": variant,
                    "settings": settings,
                    "dev_re_strict_micro_f1": round(100 * dev_m["re_strict_micro_f1"], 2),
                    **{f"test_{k}": round(100 * test_m[k], 2) for k in KEYS},
                    "test_distance_f1": buckets,
                    "seconds": round(time.perf_counter() - t0, 1),
                }
            )
            print(f"{name:10s} {variant:40s} dev {rows[-1]['dev_re_strict_micro_f1']:6.2f} test {rows[-1]['test_re_strict_micro_f1']:6.2f}")
    out = Path(args.out)
    write_json(out.with_suffix(".json"), {"hardware": hardware(), "rows": rows}, indent=1)
    bucket_names = list(rows[0]["test_distance_f1"])
    head = ["model", "variant", "dev RE", "test NER", "test RE P", "test RE R", "test RE F1", *[f"d {b}" for b in bucket_names]]
    body = [
        [
            r["model"],
            r["variant"],
            f"{r['dev_re_strict_micro_f1']:.2f}",
            *[f"{r[f'test_{k}']:.2f}" for k in KEYS],
            *[f"{r['test_distance_f1'].get(b, 0.0):.2f}" for b in bucket_names],
        ]
        for r in rows
    ]
    md = [
        f"# Decode-only variants of saved span models ({args.dataset})",
        "",
        "Produced by `benchmarks/two_phase_decode.py` (command in its docstring); no training. Strict RE micro-F1 (%);",
        "thresholds chosen on dev; `d a-b`: test strict RE F1 by tokens between the two arguments. Models:",
        *[f"- {s}" for s in args.model],
        f"Entity decoding: {'overlapping spans allowed' if args.overlapping_entities else 'non-overlapping (the default)'}.",
        "",
        markdown_table(head, body),
        "",
    ]
    write_text(out.with_suffix(".md"), "\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
