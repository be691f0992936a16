"""Decision and sampling rules of the span models (:mod:`relx.models.span`) that are settings, not layers.

- :func:`reverse_of_symmetric`: SpERT never samples the reverse of a gold relation of a symmetric type as a
  negative (``<b, a>`` is not "unrelated" when ``Conjunction(a, b)`` is gold);
- :func:`phase_one_keep`: which relation tuples Phase One of ``two_phase`` passes to typing
  (``relation_rule``: the paper's ``binary`` p(Relation) > p(Not-Relation), an absolute ``threshold`` on
  p(Relation), or a threshold on the ``product`` p(Relation) x p(type));
- :func:`signature_table` / :func:`signature_mask`: relation types allowed for a (head type, tail type)
  pair, counted on the training data (``type_signature``).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

RELATION_RULES = ("binary", "threshold", "product")


def reverse_of_symmetric(target: torch.Tensor, symmetric: list[int], n_entities: int) -> torch.Tensor:
    """Ordered pairs whose reverse carries a gold relation of a symmetric type.

    target: (B, E*E, n_rel) multi-hot gold over ordered pairs (index head * E + tail); symmetric: relation
    type ids. Returns (B, E*E) bool.
    """
    b = target.size(0)
    if not symmetric:
        return torch.zeros(b, target.size(1), dtype=torch.bool, device=target.device)
    gold = target[..., symmetric].sum(-1) > 0  # (B, E*E)
    return gold.view(b, n_entities, n_entities).transpose(1, 2).reshape(b, -1)  # (B, E*E): pair (t, h) of gold (h, t)


def phase_one_keep(p_rel: torch.Tensor, p_type: torch.Tensor, rule: str, threshold: float) -> torch.Tensor:
    """Phase One's accept decision. p_rel: (B, P, 2) sigmoids [Not-Relation, Relation]; p_type: (B, P)
    probability of the chosen type. Returns (B, P) bool."""
    if rule == "binary":
        return p_rel[..., 1] > p_rel[..., 0]
    if rule == "threshold":
        return p_rel[..., 1] >= threshold
    if rule == "product":
        return p_rel[..., 1] * p_type >= threshold
    raise ValueError(f"relation_rule must be one of {', '.join(RELATION_RULES)}; got {rule!r}")


def signature_table(triples: Iterable[tuple[str, str, str]], entity_types: list[str], relation_types: list[str]) -> list[list[list[bool]]]:
    """(head type, relation type, tail type) triples seen in training -> nested [head][tail][relation] booleans."""
    seen = set(triples)
    return [[[(h, r, t) in seen for r in relation_types] for t in entity_types] for h in entity_types]


def signature_mask(table: torch.Tensor, head_type: torch.Tensor, tail_type: torch.Tensor) -> torch.Tensor:
    """table: (T, T, n_rel) bool; head_type / tail_type: (B, P) entity type ids. Returns (B, P, n_rel) bool."""
    return table[head_type, tail_type]
