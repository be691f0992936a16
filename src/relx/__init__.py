"""relx: supervised relation extraction — one schema, one trainer, one scorer, many paper methods.

Public API::

    import relx
    pipeline = relx.load("runs/demo/conll04/model")   # a joint model (`make demo`); or a built zoo name: relx.load("conll04")
    doc = pipeline("Bill Gates founded Microsoft in Albuquerque.")   # raw text: entities and relations
    doc.entities, doc.relations   # entities carry char_start / char_end into doc.meta["text"]

    pipeline = relx.load("runs/demo/semeval/model")   # a pair classifier (`make demo-semeval`)
    doc = pipeline("<e1>Bill Gates</e1> founded <e2>Microsoft</e2>.")
    doc.meta["pair_label"], doc.meta["pair_score"]
    relx.inference.extraction.extraction_view(doc)["relations"]   # [{"head_text", "label", "tail_text", "score", ...}]
    # relx.load(dir, threshold=0.5, candidates="auto" | "ner" | "noun_chunks"); list in -> list out
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["load", "Pipeline", "read", "score", "Document", "Entity", "Relation", "LabelSet"]


def __getattr__(name: str) -> Any:  # lazy imports keep `import relx` light
    if name in ("load", "Pipeline"):
        from relx.inference import pipeline

        return getattr(pipeline, name)
    if name == "read":
        from relx.data.io import read

        return read
    if name == "score":
        from relx.evaluation.scorer import score_documents

        return score_documents
    if name in ("Document", "Entity", "Relation"):
        from relx.data import schema

        return getattr(schema, name)
    if name == "LabelSet":
        from relx.data.labels import LabelSet

        return LabelSet
    raise AttributeError(name)
