"""predict a JSONL / Parquet corpus with Ray Data actors (pip install 'relx[distributed]')

Records: relx documents (id, tokens, entities) or raw texts (id, text). Writes OUT/part-*.jsonl (relx JSONL)
and OUT/_MANIFEST.json; OUT appears only when every shard is written.

Usage: `relx predict-distributed MODEL --input SHARDS... --output DIR [--actors N]`: Ray Data batch prediction.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from relx.cli import command


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = command(sub, "predict-distributed", __doc__)
    p.add_argument("model", help="saved relx model directory (readable from every Ray worker), or a built zoo model name")
    p.add_argument("--input", nargs="+", required=True, help="files or glob patterns (quote them): *.jsonl or *.parquet")
    p.add_argument("--output", required=True, help="new (or empty) output folder")
    p.add_argument("--actors", type=int, default=2, help="model replicas (one model load each)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--engine", default="torch", choices=("torch", "onnx", "onnx_int8"))
    p.add_argument("--threshold", type=float, default=None)
    p.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray; 'auto' to join a running one)")
    p.set_defaults(func=run)


@contextmanager
def stderr_to(fh: IO[bytes]) -> Iterator[None]:
    """Send file descriptor 2 to ``fh`` for the block: Ray's core (C++) and its loggers write INFO / WARNING lines and
    tracebacks there that would surround relx's one-line error (they are shown only if the job fails unexpectedly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(fh.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def run(args: argparse.Namespace) -> int:
    from relx.errors import RelxConfigError, RelxInputError
    from relx.integrations.ray_batch import predict_distributed

    if args.actors < 1 or args.batch_size < 1:
        raise RelxConfigError("--actors and --batch-size must be >= 1")
    with tempfile.TemporaryFile() as log:
        try:
            with stderr_to(log):
                m = predict_distributed(
                    args.model, args.input, args.output, args.actors, args.batch_size, args.engine, args.threshold, args.address
                )
        except (RelxInputError, RelxConfigError):
            raise  # relx's one-line error says it all
        except BaseException:
            log.seek(0)
            sys.stderr.buffer.write(log.read())  # an unexpected failure: show what Ray said
            sys.stderr.flush()
            raise
    print(f"wrote {m['documents']} documents in {len(m['files'])} files to {args.output}")
    return 0
