"""Fuzz corpus (tests/fuzz/corpus.py) through every reader and the CLI commands that read data: each hostile
input gives exit code 2 and ONE line `relx: error: <file>...` (no traceback), no output file under its final
name; valid inputs are read in full (nothing silently dropped). Plus property-based tests (hypothesis) of
reader round trips and scorer invariants."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from corpus import CASES, LARGE, write_case  # noqa: E402

from conftest import make_pair_docs, save_tiny_marker  # noqa: E402
from relx.cli import main  # noqa: E402
from relx.data.labels import LabelSet  # noqa: E402
from relx.data.schema import Document, Entity, Relation, read_jsonl, write_jsonl  # noqa: E402

ERRORS = [c for c, v in CASES.items() if v[3] == "error"]
OKS = [c for c, v in CASES.items() if v[3] == "ok"]
PIPELINE_FORMATS = ("jsonl", "tacred", "semeval", "marked")  # sentence-level formats a pair model predicts on


def _count_records(path: Path, fmt: str) -> int:
    from relx.data.io import read

    return len(read(path, fmt))


def _one_line_error(capsys, path: Path) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("relx: error: ") and str(path) in err[0], err[0]
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize("case", ERRORS)
def test_convert_and_stats_reject_with_one_line(case, tmp_path, capsys):
    path, fmt, _ = write_case(case, tmp_path)
    out = tmp_path / "out.jsonl"
    assert main(["data", "convert", str(path), str(out), "--from", fmt, "--to", "jsonl"]) == 2
    _one_line_error(capsys, path)
    assert not out.exists() and not list(tmp_path.glob("out.jsonl*"))
    assert main(["data", "stats", str(path), "--format", fmt, "--json", str(tmp_path / "s.json")]) == 2
    _one_line_error(capsys, path)
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("case", OKS + list(LARGE))
def test_valid_inputs_are_read_in_full(case, tmp_path, capsys):
    path, fmt, _ = write_case(case, tmp_path)
    out = tmp_path / "out.jsonl"
    assert main(["data", "convert", str(path), str(out), "--from", fmt, "--to", "jsonl"]) == 0
    assert len(list(read_jsonl(out))) == _count_records(path, fmt) >= 1


@pytest.fixture(scope="module")
def pair_model(tmp_path_factory, tiny_bert):
    return save_tiny_marker(tmp_path_factory.mktemp("fuzz") / "model", tiny_bert)


@pytest.mark.parametrize("case", [c for c in ERRORS if CASES[c][0] in PIPELINE_FORMATS])
def test_predict_evaluate_train_reject_with_one_line(case, tmp_path, capsys, pair_model):
    path, fmt, _ = write_case(case, tmp_path)
    out = tmp_path / "pred.jsonl"
    assert main(["predict", str(pair_model), "--input", str(path), "--format", fmt, "--output", str(out)]) == 2
    _one_line_error(capsys, path)
    assert not out.exists()
    ok = tmp_path / "ok.jsonl"
    write_jsonl(ok, make_pair_docs())
    assert main(["evaluate", "--gold", str(path), "--pred", str(ok)]) == 2
    _one_line_error(capsys, path)
    cfg = {"model": {"type": "svm2stage"}, "data": {"train": str(path), "format": fmt, "dev": None}, "trainer": {"epochs": 1}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "run")]) == 2
    _one_line_error(capsys, path)
    assert not (tmp_path / "run" / "model").exists()


@pytest.mark.parametrize("case", ["jsonl-10k-token-sentence", "jsonl-1mb-line", "jsonl-overlapping-entities"])
def test_predict_on_extreme_valid_sentences(case, tmp_path, capsys, pair_model):
    path, fmt, _ = write_case(case, tmp_path)
    out = tmp_path / "pred.jsonl"
    assert main(["predict", str(pair_model), "--input", str(path), "--format", fmt, "--output", str(out)]) == 0
    (pred,) = list(read_jsonl(out))
    assert pred.meta["pair_label"] and len(pred.tokens) == len(json.loads(path.read_text())["tokens"])


def test_unknown_label_at_test_time_is_named(tmp_path, capsys, pair_model):
    doc = make_pair_docs()[0]
    doc.relations = [Relation(0, 1, "never_seen_label")]
    write_jsonl(tmp_path / "gold.jsonl", [doc])
    write_jsonl(tmp_path / "pred.jsonl", [make_pair_docs()[0]])
    rc = main(["evaluate", "--gold", str(tmp_path / "gold.jsonl"), "--pred", str(tmp_path / "pred.jsonl")])
    out = capsys.readouterr()
    assert rc == 0 and "Traceback" not in out.err  # an unseen gold label is scored (a miss), not an error: it is shown
    assert "never_seen_label" in out.out


def test_directory_given_as_a_file(tmp_path, capsys):
    assert main(["data", "convert", str(tmp_path), str(tmp_path / "o.jsonl"), "--from", "jsonl", "--to", "jsonl"]) == 2
    _one_line_error(capsys, tmp_path)


# --- property-based ---------------------------------------------------------------------------
hyp = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# no format characters either (U+200B...): a token without a visible character cannot start or end an entity
WORD = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zs", "Zl", "Zp")), min_size=1, max_size=6)


@st.composite
def documents(draw, max_entities: int = 4):
    tokens = draw(st.lists(WORD, min_size=2, max_size=12))
    n = len(tokens)
    spans = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 3)), min_size=0, max_size=max_entities))
    ents = [Entity(s, min(n, s + w), draw(st.sampled_from(["PER", "ORG", "LOC"]))) for s, w in spans]
    rels = []
    if len(ents) >= 2:
        pairs = draw(st.lists(st.tuples(st.integers(0, len(ents) - 1), st.integers(0, len(ents) - 1)), max_size=3, unique=True))
        rels = [Relation(h, t, draw(st.sampled_from(["r1", "r2"]))) for h, t in pairs if h != t]
    return Document(draw(st.text(min_size=1, max_size=8)), tokens, ents, rels)


@settings(max_examples=60, deadline=None)
@given(st.lists(documents(), min_size=1, max_size=5, unique_by=lambda d: d.id))
def test_jsonl_round_trip(tmp_path_factory, docs):
    path = tmp_path_factory.mktemp("rt") / "d.jsonl"
    write_jsonl(path, docs)
    back = list(read_jsonl(path))
    assert [d.to_dict() for d in back] == [d.to_dict() for d in docs]


@settings(max_examples=60, deadline=None)
@given(st.lists(documents(), min_size=1, max_size=6, unique_by=lambda d: d.id), st.randoms(use_true_random=False))
def test_scorer_invariants(docs, rnd):
    from relx.evaluation.scorer import score_documents

    labels = LabelSet({r.label for d in docs for r in d.relations} | {"r1"})
    perfect = score_documents(docs, docs, labels, scheme="relations")
    gold_n = sum(len({(r.head, r.tail, r.label) for r in d.relations}) for d in docs)
    assert perfect["micro_f1"] == (1.0 if gold_n else 0.0)
    empty = [Document(d.id, d.tokens, d.entities, []) for d in docs]
    none = score_documents(docs, empty, labels, scheme="relations")
    assert none["micro_r"] == 0.0 and none["micro_f1"] == 0.0
    shuffled = list(docs)
    rnd.shuffle(shuffled)
    noisy = [Document(d.id, d.tokens, d.entities, d.relations[: rnd.randint(0, len(d.relations))]) for d in shuffled]
    a = score_documents(docs, noisy, labels, scheme="relations")
    b = score_documents(shuffled, noisy, labels, scheme="relations")
    assert a["micro_f1"] == b["micro_f1"] and 0.0 <= a["micro_f1"] <= 1.0 and a["micro_p"] in (0.0, 1.0)
