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
