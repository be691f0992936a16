"""Word vocabularies and static word-vector initialisation (GloVe text files, encoder tables, random)."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import torch

from relx.errors import RelxConfigError, RelxInputError

PAD, UNK = "<pad>", "<unk>"


class Vocab:
    """String <-> id map; id 0 is ``<pad>`` and id 1 is ``<unk>``."""

    def __init__(self, words: list[str], lowercase: bool = True):
        rest = [w for w in dict.fromkeys(words) if w not in (PAD, UNK)]
        self.words: list[str] = [PAD, UNK] + rest
        self.index: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        self.lowercase = lowercase

    @classmethod
    def from_tokens(
        cls, token_lists: Iterable[list[str]], min_count: int = 1, lowercase: bool = True, max_size: int | None = None
    ) -> Vocab:
        """Words seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
        counts: Counter[str] = Counter()
        for toks in token_lists:
            counts.update(t.lower() if lowercase else t for t in toks)
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[: max(0, max_size - 2)]
        return cls(ranked, lowercase=lowercase)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return (word.lower() if self.lowercase else word) in self.index

    def id(self, word: str) -> int:
        """Id of ``word`` (1 = unknown)."""
        return self.index.get(word.lower() if self.lowercase else word, 1)

    def encode(self, tokens: list[str]) -> list[int]:
        """Ids of ``tokens``; unknown words map to 1."""
        return [self.id(t) for t in tokens]

    def to_json(self) -> dict:
        return {"words": self.words, "lowercase": self.lowercase}

    @classmethod
    def from_json(cls, d: dict) -> Vocab:
        return cls(list(d["words"]), lowercase=bool(d.get("lowercase", True)))


def word_vectors(words: list[str], source: str, dim: int = 100, seed: int = 0) -> tuple[torch.Tensor, int]:
    """Initial embedding matrix for ``words`` and how many of them the source covers.

    ``source``: ``random`` (N(0, 0.1^2), ``dim`` columns); ``encoder`` or ``encoder:/path/to/hf/model``
    (the encoder's input word-piece table, each word = mean of its pieces, width = hidden size); a
    GloVe/word2vec text file (``.txt`` or ``.txt.gz``, optional "N D" header). Uncovered words get
    small random vectors; row 0 (padding) is zeros.
    """
    gen = torch.Generator().manual_seed(seed)
    if source == "random":
        mat = torch.randn(len(words), dim, generator=gen) * 0.1
        found = 0
    elif source == "encoder" or source.startswith("encoder:"):
        mat, found = _encoder_vectors(words, source.partition(":")[2] or "default", gen)
    else:
        mat, found = _file_vectors(words, Path(source), gen)
    if len(words):
        mat[0] = 0.0
    return mat, found


def _file_vectors(words: list[str], path: Path, gen: torch.Generator) -> tuple[torch.Tensor, int]:
    """Rows from a GloVe/word2vec text file; case-insensitive fallback for words not found verbatim."""
    if not path.is_file():
        raise RelxConfigError(f"word_vectors {str(path)!r} is neither 'random', 'encoder[:path]' nor an existing vector file")
    wanted: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        wanted.setdefault(w, []).append(i)
    lowered: dict[str, list[int]] = {}
    for i, w in enumerate(words):
        lowered.setdefault(w.lower(), []).append(i)
    vecs: dict[int, torch.Tensor] = {}
    exact: set[int] = set()
    width = None
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            parts = line.rstrip("\n\r").rstrip(" ").split(" ")
            if n == 1 and len(parts) == 2 and all(p.isdigit() for p in parts):
                width = int(parts[1])  # word2vec header "N D"
                continue
            if len(parts) < 2:
                if not line.strip():
                    continue
                raise RelxInputError("malformed vector line (a word and at least one number expected)", path, n)
            if width is None:
                width = len(parts) - 1
            if len(parts) - 1 < width:
                raise RelxInputError(f"vector line has {len(parts) - 1} numbers, expected {width}", path, n)
            word = " ".join(parts[: len(parts) - width])  # a few GloVe 840B "words" contain spaces
            hit_exact = wanted.get(word, [])
            hit_lower = [i for i in lowered.get(word.lower(), []) if i not in exact and i not in vecs]
            if not hit_exact and not hit_lower:
                continue
            try:
                vec = torch.tensor([float(x) for x in parts[len(parts) - width :]])
            except ValueError:
                raise RelxInputError("malformed vector line (non-numeric value)", path, n) from None
            for i in hit_exact:
                vecs[i] = vec
                exact.add(i)
            for i in hit_lower:
                vecs[i] = vec
    if width is None:
        raise RelxInputError("no vectors in file", path)
    mat = torch.randn(len(words), width, generator=gen) * 0.1
    if vecs:
        found = torch.stack(list(vecs.values()))  # (F, D)
        mat *= found.std().item() / 0.1 if found.std().item() > 0 else 1.0  # random rows on the file's scale
        mat[list(vecs)] = found
    return mat, len(vecs)


def _encoder_vectors(words: list[str], name: str, gen: torch.Generator) -> tuple[torch.Tensor, int]:
    """Mean of each word's word-piece rows in the encoder's input embedding table."""
    from relx.nn.encoder import load_hf_encoder

    encoder, tok = load_hf_encoder(name)
    table = encoder.get_input_embeddings().weight.detach().float()  # (V, D)
    mat = torch.randn(len(words), table.shape[1], generator=gen) * table.std().item()
    special = set(tok.all_special_ids)
    pieces = tok(list(words), add_special_tokens=False)["input_ids"]
    found = 0
    for i, (w, ids) in enumerate(zip(words, pieces)):
        ids = [t for t in ids if t not in special]
        if i == 0 or w in (PAD, UNK) or not ids:
            continue
        mat[i] = table[ids].mean(0)
        found += 1
    return mat, found
