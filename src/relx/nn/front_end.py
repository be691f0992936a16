"""MarkerFrontEnd: one transformer front end for every sentence-level pair model.

Owns the tokenizer, entity-marker insertion (``plain`` ``[E1]..[/E1]``, ``typed`` ``[S:PER]..``,
``punct`` ``@ .. @``, ``typed_punct`` ``@ * person * .. @``, or ``none``: no markers, the entity
start tokens are read), truncation that keeps both entities inside ``max_length``, featurize /
collate and optional layer taps (the model saves the encoder config + tokenizer). ``forward`` returns
a :class:`FrontEndOutput` whose first three fields are ``(states, anchors, bounds)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import torch
from torch import nn

from relx.data.schema import Document
from relx.errors import RelxInputError
from relx.nn.encoder import load_hf_encoder
from relx.nn.markers import insert_markers, keep_window, marker_words, type_token
from relx.nn.sequence import length_mask, pad_ids


class FrontEndOutput(NamedTuple):
    states: torch.Tensor  # (B, T, H) top-layer token states
    anchors: torch.Tensor  # (B, 2) positions of the subject / object anchor tokens
    bounds: torch.Tensor  # (B, 4) first / last subword of subject and object
    mask: torch.Tensor  # (B, T) 1 on real tokens
    layers: tuple | None  # all hidden states (embeddings first) when taps were asked for


class MarkerFrontEnd(nn.Module):
    """Marked (subject, object) sentence -> transformer states + anchor and boundary positions."""

    def __init__(
        self,
        encoder: nn.Module,
        tokenizer: Any,
        marker_style: str,
        max_length: int,
        prefix_ids: list[int],
        suffix_ids: list[int],
        pad_id: int,
    ):
        super().__init__()
        marker_words(marker_style, "S", "X")  # validates the style
        self.encoder, self.tokenizer = encoder, tokenizer
        self.style, self.max_length = marker_style, max_length
        self.prefix_ids, self.suffix_ids, self.pad_id = list(prefix_ids), list(suffix_ids), pad_id
        self.entity_types: list[str] = []
        self.hidden_size: int = encoder.config.hidden_size
        self.n_layers: int = encoder.config.num_hidden_layers
        self.add_marker_tokens()

    @classmethod
    def bert(cls, name: str, marker_style: str, max_length: int, saved: Path | None = None) -> MarkerFrontEnd:
        """A BERT-style encoder (``[CLS] .. [SEP]``): pretrained from ``name``, or untrained from a saved ``encoder/``."""
        model, tok = load_hf_encoder(name, saved)
        return cls(model, tok, marker_style, max_length, [tok.cls_token_id], [tok.sep_token_id], tok.pad_token_id or 0)

    # --- markers / vocabulary -----------------------------------------------------------
    def set_entity_types(self, docs: list[Document]) -> None:
        """Collect entity types (typed markers get one token pair per type)."""
        self.entity_types = sorted({e.label for d in docs for e in d.entities[:2]} | {"ENTITY", "O"})
        self.add_marker_tokens()

    def add_marker_tokens(self) -> None:
        """Add the style's marker tokens to the vocabulary (mean-initialised new embeddings)."""
        if self.style == "plain":
            new = ["[E1]", "[/E1]", "[E2]", "[/E2]"]
        elif self.style == "typed":
            new = [type_token(s, t, c) for t in self.entity_types for s in "SO" for c in (False, True)]
        else:
            return
        missing = [t for t in new if t not in self.tokenizer.get_vocab()]
        if missing:
            self.tokenizer.add_tokens(missing, special_tokens=True)
            self.encoder.resize_token_embeddings(len(self.tokenizer), mean_resizing=True)

    def _types(self, doc: Document) -> tuple[str, str]:
        if self.style != "typed":
            return doc.entities[0].label, doc.entities[1].label
        known = set(self.entity_types)
        return tuple(e.label if e.label in known else "ENTITY" for e in doc.entities[:2])  # type: ignore[return-value]

    # --- features -----------------------------------------------------------------------
    def featurize(self, doc: Document) -> dict:
        """Subword ids with markers, anchor positions (e1, e2) and subject/object boundaries (bounds)."""
        return self.featurize_many([doc])[0]

    def featurize_many(self, docs: list[Document]) -> list[dict]:
        """:meth:`featurize` for many documents with one call of the (fast, Rust) tokenizer."""
        if not docs:
            return []
        marked = [insert_markers(doc, self.style, self._types(doc)) for doc in docs]
        enc = self.tokenizer([m.words for m in marked], is_split_into_words=True, add_special_tokens=False)
        feats = []
        for i, m in enumerate(marked):
            try:
                feats.append(self._window(m, enc["input_ids"][i], enc.word_ids(i)))
            except KeyError:  # an entity edge word the tokenizer gave no pieces (readers refuse blank ones)
                raise RelxInputError(self._pieceless_problem(docs[i])) from None
        return feats

    def _pieceless_problem(self, doc: Document) -> str:
        """Which entity of ``doc`` starts or ends on a token that the tokenizer turns into no subword pieces."""
        for k, e in enumerate(doc.entities[:2]):
            for edge, i in (("starts", e.start), ("ends", e.end - 1)):
                if not self.tokenizer(doc.tokens[i], add_special_tokens=False)["input_ids"]:
                    return (
                        f"document {doc.id!r}: entity {k} {edge} on token {i} {doc.tokens[i]!r}, which the model's tokenizer "
                        "turns into no subword pieces; an entity must start and end on a word"
                    )
        return f"document {doc.id!r}: an entity starts or ends on a token that the model's tokenizer turns into no subword pieces"

    def _window(self, marked: Any, ids: list[int], word_ids: list[int | None]) -> dict:
        """Truncate one marked, tokenized sentence around its entities; positions after the prefix."""
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for pos, w in enumerate(word_ids):
            first.setdefault(w, pos)
            last[w] = pos
        (s0, s1), (o0, o1) = marked.spans
        # anchors, closing markers and entity boundaries always stay; then the nearest context
        must = [first[marked.anchors[0]], first[marked.anchors[1]]]
        if self.style != "none":
            must += [first[s1], first[o1]]
        must += [first[s0], last[s1 - 1], first[o0], last[o1 - 1]]
        keep = keep_window(len(ids), must, self.max_length - len(self.prefix_ids) - len(self.suffix_ids))
        if len(keep) == len(ids):  # nothing cut: positions shift by the prefix only
            shift = len(self.prefix_ids)
            e1, e2 = first[marked.anchors[0]] + shift, first[marked.anchors[1]] + shift
            bounds = [first[s0] + shift, last[s1 - 1] + shift, first[o0] + shift, last[o1 - 1] + shift]
            return {"input_ids": self.prefix_ids + ids + self.suffix_ids, "e1": e1, "e2": e2, "bounds": bounds}
        new_pos = {old: i + len(self.prefix_ids) for i, old in enumerate(keep)}

        def moved(old: int) -> int:  # nearest kept position
            return new_pos[min(keep, key=lambda k: abs(k - old))]

        return {
            "input_ids": self.prefix_ids + [ids[k] for k in keep] + self.suffix_ids,
            "e1": moved(first[marked.anchors[0]]),
            "e2": moved(first[marked.anchors[1]]),
            "bounds": [moved(first[s0]), moved(last[s1 - 1]), moved(first[o0]), moved(last[o1 - 1])],
        }

    def collate(self, feats: list[dict]) -> dict[str, torch.Tensor]:
        ids = pad_ids([f["input_ids"] for f in feats], self.pad_id)  # (B, T), right padding
        mask = length_mask(torch.tensor([len(f["input_ids"]) for f in feats]), ids.shape[1]).long()  # (B, T)
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "e1": torch.tensor([f["e1"] for f in feats]),  # (B,)
            "e2": torch.tensor([f["e2"] for f in feats]),  # (B,)
            "bounds": torch.tensor([f["bounds"] for f in feats]),  # (B, 4)
        }

    # --- model --------------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor], taps: bool = False) -> FrontEndOutput:
        out = self.encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=taps)
        anchors = torch.stack([batch["e1"], batch["e2"]], dim=1)  # (B, 2)
        return FrontEndOutput(out.last_hidden_state, anchors, batch["bounds"], batch["attention_mask"], out.hidden_states if taps else None)

    def layer_indexes(self, layers: list[int]) -> list[int]:
        """hidden_states indexes (0 = embeddings, negatives from the top), sorted and unique."""
        return sorted({i % (self.n_layers + 1) for i in layers})

    # --- persistence --------------------------------------------------------------------
    def state_json(self) -> dict:
        return {"entity_types": self.entity_types}

    def load_state(self, state: dict) -> None:
        self.entity_types = list(state.get("entity_types", []))
        self.add_marker_tokens()
