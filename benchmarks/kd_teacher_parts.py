"""What a saved teacher hands its students, scored on a split: its local head F(h_base) alone, its inference logits
(local + Gamma row of the locally predicted relation, what ``predict`` returns) and the soft-label logits a student
distils (local + Gamma row of the gold relation). Micro P/R/F1 over the non-negative labels (TACRED semantics), the
share of pairs each part assigns the negative label, and the soft labels' mean probability on the gold label.

    python benchmarks/kd_teacher_parts.py --threads 1 --out benchmarks/results/kd_teacher_parts_conll04 \\
        --data data/conll04_pairs_annotated/dev.jsonl.gz \\
        --teacher teacher_r=runs/kd/cpu-3ep-v2/conll04_pairs/student_r_s13/teacher/model \\
        --teacher "teacher_r (-TSD)=runs/kd/cpu-3ep-v2/conll04_pairs/wo_TSD_s13/teacher/model"

Writes ``<out>.json`` and ``<out>.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, code_commit, markdown_table, write_json, write_text  # noqa: E402

from relx.data.schema import read_jsonl  # noqa: E402
from relx.evaluation.metrics import prf  # noqa: E402
from relx.models.loading import load_model  # noqa: E402

PARTS = ("local head", "inference (Gamma of the predicted relation)", "soft labels (Gamma of the gold relation)")


@torch.inference_mode()
def score(model_dir: str, docs: list) -> dict:
    """Each part's micro P/R/F1, negative share and (soft labels) mean gold probability on ``docs``."""
    teacher = load_model(model_dir, device="cpu")
    if not hasattr(teacher, "parts"):
        raise SystemExit(f"{model_dir}: a {teacher.registered_name}, not a teacher model")
    teacher.eval()
    feats = teacher.featurize_many(docs)
    preds: dict[str, list[torch.Tensor]] = {p: [] for p in PARTS}
    gold, gold_prob = [], []
    for s in range(0, len(feats), 256):
        batch = teacher.collate(feats[s : s + 256])
        local, glob_pred = teacher.parts(batch, use_gold=False)  # (B, C) each
        glob_gold = teacher.global_logits(local, batch, use_gold=True)  # (B, C), the encoder runs once
        soft = local + glob_gold  # (B, C)
        preds[PARTS[0]].append(local.argmax(-1))
        preds[PARTS[1]].append((local + glob_pred).argmax(-1))
        preds[PARTS[2]].append(soft.argmax(-1))
        gold.append(batch["labels"])
        gold_prob.append(soft.softmax(-1).gather(1, batch["labels"][:, None])[:, 0])  # (B,)
    y = torch.cat(gold)  # (N,) id 0 = the negative label
    out = {"model": model_dir, "pairs": len(y), "gold_positive": int((y != 0).sum())}
    for part, chunks in preds.items():
        p = torch.cat(chunks)  # (N,)
        tp, predicted = int(((p == y) & (y != 0)).sum()), int((p != 0).sum())
        prec, rec, f1 = prf(tp, predicted, out["gold_positive"])
        out[part] = {
            "p": round(100 * prec, 2),
            "r": round(100 * rec, 2),
            "f1": round(100 * f1, 2),
            "negative_share": round(100 * float((p == 0).float().mean()), 2),
        }
    out["soft_gold_prob"] = round(float(torch.cat(gold_prob).mean()), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--teacher", action="append", required=True, help="NAME=saved teacher directory (repeatable)")
    ap.add_argument("--data", required=True, help="JSONL(.gz) pair documents with dependency trees")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", required=True, help="output stem: <out>.json and <out>.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    docs = list(read_jsonl(args.data))
    rows = []
    for spec in args.teacher:
        name, sep, path = spec.partition("=")
        if not sep:
            raise SystemExit(f"--teacher {spec!r}: expected NAME=DIRECTORY")
        rows.append({"name": name, **score(path, docs)})
    data = str(Path(args.data).resolve().relative_to(ROOT)) if Path(args.data).resolve().is_relative_to(ROOT) else args.data
    write_json(Path(f"{args.out}.json"), {"data": data, "commit": code_commit(), "rows": rows})
    table = markdown_table(
        ["teacher", "part", "micro P", "micro R", "micro F1", "pairs labelled negative (%)"],
        [[r["name"], part, r[part]["p"], r[part]["r"], r[part]["f1"], r[part]["negative_share"]] for r in rows for part in PARTS],
    )
    gold = "".join(f"- {r['name']}: soft labels' mean probability on the gold label {r['soft_gold_prob']:.3f}\n" for r in rows)
    n_neg = rows[0]["pairs"] - rows[0]["gold_positive"]
    write_text(
        Path(f"{args.out}.md"),
        f"# What the teachers hand their students: `{data}`\n\nProduced by `benchmarks/kd_teacher_parts.py` "
        f"({rows[0]['pairs']} pairs, {n_neg} of them negative ({100 * n_neg / rows[0]['pairs']:.1f}%)), commit {code_commit()}.\n\n"
        + table
        + "\n"
        + gold,
    )
    print(table + gold)


if __name__ == "__main__":
    main()
