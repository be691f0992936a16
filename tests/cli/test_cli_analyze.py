"""`relx analyze`: regimes, length buckets, PNG, JSON and paired bootstrap for two prediction files."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from conftest import N, docs_with
from relx.cli import analyze
from relx.data.schema import write_jsonl
from relx.errors import RelxInputError


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="relx")
    analyze.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["analyze", *argv])
    return args.func(args)


def test_analyze_two_prediction_files(tmp_path, capsys):
    labels = ["A", "B", N, "A", N] * 4
    lengths = list(range(5, 25))
    gold, good, bad = tmp_path / "gold.jsonl", tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    write_jsonl(gold, docs_with(labels, lengths))
    write_jsonl(good, docs_with(labels[:-2] + ["A", "A"], lengths))
    write_jsonl(bad, docs_with([N] * 20, lengths))
    out_json, png = tmp_path / "out.json", tmp_path / "b.png"
    rc = _run(
        [
            "--gold",
            str(gold),
            "--pred",
            str(good),
            str(bad),
            "--negative",
            N,
            "--buckets",
            "4",
            "--bootstrap",
            "50",
            "--png",
            str(png),
            "--json",
            str(out_json),
        ]
    )
    assert rc == 0
    text = capsys.readouterr().out
    assert "Performance on relation data" in text and "Weighted good.jsonl" in text and "Length buckets: bad.jsonl" in text
    assert "Paired bootstrap (50 resamples), micro F1 %" in text and "vs bad.jsonl 0.00, diff +" in text and "p = " in text
    res = json.loads(out_json.read_text())
    assert set(res["regimes"]) == {"all data", "relation only"} and len(res["buckets"]["good.jsonl"]) == 4
    assert res["bootstrap"]["a"] == "good.jsonl" and res["bootstrap"]["metric_b"] == 0.0 and res["bootstrap"]["p_value"] <= 0.05
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_analyze_single_file_and_errors(tmp_path, capsys):
    gold = tmp_path / "gold.jsonl"
    write_jsonl(gold, docs_with(["A", N, "B"]))
    assert _run(["--gold", str(gold), "--pred", str(gold), "--buckets", "1"]) == 0
    text = capsys.readouterr().out
    assert "bootstrap" not in text
    # percentages, like `relx evaluate` (the JSON keeps fractions)
    assert re.search(r"^F1 % +100\.00 +100\.00$", text, re.MULTILINE) and "1.0000" not in text and "micro F1 %" in text
    other = tmp_path / "other.jsonl"
    write_jsonl(other, docs_with(["A", N]))
    with pytest.raises(RelxInputError, match="no prediction for document id 'd2'"):
        _run(["--gold", str(gold), "--pred", str(other)])
