"""Overlap analysis (Normal / EPO / SEO, triples per sentence) by hand, CLI --analysis overlap, pair predictions
put back into sentences, data.pairs for pair classifiers on triple data."""

from __future__ import annotations

import gzip
import json

import pytest

from relx.cli import main
from relx.data.pairs import from_pairs, to_pairs
from relx.data.readers.casrel import read_with_report
from relx.data.schema import Document, Entity, Relation, write_jsonl
from relx.evaluation.overlap import overlap_scores, sentence_subsets

E = "ENTITY"


def _doc(i, n, ents, rels, meta=None):
    return Document(str(i), [f"w{k}" for k in range(n)], [Entity(s, e, E) for s, e in ents], [Relation(*r) for r in rels], meta=meta or {})


GOLD = [
    _doc(0, 6, [(0, 1), (2, 3)], [(0, 1, "a")]),  # Normal, x1
    _doc(1, 6, [(0, 1), (2, 3)], [(0, 1, "a"), (0, 1, "b")]),  # EPO, x2
    _doc(2, 6, [(0, 1), (2, 3), (4, 5)], [(0, 1, "a"), (1, 2, "b"), (2, 0, "c")]),  # SEO, x3
    _doc(3, 6, [(0, 1), (2, 3)], []),  # no triple: only in "all"
]
PRED = [
    _doc(0, 6, [(0, 1), (2, 3)], [(0, 1, "a")]),  # right
    _doc(1, 6, [(0, 1), (2, 3)], [(0, 1, "a")]),  # one of two
    _doc(2, 6, [(0, 1), (2, 3), (4, 5)], [(0, 1, "a"), (1, 2, "x")]),  # one right, one wrong
    _doc(3, 6, [(0, 1), (2, 3)], [(1, 0, "a")]),  # a false positive
]


def test_sentence_subsets_follow_copyre():
    assert sentence_subsets(GOLD[0]) == ["normal", "single", "x1", "all"]
    assert sentence_subsets(GOLD[1]) == ["epo", "double", "x2", "all"]
    assert sentence_subsets(GOLD[2]) == ["seo", "multiple", "x3", "all"]
    assert sentence_subsets(GOLD[3]) == ["all"]
    repeated = _doc(4, 6, [(0, 1), (2, 3)], [(0, 1, "a")], meta={"duplicate_triples": [["w0", "a", "w2"]]})
    assert sentence_subsets(repeated)[0] == "epo"  # CopyRE counts the raw (repeated) triple list


