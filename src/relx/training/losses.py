"""Losses shared by model families: KD (KL with temperature), span boundary CE, class weights."""

from __future__ import annotations

from collections import Counter

import torch
import torch.nn.functional as F


def kd_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Hinton KD: T^2 * KL(softmax(teacher/T) || softmax(student/T)), batch mean. Teacher is detached."""
    t = temperature
    log_p_s = F.log_softmax(student_logits.float() / t, dim=-1)  # (B, C)
    p_t = F.softmax(teacher_logits.detach().float() / t, dim=-1)  # (B, C)
    return F.kl_div(log_p_s, p_t, reduction="batchmean") * (t * t)


KD_ANNEALS = ("down", "up", "none")


def kd_weight(fraction: float, anneal: str = "down", constant: float = 0.5) -> float:
    """Weight of the distillation terms in L = (1 - w) CE + w KD after ``fraction`` of the optimizer steps.

    ``down``: 1 -> 0 (teacher annealing of Clark et al. and the soft-label distillation authors' code:
    imitate the teacher early, the gold labels late); ``up``: 0 -> 1 (the paper's literal sentence);
    ``none``: ``constant`` throughout.
    """
    if anneal not in KD_ANNEALS:
        raise ValueError(f"kd_anneal must be one of {', '.join(KD_ANNEALS)}, got {anneal!r}")
    f = min(max(float(fraction), 0.0), 1.0)
    return 1.0 - f if anneal == "down" else f if anneal == "up" else float(constant)


def boundary_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """logits (B, K, T) over positions, targets (B, K) positions -> mean CE over the K boundaries."""
    b, k, t = logits.shape
    return F.cross_entropy(logits.float().reshape(b * k, t), targets.reshape(b * k))


def class_weights(label_ids: list[int], n_classes: int, power: float) -> torch.Tensor:
    """Cross-entropy class weights 1/N_i^power (0: none, 0.5: 1/sqrt(N_i), 1: 1/N_i), normalised to mean 1.

    Classes absent from ``label_ids`` get the largest weight.
    """
    if power == 0:
        return torch.ones(n_classes)
    counts = Counter(label_ids)
    w = torch.tensor([counts[c] ** -power if counts[c] else 0.0 for c in range(n_classes)])
    w[w == 0] = w.max() if w.max() > 0 else 1.0
    return w * (n_classes / w.sum())


KERNEL_NORMS = ("positives", "mask", "batch_positives", "batch_mask")


def kernel_bce(scores: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor, norm: str = "positives") -> torch.Tensor:
    """The kernel-matrix paper's loss (Eq. 8-10) over token-pair scores.

    scores (B, R, N, N) logits S_i; mask (B, N, N) M (token pairs inside some entity pair's block);
    labels (B, R, N, N) Y_i. Per sentence and relation i the BCE of every masked token pair is summed
    (X = P_i * M: outside M, X = 0 = Y and the term is log 1 = 0) and divided by ``norm``:
    ``positives`` = Eq. 9 as printed, sum over M of Y_i (the positive token pairs of relation i),
    clamped to 1 when the sentence has none; ``mask`` = the number of masked token pairs (a plain
    average). L = sum over relations (Eq. 10), then the mean over the sentences of the batch.
    ``batch_positives`` / ``batch_mask`` divide the batch's sums by the batch's total of the same
    denominators instead, so every token pair weighs the same whatever its sentence holds (per sentence,
    a cell of a sentence with 5 triples weighs about a fifth of a cell of a one-triple sentence); both
    equal their per-sentence forms on a batch of one sentence.
    """
    if norm not in KERNEL_NORMS:
        raise ValueError(f"kernel loss norm must be one of {', '.join(KERNEL_NORMS)}, got {norm!r}")
    m = mask.unsqueeze(1).to(scores.dtype)  # (B, 1, N, N)
    bce = F.binary_cross_entropy_with_logits(scores.float(), labels.float(), reduction="none") * m  # (B, R, N, N)
    total = bce.sum((-1, -2))  # (B, R)
    if norm.endswith("positives"):
        denom = (labels * m).sum((-1, -2)).clamp(min=1.0)  # (B, R)
    else:
        denom = m.sum((-1, -2)).clamp(min=1.0)  # (B, 1)
    if norm.startswith("batch"):  # (R,) batch sums: sum_b total / sum_b denom, per relation
        return (total.sum(0) / denom.sum(0)).sum()
    return (total / denom).sum(1).mean()


def tsd_loss(logits: torch.Tensor, k: int = 3) -> torch.Tensor:
    """Top score difference (soft-label distillation paper, Eq. 14): rho_1 - mean(rho_2..rho_K) of the
    softmax output, batch mean; smaller = confidence spread over a few secondary classes."""
    probs = torch.softmax(logits.float(), dim=-1)  # (B, C)
    top = probs.topk(min(k, probs.size(-1)), dim=-1).values  # (B, K)
    return (top[:, 0] - top[:, 1:].mean(-1)).mean() if top.size(-1) > 1 else top[:, 0].mean()


def binary_loss(logits: torch.Tensor, positive: torch.Tensor) -> torch.Tensor:
    """Eq. 11: BCE of two sigmoid outputs (positive / negative class) against the one-hot gold."""
    target = F.one_hot(positive.long(), 2).float()  # (N, 2): column 1 = Entity / Relation
    return F.binary_cross_entropy_with_logits(logits, target)
