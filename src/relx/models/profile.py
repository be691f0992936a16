"""The training profile: what raw-text extraction needs to know about the data a model was trained on."""

from __future__ import annotations

from relx.data.schema import Document


def training_profile(docs: list[Document], negative: str) -> dict:
    """What raw-text extraction needs to know about the training data: entity type counts, the
    (head type, tail type) pairs of non-negative relations, the negative label, and ``e1_first``
    (whether e1 precedes e2 in every two-entity document; None when there is none)."""
    from relx.data.labels import split_directed

    types: dict[str, int] = {}
    pairs: set[tuple[str, str]] = set()
    orders: set[bool] = set()
    for doc in docs:
        for e in doc.entities:
            types[e.label] = types.get(e.label, 0) + 1
        if len(doc.entities) == 2:
            orders.add(doc.entities[0].start < doc.entities[1].start)
        for r in doc.relations:
            if r.label == negative or not (0 <= r.head < len(doc.entities) and 0 <= r.tail < len(doc.entities)):
                continue
            head, tail = (r.tail, r.head) if split_directed(r.label)[1] else (r.head, r.tail)
            pairs.add((doc.entities[head].label, doc.entities[tail].label))
    return {
        "entity_types": dict(sorted(types.items())),
        "type_pairs": [list(p) for p in sorted(pairs)],
        "negative": negative,
        "e1_first": orders == {True} if orders else None,
        "documents": len(docs),
    }
