"""``two_phase``: the two-phase span model with global features and gated fusion (Ji et al.).

Phase One: Entity / Not-Entity and Relation / Not-Relation (binary, BCE; relation tuples gated with
the entity-distance feature D). Phase Two: entity types and relation types (softmax, CE; relation
typing gated with the (head type, tail type, distance) feature C). Loss = sum of the four (Eq. 16).
Table 7 ablations are config switches: ``two_phase``, ``bi_features``, ``multi_features``, ``gated``.
The shared model is :mod:`relx.models.span`.
"""

from __future__ import annotations

from relx.models.base import register
from relx.models.span import SpanConfig, SpanJointModel

ABLATIONS: dict[str, dict[str, bool]] = {
    "two_phase": {},
    "w/o two-phase": {"two_phase": False},
    "w/o bi-features": {"bi_features": False},
    "w/o multi-features": {"multi_features": False},
    "w/o both-features": {"bi_features": False, "multi_features": False},
    "w/o gated": {"gated": False},
}
# relx design checks beside the paper's rows (not Table 7): where does two_phase lose relation recall?
VARIANTS: dict[str, dict[str, bool]] = {
    "reject-class": {"relation_reject": True},  # Phase Two may answer Not-Relation (typing with a reject class)
    "typed-phase-one": {"phase_one_types": True},  # Phase One conditioned on the (head type, tail type, distance) feature
}


@register("two_phase")
class TwoPhaseModel(SpanJointModel):
    """Two-phase span-based joint extraction (all paper components on by default)."""

    Config = SpanConfig
