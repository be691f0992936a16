"""Ray Data batch prediction: one real local job (`ray.init()`, 2 actors) equals `relx predict`; the actor's
record handling (JSONL chunks, Parquet rows, raw texts, bad records) and the error unwrapping are tested
in-process, without starting more Ray jobs (each costs actor start-up time)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("ray")

from conftest import make_pair_docs, save_tiny_marker  # noqa: E402
from relx.cli import main  # noqa: E402
from relx.data.schema import Document, read_jsonl, write_jsonl  # noqa: E402
from relx.errors import RelxInputError  # noqa: E402
from relx.integrations.ray_batch import Predictor, _relx_error, expand_inputs, plan, predict_distributed  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tiny_bert):
    tmp = tmp_path_factory.mktemp("ray")
    docs = make_pair_docs()
    save_tiny_marker(tmp / "model", tiny_bert, docs)
    corpus = [Document.from_dict({**d.to_dict(), "id": f"{k}-{d.id}"}) for k in range(10) for d in docs]
    (tmp / "in").mkdir()
    write_jsonl(tmp / "in" / "a.jsonl", corpus[:20])
    write_jsonl(tmp / "in" / "b.jsonl", corpus[20:])
    return tmp, corpus


def _read_dir(path):
    return {d.id: d for f in sorted(path.glob("part-*.jsonl")) for d in read_jsonl(f)}


@pytest.mark.integration
def test_ray_job_equals_relx_predict(setup):
    import ray

    tmp, corpus = setup
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)  # 2 actors + a reader
    try:
        manifest = predict_distributed(tmp / "model", [str(tmp / "in" / "*.jsonl")], tmp / "out", actors=2, batch_size=8)
    finally:
        ray.shutdown()
    assert manifest["documents"] == len(corpus) == 40 and json.loads((tmp / "out" / "_MANIFEST.json").read_text())["documents"] == 40
    got = _read_dir(tmp / "out")
    write_jsonl(tmp / "all.jsonl", corpus)
    assert main(["predict", str(tmp / "model"), "--input", str(tmp / "all.jsonl"), "--output", str(tmp / "ref.jsonl")]) == 0
    ref = {d.id: d for d in read_jsonl(tmp / "ref.jsonl")}
    assert got.keys() == ref.keys()
    for k, d in ref.items():
        assert got[k].meta["pair_label"] == d.meta["pair_label"] and abs(got[k].meta["pair_score"] - d.meta["pair_score"]) < 1e-5
        assert [r.to_dict() for r in got[k].relations] == [r.to_dict() for r in d.relations]
    assert not (tmp / "out.staging").exists()


def _chunks(path, parquet=False):
    return plan([str(path)], 8, parquet)[0]


def _batch(chunks):
    return {k: np.array([c[k] for c in chunks], dtype=object) for k in chunks[0]}


def test_actor_reads_jsonl_lines_parquet_rows_and_raw_texts(setup, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp, corpus = setup
    lines = [json.dumps(d.to_dict()) for d in corpus[:3]] + ["", json.dumps({"id": "t1", "text": "Bill Gates founded Microsoft."})]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    actor = Predictor(str(tmp / "model"), 8, "torch", None, str(tmp_path), parquet=False)
    chunks = _chunks(tmp_path / "a.jsonl")
    res = actor(_batch(chunks))
    (name,) = res["file"]
    out = {d.id: d for d in read_jsonl(tmp_path / name)}
    assert res["documents"] == res["records"] == [4] and list(out) == [corpus[0].id, corpus[1].id, corpus[2].id, "t1"]
    assert "extraction" in out["t1"].meta and out[corpus[0].id].meta["pair_label"]
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": ["Mary lives in Paris.", "John works for Acme."]}), tmp_path / "t.parquet")
    pq_actor = Predictor(str(tmp / "model"), 8, "torch", None, str(tmp_path), parquet=True)
    res = pq_actor(_batch(_chunks(tmp_path / "t.parquet", parquet=True)))
    assert res["documents"] == [2] and [d.id for d in read_jsonl(tmp_path / res["file"][0])] == ["p1", "p2"]


def test_actor_names_the_file_and_record_of_a_bad_record(setup, tmp_path):
    tmp, _ = setup
    actor = Predictor(str(tmp / "model"), 8, "torch", None, str(tmp_path / "staging"), parquet=False)
    bad = json.dumps({"id": "x1", "tokens": ["a", "b"], "entities": [{"start": 0, "end": 9, "label": "P"}]})
    (tmp_path / "bad.jsonl").write_text(bad + "\n")
    with pytest.raises(RelxInputError, match=r"bad\.jsonl:1 \(record id 'x1'\): .*outside the sentence"):
        actor(_batch(_chunks(tmp_path / "bad.jsonl")))
    (tmp_path / "bad.jsonl").write_text("\n{nope\n")
    with pytest.raises(RelxInputError, match=r"bad\.jsonl:2: invalid JSON"):
        actor(_batch(_chunks(tmp_path / "bad.jsonl")))
    assert not (tmp_path / "staging").exists()  # nothing written for a failed chunk


def test_worker_errors_are_unwrapped_to_one_line():
    inner = RelxInputError("entity 0 is outside the sentence", "c.jsonl", "record id 'x'")
    try:
        try:
            raise inner
        except RelxInputError as e:
            raise RuntimeError("UDF failed") from e
    except RuntimeError as outer:
        assert str(_relx_error(outer)) == str(inner)
    text_only = RuntimeError("ray::MapWorker\nrelx.errors.RelxInputError: c.jsonl (record id 'x'): bad span\nmore")
    assert str(_relx_error(text_only)) == "c.jsonl (record id 'x'): bad span"
    assert _relx_error(RuntimeError("other")) is None


def test_input_and_output_checks(setup):
    tmp, _ = setup
    with pytest.raises(RelxInputError, match="no file matches"):
        expand_inputs([str(tmp / "nothing*.jsonl")])
    with pytest.raises(RelxInputError, match="is a directory"):
        expand_inputs([str(tmp / "in")])
    with pytest.raises(RelxInputError, match="not empty"):
        predict_distributed(tmp / "model", [str(tmp / "in" / "a.jsonl")], tmp / "in")
    (tmp / "x.parquet").write_bytes(b"")
    with pytest.raises(RelxInputError, match="mix of Parquet and JSONL"):
        predict_distributed(tmp / "model", [str(tmp / "in" / "a.jsonl"), str(tmp / "x.parquet")], tmp / "o2")
