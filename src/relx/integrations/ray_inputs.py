"""Inputs of :mod:`relx.integrations.ray_batch`: files planned into chunks (JSONL byte ranges, Parquet row
ranges) without parsing, and each chunk read back as (line or row number, record) by the actor that owns it."""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from relx.errors import RelxInputError


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


# --- planning (driver) ------------------------------------------------------------------------------------
def input_labels(files: list[str]) -> dict[str, str]:
    """Each file's name in ids: its path relative to the folder holding all inputs (POSIX separators)."""
    if not files:
        return {}
    common = os.path.commonpath([os.path.dirname(f) for f in files])
    return {f: Path(os.path.relpath(f, common)).as_posix() for f in files}


def shard_name(path: str, first: int) -> str:
    """``part-<stem>-<8 hex of the full path>-<first line / row>.jsonl``."""
    name = Path(path).name
    for suffix in (".gz", ".jsonl", ".json", ".ndjson", ".parquet", ".txt"):
        name = name[: -len(suffix)] if name.lower().endswith(suffix) and len(name) > len(suffix) else name
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:60] or "input"
    return f"part-{stem}-{hashlib.sha1(path.encode()).hexdigest()[:8]}-{first:09d}.jsonl"


def _open_binary(path: str) -> Any:
    return gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")


def plan_jsonl(path: str, label: str, per_chunk: int) -> tuple[list[dict], int]:
    """Chunks of ``per_chunk`` non-empty lines of one JSONL file (byte ranges, first line numbers) and its record count."""
    chunks: list[dict] = []
    total, pos, line_no, start, first, count = 0, 0, 0, -1, 0, 0

    def close(end: int) -> None:
        chunks.append(
            {"path": path, "label": label, "start": start, "end": end, "first": first, "records": count, "shard": shard_name(path, first)}
        )

    try:
        with _open_binary(path) as fh:
            for line in fh:
                line_no += 1
                end = pos + len(line)
                if line.strip():
                    if start < 0:
                        start, first, count = pos, line_no, 0
                    count += 1
                    total += 1
                    if count == per_chunk:
                        close(end)
                        start = -1
                pos = end
    except (OSError, EOFError) as exc:  # unreadable, or a damaged gzip stream
        raise RelxInputError(f"cannot read ({exc})", path) from None
    if start >= 0:
        close(pos)
    return chunks, total


def plan_parquet(path: str, label: str, per_chunk: int) -> tuple[list[dict], int]:
    """Row ranges of ``per_chunk`` rows of one Parquet file (from its footer only) and its row count."""
    import pyarrow.parquet as pq

    try:
        rows = pq.ParquetFile(path).metadata.num_rows
    except Exception as exc:  # pyarrow raises its own types for damaged files
        raise RelxInputError(f"cannot read Parquet ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})", path) from None
    chunks = [
        {
            "path": path,
            "label": label,
            "start": s,
            "end": min(s + per_chunk, rows),
            "first": s + 1,
            "records": min(s + per_chunk, rows) - s,
            "shard": shard_name(path, s + 1),
        }
        for s in range(0, rows, per_chunk)
    ]
    return chunks, rows


def plan(files: list[str], per_chunk: int, parquet: bool) -> tuple[list[dict], int]:
    """All chunks of ``files`` and the number of records they hold."""
    labels = input_labels(files)
    chunks: list[dict] = []
    total = 0
    for f in files:
        c, n = (plan_parquet if parquet else plan_jsonl)(f, labels[f], per_chunk)
        chunks += c
        total += n
    return chunks, total


# --- reading and predicting (actors) ----------------------------------------------------------------------
def read_chunk(chunk: dict, parquet: bool) -> list[tuple[int, Any]]:
    """(line or row number, record) of every record of ``chunk``; a bad line raises RelxInputError naming FILE:LINE."""
    path, start, end, first = str(chunk["path"]), int(chunk["start"]), int(chunk["end"]), int(chunk["first"])
    if parquet:
        records = list(enumerate(_parquet_rows(path, start, end), start=first))
    else:
        with _open_binary(path) as fh:
            fh.seek(start)
            data = fh.read(end - start)
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        records = []
        for line_no, raw in enumerate(lines, start=first):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RelxInputError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", path, line_no) from None
            if line_no == 1:
                text = text.removeprefix("\ufeff")
            try:
                records.append((line_no, json.loads(text)))
            except json.JSONDecodeError as exc:
                raise RelxInputError(f"invalid JSON ({exc.msg} at column {exc.colno}) in line {text[:60]!r}", path, line_no) from None
    if len(records) != int(chunk["records"]):
        raise RelxInputError(
            f"read {len(records)} records where the job planned {chunk['records']} (the file changed while the job ran?)", path, first
        )
    return records


def _parquet_rows(path: str, start: int, end: int) -> list[Any]:
    """Rows ``start`` (0-based) to ``end`` of a Parquet file as plain dicts (nulls dropped), reading only their row groups."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    groups, offset, skip = [], 0, 0
    for g in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if offset + n > start and offset < end:
            if not groups:
                skip = start - offset
            groups.append(g)
        offset += n
    table = pf.read_row_groups(groups).slice(skip, end - start) if groups else None
    return [_drop_nulls(r) for r in table.to_pylist()] if table is not None else []


def _drop_nulls(value: Any) -> Any:
    """Parquet nulls are absent fields: drop None values of (nested) dicts."""
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    return value
