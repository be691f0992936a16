"""Ray Data batch prediction (local `ray.init()`): same predictions as `relx predict`, raw texts and documents,
Parquet shards, clear errors for bad records / inputs, no output folder left on failure."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("ray")

from conftest import make_pair_docs  # noqa: E402
from relx.cli import main  # noqa: E402
from relx.data.labels import LabelSet  # noqa: E402
from relx.data.schema import read_jsonl, write_jsonl  # noqa: E402
from relx.distributed_predict import predict_distributed  # noqa: E402
from relx.errors import RelxInputError  # noqa: E402
from relx.models.marker import MarkerModel  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory, tiny_bert):
    import ray

    tmp = tmp_path_factory.mktemp("ray")
    docs = make_pair_docs()
    torch.manual_seed(0)
    model = MarkerModel(MarkerModel.tiny_config({"bert": str(tiny_bert)}), LabelSet.from_documents(docs))
    model.prepare(docs)
    model.save(tmp / "model")
    corpus = []
    for k in range(15):
        for d in docs:
            d2 = d.__class__.from_dict({**d.to_dict(), "id": f"{k}-{d.id}"})
            corpus.append(d2)
    (tmp / "in").mkdir()
    write_jsonl(tmp / "in" / "a.jsonl", corpus[:30])
    write_jsonl(tmp / "in" / "b.jsonl", corpus[30:])
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)  # 2 actors + a reader
    yield tmp, corpus
    ray.shutdown()


def _read_dir(path):
    return {d.id: d for f in sorted(path.glob("part-*.jsonl")) for d in read_jsonl(f)}


def test_equals_relx_predict(setup):
    tmp, corpus = setup
    manifest = predict_distributed(tmp / "model", [str(tmp / "in" / "*.jsonl")], tmp / "out", actors=2, batch_size=8)
    assert manifest["documents"] == len(corpus) == 60 and (tmp / "out" / "_MANIFEST.json").is_file()
    got = _read_dir(tmp / "out")
    write_jsonl(tmp / "all.jsonl", corpus)
    assert main(["predict", str(tmp / "model"), "--input", str(tmp / "all.jsonl"), "--output", str(tmp / "ref.jsonl")]) == 0
    ref = {d.id: d for d in read_jsonl(tmp / "ref.jsonl")}
    assert got.keys() == ref.keys()
    for k, d in ref.items():
        assert got[k].meta["pair_label"] == d.meta["pair_label"] and abs(got[k].meta["pair_score"] - d.meta["pair_score"]) < 1e-5
        assert [r.to_dict() for r in got[k].relations] == [r.to_dict() for r in d.relations]


def test_raw_texts_and_parquet(setup):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp, _ = setup
    (tmp / "raw.jsonl").write_text(json.dumps({"id": "t1", "text": "Bill Gates founded Microsoft."}) + "\n")
    m = predict_distributed(tmp / "model", [str(tmp / "raw.jsonl")], tmp / "out_raw", actors=1)
    (doc,) = _read_dir(tmp / "out_raw").values()
    assert m["documents"] == 1 and doc.id == "t1" and "extraction" in doc.meta
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": ["Mary lives in Paris.", "John works for Acme Corp."]}), tmp / "t.parquet")
    m = predict_distributed(tmp / "model", [str(tmp / "t.parquet")], tmp / "out_pq", actors=1)
    assert m["documents"] == 2 and set(_read_dir(tmp / "out_pq")) == {"p1", "p2"}


def test_bad_inputs(setup, capsys):
    tmp, _ = setup
    (tmp / "bad.jsonl").write_text('{"id": "x1", "tokens": ["a", "b"], "entities": [{"start": 0, "end": 9, "label": "P"}]}\n')
    with pytest.raises(Exception, match="bad.jsonl.*x1|x1.*bad.jsonl"):
        predict_distributed(tmp / "model", [str(tmp / "bad.jsonl")], tmp / "out_bad", actors=1)
    assert not (tmp / "out_bad").exists()
    with pytest.raises(RelxInputError, match="no file matches"):
        predict_distributed(tmp / "model", [str(tmp / "nothing*.jsonl")], tmp / "o")
    with pytest.raises(RelxInputError, match="is a directory"):
        predict_distributed(tmp / "model", [str(tmp / "in")], tmp / "o")
    with pytest.raises(RelxInputError, match="not empty"):
        predict_distributed(tmp / "model", [str(tmp / "in" / "a.jsonl")], tmp / "in")
