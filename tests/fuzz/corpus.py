"""The fuzz corpus: hostile inputs for every reader, CLI command and the HTTP service.

``CASES`` maps a case name to (format, file name, bytes, expected) where expected is ``"error"`` (one-line
error naming the file) or ``"ok"`` (valid input that must be read in full). Small cases are also committed
as files under ``tests/fuzz/<format>/`` (``python tests/fuzz/corpus.py`` rewrites them); the two large
ones (a 10,000-token sentence, a 1 MB line) are generated at test time only.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _j(obj) -> bytes:
    return (json.dumps(obj) + "\n").encode()


def _doc(**kw) -> dict:
    d = {
        "id": "d1",
        "tokens": ["Bill", "Gates", "founded", "Microsoft", "."],
        "entities": [{"start": 0, "end": 2, "label": "PER"}, {"start": 3, "end": 4, "label": "ORG"}],
        "relations": [{"head": 0, "tail": 1, "label": "founder"}],
    }
    d.update(kw)
    return d


def _tacred(**kw) -> dict:
    d = {
        "id": "t1",
        "relation": "per:employee_of",
        "token": ["Bill", "Gates", "led", "Microsoft", "."],
        "subj_start": 0,
        "subj_end": 1,
        "obj_start": 3,
        "obj_end": 3,
        "subj_type": "PERSON",
        "obj_type": "ORGANIZATION",
    }
    d.update(kw)
    return d


SEM_OK = '1\t"<e1>Bill Gates</e1> founded <e2>Microsoft</e2> ."\nProduct-Producer(e2,e1)\nComment:\n\n'
ENT = [{"start": 0, "end": 2, "label": "PER"}]

CASES: dict[str, tuple[str, str, bytes, str]] = {
    # --- relx JSONL -----------------------------------------------------------------------------
    "jsonl-ok": ("jsonl", "ok.jsonl", _j(_doc()), "ok"),
    "jsonl-empty-file": ("jsonl", "empty.jsonl", b"", "error"),
    "jsonl-bom": ("jsonl", "bom.jsonl", b"\xef\xbb\xbf" + _j(_doc()), "ok"),
    "jsonl-non-utf8": ("jsonl", "latin1.jsonl", _j(_doc())[:-3] + b"\xe9\xff\n", "error"),
    "jsonl-truncated": ("jsonl", "truncated.jsonl", _j(_doc())[:40], "error"),
    "jsonl-string-offset": ("jsonl", "str_offset.jsonl", _j(_doc(entities=[{"start": "0", "end": 2, "label": "P"}])), "error"),
    "jsonl-float-offset": ("jsonl", "float_offset.jsonl", _j(_doc(entities=[{"start": 0.5, "end": 2, "label": "P"}])), "error"),
    "jsonl-null-tokens": ("jsonl", "null_tokens.jsonl", _j(_doc(tokens=None)), "error"),
    "jsonl-null-token": ("jsonl", "null_token.jsonl", _j(_doc(tokens=["Bill", None, "founded", "Microsoft", "."])), "error"),
    "jsonl-offset-out-of-range": (
        "jsonl",
        "out_of_range.jsonl",
        _j(_doc(entities=[ENT[0], {"start": 3, "end": 9, "label": "O"}])),
        "error",
    ),
    "jsonl-negative-span": ("jsonl", "negative.jsonl", _j(_doc(entities=[{"start": -1, "end": 2, "label": "P"}, ENT[0]])), "error"),
    "jsonl-reversed-span": ("jsonl", "reversed.jsonl", _j(_doc(entities=[{"start": 2, "end": 0, "label": "P"}, ENT[0]])), "error"),
    "jsonl-empty-entity": ("jsonl", "empty_entity.jsonl", _j(_doc(entities=[{"start": 1, "end": 1, "label": "P"}, ENT[0]])), "error"),
    "jsonl-entity-on-whitespace": (
        "jsonl",
        "ws_entity.jsonl",
        _j(
            _doc(
                tokens=["Bill", "Gates", "\xa0", "Microsoft", "."],
                entities=[{"start": 0, "end": 3, "label": "PER"}, {"start": 3, "end": 4, "label": "ORG"}],
            )
        ),
        "error",
    ),
    "jsonl-empty-token-entity": ("jsonl", "empty_token.jsonl", _j(_doc(tokens=["", "Gates", "founded", "Microsoft", "."])), "error"),
    "jsonl-lone-surrogate": ("jsonl", "surrogate.jsonl", _j(_doc(tokens=["Bill", "G\ud800", "founded", "Microsoft", "."])), "error"),
    "jsonl-overlapping-entities": ("jsonl", "overlap.jsonl", _j(_doc(entities=[ENT[0], {"start": 1, "end": 3, "label": "O"}])), "ok"),
    "jsonl-relation-index": ("jsonl", "rel_index.jsonl", _j(_doc(relations=[{"head": 0, "tail": 5, "label": "x"}])), "error"),
    "jsonl-duplicate-ids": ("jsonl", "dup_ids.jsonl", _j(_doc()) + _j(_doc()), "error"),
    "jsonl-not-an-object": ("jsonl", "list_line.jsonl", b"[1, 2, 3]\n", "error"),
    "jsonl-non-gzip-gz": ("jsonl", "fake.jsonl.gz", _j(_doc()), "error"),
    # --- TACRED JSON ----------------------------------------------------------------------------
    "tacred-ok": ("tacred", "ok.json", json.dumps([_tacred()]).encode(), "ok"),
    "tacred-empty-file": ("tacred", "empty.json", b"", "error"),
    "tacred-truncated": ("tacred", "truncated.json", json.dumps([_tacred()]).encode()[:50], "error"),
    "tacred-string-offset": ("tacred", "str_offset.json", json.dumps([_tacred(subj_start="0")]).encode(), "error"),
    "tacred-out-of-range": ("tacred", "out_of_range.json", json.dumps([_tacred(obj_end=40)]).encode(), "error"),
    "tacred-reversed": ("tacred", "reversed.json", json.dumps([_tacred(subj_start=1, subj_end=0)]).encode(), "error"),
    "tacred-null-tokens": ("tacred", "null_tokens.json", json.dumps([_tacred(token=None)]).encode(), "error"),
    "tacred-crossed": ("tacred", "crossed.json", json.dumps([_tacred(subj_start=0, subj_end=2, obj_start=1, obj_end=3)]).encode(), "error"),
    "tacred-duplicate-ids": ("tacred", "dup_ids.json", json.dumps([_tacred(), _tacred()]).encode(), "error"),
    "tacred-bom": ("tacred", "bom.json", b"\xef\xbb\xbf" + json.dumps([_tacred()]).encode(), "ok"),
    # --- SemEval / marked text ------------------------------------------------------------------
    "semeval-ok": ("semeval", "ok.txt", SEM_OK.encode(), "ok"),
    "semeval-empty-file": ("semeval", "empty.txt", b"", "error"),
    "semeval-missing-tag": ("semeval", "missing_tag.txt", SEM_OK.replace("</e2>", "").encode(), "error"),
    "semeval-nested-tags": (
        "semeval",
        "nested.txt",
        SEM_OK.replace("<e1>Bill Gates</e1>", "<e1>Bill <e2>Gates</e2></e1>").replace("<e2>Microsoft</e2>", "Microsoft").encode(),
        "error",
    ),
    "semeval-unknown-direction": ("semeval", "bad_label.txt", SEM_OK.replace("(e2,e1)", "(e3,e1)").encode(), "error"),
    "semeval-non-utf8": ("semeval", "latin1.txt", SEM_OK.replace("Bill", "B\udce9ll").encode("utf-8", "surrogateescape"), "error"),
    "semeval-duplicate-ids": ("semeval", "dup_ids.txt", (SEM_OK * 2).encode(), "error"),
    "marked-ok": ("marked", "ok.txt", b"founder\t<e1>Bill Gates</e1> founded <e2>Microsoft</e2> .\n", "ok"),
    "marked-missing-tag": ("marked", "missing_tag.txt", b"founder\t<e1>Bill Gates founded <e2>Microsoft</e2> .\n", "error"),
    "marked-empty-entity": ("marked", "empty_entity.txt", b"founder\t<e1> </e1> founded <e2>Microsoft</e2> .\n", "error"),
    # --- SpERT / CasRel / FewRel / ACE05 (DyGIE++) ------------------------------------------------
    "spert-ok": (
        "spert",
        "ok.json",
        json.dumps(
            [
                {
                    "tokens": ["a", "b", "c"],
                    "entities": [{"type": "P", "start": 0, "end": 1}, {"type": "O", "start": 2, "end": 3}],
                    "relations": [{"type": "r", "head": 0, "tail": 1}],
                }
            ]
        ).encode(),
        "ok",
    ),
    "spert-relation-index": (
        "spert",
        "rel_index.json",
        json.dumps(
            [{"tokens": ["a", "b"], "entities": [{"type": "P", "start": 0, "end": 1}], "relations": [{"type": "r", "head": 0, "tail": 3}]}]
        ).encode(),
        "error",
    ),
    "spert-float-offset": (
        "spert",
        "float.json",
        json.dumps([{"tokens": ["a", "b"], "entities": [{"type": "P", "start": 0.0, "end": 1}], "relations": []}]).encode(),
        "error",
    ),
    "casrel-ok": (
        "casrel",
        "ok.json",
        json.dumps([{"text": "Bill Gates founded Microsoft .", "triple_list": [["Bill Gates", "founder", "Microsoft"]]}]).encode(),
        "ok",
    ),
    "casrel-null-text": ("casrel", "null_text.json", json.dumps([{"text": None, "triple_list": []}]).encode(), "error"),
    "casrel-bad-triple": ("casrel", "bad_triple.json", json.dumps([{"text": "a b", "triple_list": [["a", "r"]]}]).encode(), "error"),
    "fewrel-bad-positions": (
        "fewrel",
        "bad_pos.json",
        json.dumps({"P1": [{"tokens": ["a", "b"], "h": ["a", "Q1", [[5]]], "t": ["b", "Q2", [[1]]]}]}).encode(),
        "error",
    ),
    "fewrel-non-contiguous-mention": (
        "fewrel",
        "gap.json",
        json.dumps({"P1": [{"tokens": ["a", "b", "c", "d"], "h": ["a c", "Q1", [[0, 2]]], "t": ["d", "Q2", [[3]]]}]}).encode(),
        "error",
    ),
    "fewrel-entity-on-whitespace": (
        "fewrel",
        "ws_entity.json",
        json.dumps({"P1": [{"tokens": ["a", "\n", "b"], "h": ["a", "Q1", [[0, 1]]], "t": ["b", "Q2", [[2]]]}]}).encode(),
        "error",
    ),
    "fewrel-whitespace-tokens": (
        "fewrel",
        "ws_tokens.json",
        json.dumps({"P1": [{"tokens": ["a", "\xa0", "\n", "b", " "], "h": ["a", "Q1", [[0]]], "t": ["b", "Q2", [[3]]]}]}).encode(),
        "ok",
    ),
    "dygiepp-ner-out-of-range": (
        "dygiepp",
        "ner_range.json",
        _j({"doc_key": "k", "sentences": [["a", "b"]], "ner": [[[0, 7, "P"]]], "relations": [[]]}),
        "error",
    ),
}

LARGE = ("jsonl-10k-token-sentence", "jsonl-1mb-line")


def large_case(name: str) -> tuple[str, str, bytes, str]:
    """The generated large cases: a valid 10,000-token sentence; a single 1 MB line (valid JSON, huge tokens)."""
    if name == "jsonl-10k-token-sentence":
        toks = ["word"] * 10_000
        return (
            "jsonl",
            "long.jsonl",
            _j(_doc(tokens=toks, entities=[{"start": 5, "end": 6, "label": "P"}, {"start": 9_990, "end": 9_991, "label": "O"}])),
            "ok",
        )
    toks = ["x" * 1000] * 1000
    return (
        "jsonl",
        "megabyte.jsonl",
        _j(_doc(tokens=toks, entities=[{"start": 0, "end": 1, "label": "P"}, {"start": 3, "end": 4, "label": "O"}])),
        "ok",
    )


def write_case(name: str, directory: Path) -> tuple[Path, str, str]:
    """Write case ``name`` under ``directory``; returns (path, format, expected)."""
    fmt, fname, data, expected = CASES[name] if name in CASES else large_case(name)
    path = directory / fmt / fname
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path, fmt, expected


if __name__ == "__main__":
    for case in CASES:
        write_case(case, HERE)
    print(f"wrote {len(CASES)} cases under {HERE}")