def test_overlap_scores_by_hand():
    rows = {r["subset"]: r for r in overlap_scores(GOLD, PRED)}
    assert (rows["normal"]["correct"], rows["normal"]["f1"]) == (1, 1.0)
    epo = rows["epo"]
    assert (epo["gold"], epo["predicted"], epo["correct"]) == (2, 1, 1) and epo["r"] == 0.5 and epo["p"] == 1.0
    seo = rows["seo"]
    assert (seo["gold"], seo["predicted"], seo["correct"]) == (3, 2, 1)
    assert seo["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    every = rows["all"]
    assert (every["sentences"], every["gold"], every["predicted"], every["correct"]) == (4, 6, 5, 3)
    assert rows["x4"]["sentences"] == 0 and rows["x4"]["f1"] == 0.0


def test_starred_match_uses_the_last_word():
    gold = [_doc(0, 6, [(0, 2), (3, 5)], [(0, 1, "a")])]
    pred = [_doc(0, 6, [(1, 2), (4, 5)], [(0, 1, "a")])]  # only the last words
    assert {r["subset"]: r["f1"] for r in overlap_scores(gold, pred, "exact")}["all"] == 0.0
    assert {r["subset"]: r["f1"] for r in overlap_scores(gold, pred, "partial_last")}["all"] == 1.0


def test_cli_analysis_overlap_tables_json_and_png(tmp_path, capsys):
    g, p = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    write_jsonl(g, GOLD)
    write_jsonl(p, PRED)
    out, png = tmp_path / "m.json", tmp_path / "overlap.png"
    assert (
        main(
            [
                "evaluate",
                "--gold",
                str(g),
                "--pred",
                str(p),
                "--scheme",
                "relations",
                "--analysis",
                "overlap",
                "--png",
                str(png),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "triples by sentence type (exact match)" in printed and "EPO" in printed and "x>=5" in printed
    m = json.loads(out.read_text(encoding="utf-8"))
    assert {r["subset"] for r in m["overlap"]["partial_last"]} >= {"normal", "epo", "seo", "x1", "x5plus", "all"}
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["evaluate", "--gold", str(g), "--pred", str(p), "--scheme", "relations", "--png", str(png)]) == 2
    assert "--analysis overlap" in capsys.readouterr().err


def test_pair_predictions_go_back_into_their_sentences():
    pairs, summary = to_pairs(GOLD)
    assert summary.multi_label_pairs == 1  # the EPO pair keeps one label
    back = from_pairs(GOLD, pairs)
    assert [sorted((r.head, r.tail, r.label) for r in d.relations) for d in back] == [
        [(0, 1, "a")],
        [(0, 1, "a")],
        [(0, 1, "a"), (1, 2, "b"), (2, 0, "c")],
        [],
    ]
    assert back[0] is not GOLD[0] and GOLD[1].relations[1].label == "b"  # copies; the sources are untouched
    directed = Document(
        "0:1-0",
        GOLD[0].tokens,
        [GOLD[0].entities[1], GOLD[0].entities[0]],
        [Relation(0, 1, "a(e2,e1)", 0.9)],
        meta={"source_id": "0", "head": 1, "tail": 0},
    )
    assert [(r.head, r.tail, r.label) for r in from_pairs(GOLD[:1], [directed])[0].relations] == [(0, 1, "a")]


def test_casrel_reader_keeps_repeats_and_data_pairs_config(tmp_path):
    from relx.training.run import DataConfig, load_splits

    records = [
        {
            "text": "Bob lives in Paris , France .",
            "triple_list": [["Bob", "lives_in", "Paris"], ["Bob", "lives_in", "Paris"], ["France", "contains", "Paris"]],
        },
        {"text": "Nothing here .", "triple_list": [["Ghost", "r", "here"]]},
    ]
    path = tmp_path / "train_triples.json.gz"
    path.write_bytes(gzip.compress(json.dumps(records).encode()))
    docs, stats = read_with_report(path)
    assert stats["duplicates"] == 1 and stats["unlocated"] == 1
    assert docs[0].meta["duplicate_triples"] == [["Bob", "lives_in", "Paris"]] and docs[1].meta["unlocated_triples"] == [
        ["Ghost", "r", "here"]
    ]
    assert sentence_subsets(docs[0])[0] == "epo"
    train, _, _, _ = load_splits(DataConfig(train=str(path), format="casrel", pairs=True))
    assert len(train) == 6 and sum(bool(d.relations) for d in train) == 2  # 3 entities -> 6 ordered pairs, 2 related
    assert all(len(d.entities) == 2 and d.meta["source_id"] == "0" for d in train)


def test_data_stats_and_overlap_analysis_count_the_same_triples():
    from relx.data.stats import compute_stats

    # the repeated triple makes doc 4 EPO in both (CopyRE counts the listed triples; stats used to drop the repeat)
    docs = [*GOLD, _doc(4, 6, [(0, 1), (2, 3)], [(0, 1, "a")], meta={"duplicate_triples": [["w0", "a", "w2"]]})]
    stats = compute_stats(docs)
    subsets = [sentence_subsets(d) for d in docs]
    for cls in ("Normal", "EPO", "SEO"):
        assert stats["overlap"][cls] == sum(cls.lower() in s for s in subsets)
    assert stats["overlap"]["EPO"] == 2


def test_cli_data_stats_and_evaluate_overlap_agree_on_webnlg_star(tmp_path, capsys):
    from pathlib import Path

    from relx.data.io import read

    gold = Path(__file__).resolve().parents[2] / "data" / "webnlg_star" / "test_triples.json.gz"
    pred = tmp_path / "pred.jsonl"
    write_jsonl(pred, read(gold, format="casrel"))
    stats_json, overlap_json = tmp_path / "stats.json", tmp_path / "overlap.json"
    assert main(["data", "stats", str(gold), "--format", "casrel", "--json", str(stats_json)]) == 0
    assert (
        main(
            [
                "evaluate",
                "--gold",
                str(gold),
                "--pred",
                str(pred),
                "--scheme",
                "relations",
                "--analysis",
                "overlap",
                "--json",
                str(overlap_json),
            ]
        )
        == 0
    )
    capsys.readouterr()
    stats = json.loads(stats_json.read_text(encoding="utf-8"))
    rows = {r["subset"]: r["sentences"] for r in json.loads(overlap_json.read_text(encoding="utf-8"))["overlap"]["exact"]}
    # the published WebNLG* test counts (CopyRE / CasRel Table 1)
    assert (stats["overlap"]["Normal"], stats["overlap"]["EPO"], stats["overlap"]["SEO"]) == (246, 26, 457)
    assert (rows["normal"], rows["epo"], rows["seo"]) == (246, 26, 457)
    assert [stats["multiplicity"][k] for k in ("Single", "Double", "Multiple")] == [rows["single"], rows["double"], rows["multiple"]]
