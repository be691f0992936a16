"""`relx serve MODEL [--host 127.0.0.1] [--port 8000] [--engine torch|torch_compile|onnx|onnx_int8] [--access-log] [limits]`: HTTP service (FastAPI + uvicorn)."""

from __future__ import annotations

import argparse

from relx.inference.engines import ENGINES
from relx.inference.preprocess import MAX_TEXT_CHARS

DEFAULTS = {
    "max_chars": MAX_TEXT_CHARS,
    "max_items": 256,
    "max_pending": 4096,
    "max_batch": 64,
    "batch_wait_ms": 5.0,
    "max_request_chars": 100_000,
    "max_request_tokens": 20_000,
    "max_header_bytes": 16_384,
}  # = relx.integrations.http.Limits()
POSITIVE = ("max_chars", "max_items", "max_pending", "max_batch", "max_request_chars", "max_request_tokens", "max_header_bytes")


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = argparse.Namespace(**DEFAULTS)
    p = sub.add_parser("serve", help="serve a saved model over HTTP: POST /extract, POST /classify, GET /health, GET /labels, /docs")
    p.add_argument("model", help="saved relx model directory, or the name of a built zoo model (`relx models --zoo`)")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--engine", default="torch", choices=ENGINES)
    p.add_argument("--device", default=None, help="torch device (default: cuda when available, else cpu)")
    p.add_argument("--max-chars", type=int, default=d.max_chars, help="characters per text or sentence")
    p.add_argument("--max-items", type=int, default=d.max_items, help="texts / sentences / documents per request")
    p.add_argument("--max-pending", type=int, default=d.max_pending, help="queued documents before requests get 429")
    p.add_argument("--max-batch", type=int, default=d.max_batch, help="documents per model call (micro-batching)")
    p.add_argument("--batch-wait-ms", type=float, default=d.batch_wait_ms, help="how long to wait to fill a model batch")
    p.add_argument(
        "--max-request-chars",
        type=int,
        default=d.max_request_chars,
        help="characters of all texts / sentences of one request (bounds one request's work; more: 413)",
    )
    p.add_argument(
        "--max-request-tokens", type=int, default=d.max_request_tokens, help="tokens of all documents of one /extract request (more: 413)"
    )
    p.add_argument("--max-header-bytes", type=int, default=d.max_header_bytes, help="bytes of request header names and values (more: 431)")
    p.add_argument("--log-level", default="warning")
    p.add_argument("--access-log", action="store_true", help="log one line per request (default: off)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from relx.errors import RelxConfigError
    from relx.integrations.http import Limits, serve

    for key in (*POSITIVE, "port"):
        if getattr(args, key) < 1:
            raise RelxConfigError(f"--{key.replace('_', '-')} must be >= 1, got {getattr(args, key)}")
    if args.batch_wait_ms < 0:
        raise RelxConfigError(f"--batch-wait-ms must be >= 0, got {args.batch_wait_ms}")
    limits = Limits(**{key: getattr(args, key) for key in DEFAULTS})
    from relx.zoo.cache import resolve_model_path

    resolve_model_path(args.model)  # an unbuilt zoo model name fails here, before the port is bound
    serve(
        args.model,
        args.host,
        args.port,
        limits,
        engine=args.engine,
        device=args.device,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    return 0
