"""Corpus-scale prediction on Ray Data: JSONL / Parquet shards in, relx JSONL shards out.

Each actor loads the model once (``Pipeline.load``) and predicts batch after batch; records are relx documents
(``id``, ``tokens``, ``entities``: classified as by ``relx predict``) or raw texts (``id``, ``text``: extracted as
by ``relx predict --text``). Output: ``OUT/part-*.jsonl`` (one relx JSONL document per line) and
``OUT/_MANIFEST.json`` (inputs, counts). The folder appears under its final name only when every shard is
written; a bad record fails the job with its file and id. Needs ``pip install 'relx[distributed]'``.

    relx predict-distributed runs/x/model --input 'corpus/*.jsonl' --output preds/ --actors 4
    ray job submit -- relx predict-distributed ... --address auto      # on an existing Ray cluster
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from relx.errors import RelxConfigError, RelxInputError


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RelxConfigError("distributed prediction needs Ray Data: pip install 'relx[distributed]'") from None
    return ray


def expand_inputs(patterns: list[str]) -> list[str]:
    """Files named by paths / glob patterns (sorted, unique); a directory or nothing matched is an error."""
    files: list[str] = []
    for pat in patterns:
        found = sorted(glob.glob(pat)) if any(c in pat for c in "*?[") else [pat]
        if not found:
            raise RelxInputError("no file matches this pattern", pat)
        for f in found:
            if Path(f).is_dir():
                raise RelxInputError("is a directory (give files or a glob such as 'dir/*.jsonl')", f)
            if not Path(f).is_file():
                raise RelxInputError("no such file", f)
            files.append(str(Path(f).resolve()))
    return sorted(set(files))


class Predictor:
    """Ray actor: one Pipeline per actor; a batch of records -> one written shard (relx JSONL), its name and size."""

    def __init__(self, model_dir: str, batch_size: int, engine: str, threshold: float | None, staging: str, parquet: bool):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.staging, self.parquet = Path(staging), parquet
        from relx.pipeline import Pipeline

        self.nlp = Pipeline.load(model_dir, device="cpu" if engine != "torch" else None, batch_size=batch_size, engine=engine,
                                 threshold=threshold)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        from relx.data.schema import Document

        records, where = [], []
        if not self.parquet:  # JSONL lines
            for line, path in zip(batch["text"], batch["path"]):
                if not str(line).strip():
                    continue
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise RelxInputError(f"invalid JSON ({exc.msg}) in line {str(line)[:60]!r}", path) from None
                where.append(str(path))
        else:  # Parquet rows
            cols = list(batch)
            n = len(batch[cols[0]]) if cols else 0
            for i in range(n):
                records.append({c: _plain(batch[c][i]) for c in cols if c != "path"})
                where.append(str(batch["path"][i]) if "path" in batch else "parquet")
        docs, texts = [], []
        for rec, src in zip(records, where):
            rid = rec.get("id") if isinstance(rec, dict) else None
            if isinstance(rec, dict) and "tokens" not in rec and isinstance(rec.get("text"), str):
                texts.append((str(rid if rid is not None else len(texts)), rec["text"], src))
                continue
            try:
                docs.append(Document.from_dict(rec))
            except RelxInputError as exc:
                raise RelxInputError(exc.problem, src, f"record id {rid!r}") from None
            self.nlp.check(docs[-1:], src, lambda _i, rid=rid: f"record id {rid!r}")
        out = self.nlp.predict(docs) if docs else []
        if texts:
            out += self.nlp.extract([t for _, t, _ in texts], [i for i, _, _ in texts])
        return write_shard(self.staging, [d.id for d in out], [json.dumps(d.to_dict(), ensure_ascii=False) for d in out])


def _plain(value: Any) -> Any:
    """numpy / pyarrow values of a Parquet row -> plain JSON-like Python."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    return value


def write_shard(staging: Path, ids: list[str], lines: list[str]) -> dict[str, list]:
    """``part-<hash of the ids>.jsonl`` under ``staging`` (written atomically)."""
    if not lines:
        return {"file": [], "documents": []}
    from relx.utils import atomic_open

    name = "part-" + hashlib.sha1("\n".join(ids).encode()).hexdigest()[:16] + ".jsonl"
    with atomic_open(staging / name) as fh:
        fh.write("".join(line + "\n" for line in lines))
    return {"file": [name], "documents": [len(lines)]}


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


def predict_distributed(model_dir: str | Path, inputs: list[str], output: str | Path, actors: int = 2, batch_size: int = 64,
                        engine: str = "torch", threshold: float | None = None, address: str | None = None) -> dict:
    """Run the job; returns the manifest (also written as OUT/_MANIFEST.json)."""
    from relx.models import persistence

    ray = _ray()
    files = expand_inputs(inputs)
    persistence.read_model_meta(Path(model_dir))  # a clear error before any cluster work
    out = Path(output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RelxInputError("output folder exists and is not empty (choose a new folder)", out)
    parquet = [f for f in files if f.endswith(".parquet")]
    if parquet and len(parquet) != len(files):
        raise RelxInputError("mix of Parquet and JSONL inputs; run them separately", files[0])
    staging = out.with_name(out.name + ".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if not ray.is_initialized():
        local = {} if address else {"num_cpus": max(os.cpu_count() or 1, actors + 1)}  # logical CPUs: actors + the readers
        ray.init(address=address, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True, **local)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    if parquet:
        ds = ray.data.read_parquet(files, include_paths=True)
    else:
        ds = ray.data.read_text(files, include_paths=True)
    kwargs = {"model_dir": str(Path(model_dir).resolve()), "batch_size": batch_size, "engine": engine, "threshold": threshold,
              "staging": str(staging), "parquet": bool(parquet)}
    try:
        written = ds.map_batches(Predictor, fn_constructor_kwargs=kwargs, batch_size=batch_size * 4, concurrency=actors,
                                 batch_format="numpy").take_all()
    except Exception as exc:
        shutil.rmtree(staging, ignore_errors=True)
        inner = _relx_error(exc)
        if inner is not None:
            raise inner from None
        raise
    manifest = {"model": str(model_dir), "inputs": files, "actors": actors, "engine": engine,
                "files": sorted(r["file"] for r in written), "documents": int(sum(r["documents"] for r in written))}
    (staging / "_MANIFEST.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if out.exists():
        out.rmdir()
    os.replace(staging, out)
    return manifest
