"""``span_base``: the SpERT-style span model (the two-phase paper's ``base`` row, Table 7).

Span = [max-pooled span; CLS; width embedding] -> softmax over entity types + Not-Entity;
relation = [head; tail; max-pooled context] -> one sigmoid per relation type; candidates are the
predicted entities. Every two-phase switch off; the shared model is :mod:`relx.models.span`.
"""

from __future__ import annotations

from dataclasses import dataclass

from relx.models.base import register
from relx.models.span import SpanConfig, SpanJointModel


@dataclass
class SpanBaseConfig(SpanConfig):
    two_phase: bool = False
    bi_features: bool = False
    multi_features: bool = False
    gated: bool = False


@register("span_base")
class SpanBaseModel(SpanJointModel):
    """SpERT-style joint entity and relation extraction."""

    Config = SpanBaseConfig
