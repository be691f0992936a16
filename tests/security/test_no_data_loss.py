"""No command deletes or silently drops user data: outputs never replace folders or files relx did not write,
temp folders are unique (never a user's folder that happens to have the name), and `relx predict-distributed`
writes one document per input record (ids ``FILE:LINE`` for records without one) or publishes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import make_pair_docs, save_tiny_marker
from relx.cli import main
from relx.data.schema import read_jsonl, write_jsonl
from relx.errors import RelxInputError

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["Bill Gates founded Microsoft.", "John Smith works for Acme Corp in London.", "Mary lives in Paris, France."]


@pytest.fixture(scope="module")
def marker(tmp_path_factory, tiny_bert) -> Path:
    return save_tiny_marker(tmp_path_factory.mktemp("nodataloss") / "model", tiny_bert)


def _tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


# --- relx export onnx -----------------------------------------------------------------------------------
def test_export_onnx_never_deletes_files_it_did_not_write(marker, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    import relx

    run = tmp_path / "run"
    shutil.copytree(marker, run / "model")
    (run / "result.json").write_text('{"best_dev": 0.5}\n')
    (run / "notes.txt").write_text("my notes\n")
    before = _tree(run)
    user_tmp = tmp_path / "run.tmp"  # the old code's temp name: a user's folder here was deleted
    user_tmp.mkdir()
    (user_tmp / "keep.txt").write_text("mine\n")

    # `relx export onnx runs/x/model runs/x` deleted the whole run; now a non-empty OUT needs --overwrite ...
    assert main(["export", "onnx", str(run / "model"), str(run), "--no-int8"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--overwrite" in err and str(run) in err
    assert _tree(run) == before
    # ... and then replaces only what the export writes: every other file stays
    assert main(["export", "onnx", str(run / "model"), str(run), "--no-int8", "--overwrite"]) == 0
    after = _tree(run)
    assert {k: after.get(k) for k in before} == before  # the model folder, result.json and notes.txt are untouched
    assert {"model.onnx", "onnx.json", "config.json", "model.safetensors"} <= set(after)
    relx.load(run, engine="onnx")
    assert (user_tmp / "keep.txt").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "run.tmp"]  # no temp folder left behind


# --- relx export gpu-bundle ------------------------------------------------------------------------------
def test_gpu_bundle_refuses_a_non_empty_folder_and_keeps_other_files(tiny_bert, tmp_path, capsys):
    write_jsonl(tmp_path / "d.jsonl", make_pair_docs())
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    args = [
        "export",
        "gpu-bundle",
        "--out",
        str(out),
        "--encoder",
        str(tiny_bert),
        "--data",
        f"{tmp_path / 'd.jsonl'}:jsonl",
        "--no-annotate",
    ]
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err and sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert main([*args, "--overwrite"]) == 0
    assert (out / "notes.txt").read_text() == "mine\n" and (out / "MANIFEST.json").is_file() and (out / "data" / "d.jsonl.gz").is_file()
    (tmp_path / "other").mkdir()
    write_jsonl(tmp_path / "other" / "d.jsonl", make_pair_docs()[:1])  # same file name: would overwrite data/d.jsonl.gz
    assert main([*args, "--overwrite", "--data", f"{tmp_path / 'other' / 'd.jsonl'}:jsonl"]) == 2
    assert "both be written as data/d.jsonl.gz" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "d.jsonl", "other"]


# --- relx train --out ---------------------------------------------------------------------------------------
def test_train_never_replaces_a_folder_relx_did_not_write(marker, tmp_path, capsys):
    out = tmp_path / "proj"
    (out / "best").mkdir(parents=True)  # a user's folder that training would swap out as a whole
    (out / "best" / "weights.bin").write_bytes(b"precious")
    for extra in ([], ["--overwrite"]):
        assert main(["train", "--config", str(tmp_path / "no-such.yaml"), "--out", str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert "best/ that relx did not write" in err and len(err.strip().splitlines()) == 1
    assert (out / "best" / "weights.bin").read_bytes() == b"precious"
    # an interrupted run (checkpoints, no result.json yet) is a run too: not silently restarted over
    run = tmp_path / "run"
    shutil.copytree(marker, run / "last")
    assert main(["train", "--config", str(tmp_path / "no-such.yaml"), "--out", str(run)]) == 2
    assert "already holds a run (last)" in capsys.readouterr().err


def test_model_save_refuses_to_replace_a_users_folder(marker, tmp_path):
    from relx.models.loading import load_model

    target = tmp_path / "model"
    target.mkdir()
    (target / "data.csv").write_text("a,b\n")
    with pytest.raises(RelxInputError, match="not a directory written by relx"):
        load_model(marker).save(target)
    assert _tree(target) == {"data.csv": b"a,b\n"}
    load_model(marker).save(tmp_path / "mine")  # a relx model directory is still replaced as a whole
    load_model(marker).save(tmp_path / "mine")


def test_atomic_helpers_remove_only_their_own_temps(tmp_path):
    from relx.utils import atomic_directory, atomic_open

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    users = [tmp_path / ".t.mine.tmpdir", tmp_path / ".t.backup_1.olddir", tmp_path / ".t.abcdefgh.olddir"]
    for d in users:
        d.mkdir()
        (d / "keep.txt").write_text("mine\n")
    stale = tmp_path / f".t.{dead.pid}-abcd1234.tmpdir"  # what a killed atomic_directory leaves
    stale.mkdir()
    with atomic_directory(tmp_path / "t") as tmp:
        (tmp / "config.json").write_text('{"type": "svm2stage", "config": {}}')
    assert not stale.exists() and all((d / "keep.txt").read_text() == "mine\n" for d in users)
    user_file = tmp_path / ".r.json.backup.tmp"
    user_file.write_text("mine\n")
    with atomic_open(tmp_path / "r.json") as fh:
        fh.write("{}")
    assert user_file.read_text() == "mine\n"


# --- outputs that are the input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "{model}", "--input", "{data}", "--output", "{data}"],
        ["data", "convert", "{data}", "{data}", "--to", "jsonl"],
        ["data", "pairs", "{data}", "{data}"],
        ["data", "stats", "{data}", "--json", "{data}"],
    ],
)
def test_commands_never_write_over_their_input(marker, tmp_path, capsys, argv):
    data = tmp_path / "gold.jsonl"
    write_jsonl(data, make_pair_docs())
    link = tmp_path / "same.jsonl"
    link.symlink_to(data)
    before = data.read_bytes()
    for out in (data, link):
        args = [a.format(model=marker, data=data) for a in argv]
        args[len(args) - 1 - args[::-1].index(str(data))] = str(out)  # the output argument
        assert main(args) == 2
        assert "is also the input file" in capsys.readouterr().err
    assert data.read_bytes() == before


# --- relx predict-distributed ------------------------------------------------------------------------------
def _raw_lines(n: int, blank_every: int = 0) -> bytes:
    lines = []
    for i in range(n):
        if blank_every and i and i % blank_every == 0:
            lines.append("")
        lines.append(json.dumps({"text": TEXTS[i % len(TEXTS)]}))
    return ("\n".join(lines) + "\n").encode()


def test_distributed_plan_names_every_record_by_file_and_line(marker, tmp_path):
    pytest.importorskip("ray")
    from relx.integrations.ray_batch import Predictor, input_labels, plan, read_chunk

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = tmp_path / "a" / "x.jsonl", tmp_path / "b" / "x.jsonl"
    a.write_bytes(_raw_lines(10, blank_every=4))  # 10 records on 12 lines
    b.write_bytes(b'{"id": "given", "text": "Bill Gates founded Microsoft."}\n\n{"id": null, "text": "Mary lives in Paris."}\n')
    labels = input_labels([str(a), str(b)])
    assert labels == {str(a): "a/x.jsonl", str(b): "b/x.jsonl"} and input_labels([str(a)]) == {str(a): "x.jsonl"}
    chunks, total = plan([str(a), str(b)], 4, parquet=False)
    assert total == 12 and [c["records"] for c in chunks] == [4, 4, 2, 2]
    assert len({c["shard"] for c in chunks}) == 4 and all("-x-" in c["shard"] for c in chunks)
    lines = [n for c in chunks[:3] for n, _ in read_chunk(c, parquet=False)]
    assert lines == [1, 2, 3, 4, 6, 7, 8, 9, 11, 12]
    actor = Predictor(str(marker), 8, "torch", None, str(tmp_path / "staging"), parquet=False)
    docs = actor.predict_records(str(b), "b/x.jsonl", read_chunk(chunks[3], parquet=False))
    assert [d.id for d in docs] == ["given", "b/x.jsonl:3"] and all("extraction" in d.meta for d in docs)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(_raw_lines(2) + b'{"text": "caf\xe9"}\n')
    (chunk,), _ = plan([str(bad)], 8, parquet=False)
    with pytest.raises(RelxInputError) as err:
        read_chunk(chunk, parquet=False)
    assert str(err.value) == f"{bad}:3: not valid UTF-8 (byte 0xe9 at column 14)"


def test_distributed_parquet_rows_are_numbered(marker, tmp_path):
    pytest.importorskip("ray")
    import pyarrow as pa
    import pyarrow.parquet as pq

    from relx.integrations.ray_batch import plan, read_chunk

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": ["p1", None, None], "text": TEXTS}), path, row_group_size=2)
    chunks, total = plan([str(path)], 2, parquet=True)
    assert total == 3 and [(c["first"], c["records"]) for c in chunks] == [(1, 2), (3, 1)]
    rows = [r for c in chunks for r in read_chunk(c, parquet=True)]
    assert rows == [(1, {"id": "p1", "text": TEXTS[0]}), (2, {"text": TEXTS[1]}), (3, {"text": TEXTS[2]})]


def test_distributed_count_mismatch_publishes_nothing(marker, tmp_path, monkeypatch):
    pytest.importorskip("ray")
    import relx.integrations.ray_batch as dp

    src = tmp_path / "in.jsonl"
    src.write_bytes(_raw_lines(5))
    monkeypatch.setattr(dp, "_run", lambda *a, **k: [{"file": "part-x.jsonl", "documents": 3, "records": 5}])
    with pytest.raises(RelxInputError, match="hold 3 documents .* inputs hold 5 records"):
        dp.predict_distributed(marker, [str(src)], tmp_path / "out", batch_size=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.integration
def test_predict_distributed_writes_every_record_once(marker, tmp_path):
    ray = pytest.importorskip("ray")
    from relx.integrations.ray_batch import predict_distributed

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = tmp_path / "a" / "texts.jsonl", tmp_path / "b" / "texts.jsonl"
    one.write_bytes(_raw_lines(200, blank_every=50))  # 200 raw texts without ids
    two.write_bytes(_raw_lines(3))  # same file name in another folder
    user = tmp_path / "out.staging"  # the old staging name: a user's folder here was deleted
    user.mkdir()
    (user / "keep.txt").write_text("mine\n")
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False)
    try:
        manifest = predict_distributed(marker, [str(one), str(two)], tmp_path / "out", actors=2, batch_size=8)
    finally:
        ray.shutdown()
    shards = sorted((tmp_path / "out").glob("part-*.jsonl"))
    docs = [d for f in shards for d in read_jsonl(f)]
    ids = [d.id for d in docs]
    assert len(docs) == 203 and len(set(ids)) == 203
    line_of = [i + 1 + i // 50 for i in range(200)]  # a blank line after every 50 records
    assert set(ids) == {f"a/texts.jsonl:{n}" for n in line_of} | {f"b/texts.jsonl:{n}" for n in (1, 2, 3)}
    assert manifest["documents"] == manifest["records"] == 203 and len(manifest["files"]) == len(shards) == 8
    assert json.loads((tmp_path / "out" / "_MANIFEST.json").read_text())["documents"] == 203
    assert (user / "keep.txt").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "out", "out.staging"]


@pytest.mark.integration
def test_predict_distributed_bad_utf8_is_one_line_and_publishes_nothing(marker, tmp_path):
    pytest.importorskip("ray")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(_raw_lines(2) + b'{"text": "caf\xe9"}\n' + _raw_lines(2))
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT / "src")), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "relx",
            "predict-distributed",
            str(marker),
            "--input",
            str(bad),
            "--output",
            str(tmp_path / "out"),
            "--actors",
            "1",
            "--batch-size",
            "8",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [f"relx: error: {bad}:3: not valid UTF-8 (byte 0xe9 at column 14)"], proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]
