"""Corpus-scale prediction on Ray Data: JSONL / Parquet shards in, relx JSONL shards out.

Each actor loads the model once (``Pipeline.load``) and predicts chunk after chunk; records are relx documents
(``id``, ``tokens``, ``entities``: classified as by ``relx predict``) or raw texts (``id``, ``text``: extracted as
by ``relx predict --text``). Output: ``OUT/part-*.jsonl`` (one relx JSONL document per line) and
``OUT/_MANIFEST.json`` (inputs, counts). Needs ``pip install 'relx[distributed]'``.

    relx predict-distributed runs/x/model --input 'corpus/*.jsonl' --output preds/ --actors 4
    ray job submit -- relx predict-distributed ... --address auto      # on an existing Ray cluster

How records are read (so that every record keeps its place). The driver plans the job without parsing anything:
it scans each JSONL file once as bytes (like ``wc -l``: no decoding, no JSON) and cuts it into chunks of
``batch_size * 4`` non-empty lines, each described by (file, byte range, first line number, record count); for
Parquet it reads only the footer (row counts) and cuts row ranges. Only these small chunk descriptions go through
Ray Data (``ray.data.from_items``); each actor reads its chunk's bytes (or rows) from the file itself, so the driver
never holds the corpus, and every record is known by its place ``FILE:LINE`` (Parquet ``FILE:ROW``, rows counted
from 1 like lines). Ray's ``read_text`` was not used: it yields lines without their line numbers.

* A record without an ``id`` (or with ``"id": null``) gets ``FILE:LINE`` as its id, ``FILE`` being the file's path
  relative to the folder that holds all inputs (its base name when they share one folder): stable across machines
  and working directories, and unique even for inputs with the same base name in different folders.
* Errors name the place: ``FILE:LINE: problem`` (bad JSON, invalid UTF-8) or ``FILE:LINE (record id 'x'): problem``.
* A chunk is written as ``part-<stem>-<hash>-<first line or row>.jsonl``: ``<stem>`` is the file's name, ``<hash>``
  8 hex digits of its full path (so inputs with the same name in different folders never collide).
* The job counts the non-empty lines (Parquet rows) it planned, each actor checks it read exactly its chunk's
  records (the file did not change) and wrote one document per record, and the driver checks that the shards
  hold as many documents as the inputs hold records. Only then does the folder appear under its final name
  (written in a unique temp folder beside it, then renamed); on any failure nothing is published.
* Gzipped JSONL (``.gz``) works, but a gzip stream cannot be entered in the middle: each chunk of a ``.gz`` file
  decompresses it from the start, so prefer several moderate files (or uncompressed ones) for large corpora.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from relx.errors import RelxConfigError, RelxInputError
from relx.integrations.ray_inputs import expand_inputs, input_labels, plan, read_chunk, shard_name
from relx.utils import staging_directory

__all__ = ["MANIFEST", "Predictor", "expand_inputs", "input_labels", "plan", "predict_distributed", "read_chunk", "shard_name"]

MANIFEST = "_MANIFEST.json"


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RelxConfigError("distributed prediction needs Ray Data: pip install 'relx[distributed]'") from None
    return ray


class Predictor:
    """Ray actor: one Pipeline per actor; a batch of chunks -> one written shard per chunk, its name and counts."""

    def __init__(self, model_dir: str, batch_size: int, engine: str, threshold: float | None, staging: str, parquet: bool):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.staging, self.parquet = Path(staging), parquet
        from relx.inference.pipeline import Pipeline

        self.pipeline = Pipeline.load(
            model_dir, device="cpu" if engine != "torch" else None, batch_size=batch_size, engine=engine, threshold=threshold
        )

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        out: dict[str, list] = {"file": [], "documents": [], "records": []}
        for i in range(len(batch["path"])):
            chunk = {k: batch[k][i] for k in batch}
            docs = self.predict_records(str(chunk["path"]), str(chunk["label"]), read_chunk(chunk, self.parquet))
            write_shard(self.staging, str(chunk["shard"]), [json.dumps(d.to_dict(), ensure_ascii=False) for d in docs])
            out["file"].append(str(chunk["shard"]))
            out["documents"].append(len(docs))
            out["records"].append(int(chunk["records"]))
        return out

    def predict_records(self, path: str, label: str, records: list[tuple[int, Any]]) -> list[Any]:
        """One predicted Document per record, in input order; a record without id gets ``label:line``."""
        from relx.data.schema import Document

        docs: list[tuple[int, Document]] = []
        texts: list[tuple[int, str, str, int]] = []  # (index, id, text, line)
        for k, (line_no, rec) in enumerate(records):
            if not isinstance(rec, dict):
                raise RelxInputError(f"expected a JSON object, got {type(rec).__name__}", path, line_no)
            if rec.get("id") is None:
                rec = {**rec, "id": f"{label}:{line_no}"}
            rid = rec["id"]
            if "tokens" not in rec and isinstance(rec.get("text"), str):
                texts.append((k, str(rid), rec["text"], line_no))
                continue
            try:
                doc = Document.from_dict(rec)
            except RelxInputError as exc:
                raise RelxInputError(exc.problem, f"{path}:{line_no}", f"record id {rid!r}") from None
            self.pipeline.check([doc], f"{path}:{line_no}", lambda _i, rid=rid: f"record id {rid!r}")
            docs.append((k, doc))
        out: dict[int, Any] = {}
        if docs:
            out.update(zip([k for k, _ in docs], self.pipeline.predict([d for _, d in docs])))
        if texts:
            got = self.pipeline.extract([t for _, _, t, _ in texts], [i for _, i, _, _ in texts], path, lambda j: texts[j][3])
            out.update(zip([k for k, _, _, _ in texts], got))
        if len(out) != len(records):
            raise RelxInputError(f"predicted {len(out)} documents for {len(records)} records", path, records[0][0] if records else None)
        return [out[k] for k in range(len(records))]


def write_shard(staging: Path, name: str, lines: list[str]) -> None:
    """``staging/name`` (written atomically)."""
    from relx.utils import atomic_open

    with atomic_open(staging / name) as fh:
        fh.write("".join(line + "\n" for line in lines))


def _relx_error(exc: BaseException) -> RelxInputError | None:
    """The RelxInputError a Ray worker raised, from the wrapped exception chain (or its message)."""
    seen = set()
    stack: list[Any] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, RelxInputError):
            return RelxInputError(e.problem, e.path, e.where)
        stack += [getattr(e, "cause", None), e.__cause__, e.__context__]
    match = re.search(r"relx\.errors\.RelxInputError: (.+)", str(exc))  # Ray re-raised it as text only
    if match:
        err = RelxInputError(match.group(1))
        err.args = (match.group(1),)  # already "file (record): problem"
        return err
    return None


# Ray's own loggers: their INFO / WARNING lines (and the tracebacks Ray Data logs for a failed actor) would
# surround relx's one-line error on stderr; the job's outcome is reported by relx, so they are held at CRITICAL.
# (`relx predict-distributed` also sets RAY_BACKEND_LOG_LEVEL for the C++ core's own stderr lines.)
RAY_LOGGERS = ("ray", "ray.data", "ray.train", "ray.tune", "ray.serve")


@contextmanager
def quiet_ray() -> Iterator[Any]:
    """Silence Ray's Python loggers for the job (levels restored after); yields a function that silences them
    again, for after ``ray.init`` (which sets the level of Ray's logger)."""
    import ray.data  # noqa: F401  (configures Ray Data's loggers on import: before the levels are set)

    loggers = [logging.getLogger(name) for name in RAY_LOGGERS]
    levels = [lg.level for lg in loggers]

    def silence() -> None:
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)

    silence()
    try:
        yield silence
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def predict_distributed(
    model_dir: str | Path,
    inputs: list[str],
    output: str | Path,
    actors: int = 2,
    batch_size: int = 64,
    engine: str = "torch",
    threshold: float | None = None,
    address: str | None = None,
) -> dict:
    """Run the job; returns the manifest (also written as OUT/_MANIFEST.json)."""
    from relx.models import persistence
    from relx.zoo.cache import resolve_model_path

    ray = _ray()
    files = expand_inputs(inputs)
    model_dir = resolve_model_path(model_dir)  # an existing path, else a built zoo model of that name
    persistence.read_model_meta(Path(model_dir))  # a clear error before any cluster work
    out = Path(output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RelxInputError("output folder exists and is not empty (choose a new folder)", out)
    parquet = [f for f in files if f.endswith(".parquet")]
    if parquet and len(parquet) != len(files):
        raise RelxInputError("mix of Parquet and JSONL inputs; run them separately", files[0])
    chunks, expected = plan(files, batch_size * 4, bool(parquet))
    with staging_directory(out, ".staging") as staging:
        with quiet_ray() as silence:
            written = _run(ray, chunks, model_dir, staging, actors, batch_size, engine, threshold, address, bool(parquet), silence)
        documents = int(sum(r["documents"] for r in written))
        names = sorted(str(r["file"]) for r in written)
        on_disk = sorted(p.name for p in staging.glob("part-*.jsonl"))
        if documents != expected or names != sorted(c["shard"] for c in chunks) or on_disk != names:
            raise RelxInputError(
                f"the shards hold {documents} documents in {len(on_disk)} files, but the inputs hold {expected} "
                f"records in {len(chunks)} chunks; output not published",
                out,
            )
        manifest = {
            "model": str(model_dir),
            "inputs": files,
            "actors": actors,
            "engine": engine,
            "records": expected,
            "files": names,
            "documents": documents,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        if out.exists():
            out.rmdir()  # empty (checked above); fails rather than replace anything that appeared meanwhile
        os.replace(staging, out)
    return manifest


def _run(
    ray: Any,
    chunks: list[dict],
    model_dir: str | Path,
    staging: Path,
    actors: int,
    batch_size: int,
    engine: str,
    threshold: float | None,
    address: str | None,
    parquet: bool,
    silence: Any = None,
) -> list[dict]:
    """The Ray Data job over ``chunks``: one row (shard file, documents, records) per chunk."""
    if not chunks:
        return []
    if not ray.is_initialized():
        local = {} if address else {"num_cpus": max(os.cpu_count() or 1, actors + 1)}  # logical CPUs: actors + the driver's tasks
        ray.init(
            address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True, logging_level=logging.CRITICAL, **local
        )
    if silence is not None:
        silence()
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    for attr in ("print_on_execution_start", "enable_operator_progress_bars"):
        if hasattr(ctx, attr):
            setattr(ctx, attr, False)
    kwargs = {
        "model_dir": str(Path(model_dir).resolve()),
        "batch_size": batch_size,
        "engine": engine,
        "threshold": threshold,
        "staging": str(staging),
        "parquet": parquet,
    }
    ds = ray.data.from_items(chunks, override_num_blocks=min(len(chunks), 1000))
    try:
        rows = ds.map_batches(
            Predictor, fn_constructor_kwargs=kwargs, batch_size=1, compute=ray.data.ActorPoolStrategy(size=actors), batch_format="numpy"
        ).take_all()
    except Exception as exc:
        inner = _relx_error(exc)
        if inner is not None:
            raise inner from None
        raise
    return rows
