"""Load test of `relx serve` (loopback only, bounded): N concurrent clients for T seconds.

Starts `relx serve MODEL` on 127.0.0.1, runs ``--clients`` asyncio clients that each POST one marked sentence to
``/classify`` back to back for ``--seconds`` seconds, samples the server's RSS every second, and reports
requests/s, latency p50/p90/p99, status codes (5xx must be 0) and memory at start / mid / end / peak (bounded:
no growth across the run). Writes ``benchmarks/results/serve_load.{json,md}``.

    python benchmarks/serve_load.py --clients 50 --seconds 60 [--model DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, hardware, markdown_table, save_rows, train_semeval_marker, write_text  # noqa: E402

SENTENCES = [
    "<e1>Bill Gates</e1> founded <e2>Microsoft</e2> in Albuquerque in 1975 .",
    "The <e1>company</e1> fabricates plastic <e2>chairs</e2> .",
    "A <e1>man</e1> walked into the <e2>room</e2> with a box of tools .",
    "The <e1>burst</e1> was caused by water <e2>hammer</e2> pressure .",
]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def default_model() -> Path:
    """A MiniLM marker model: the speed benchmark's, else one trained for 1 epoch on SemEval (about 5 minutes)."""
    for cand in (ROOT / "runs" / "speed" / "train" / "model", ROOT / "runs" / "serve_load" / "model"):
        if (cand / "config.json").is_file():
            return cand
    return train_semeval_marker(ROOT / "runs" / "serve_load", ["trainer.epochs=1"])


async def client(url: str, stop_at: float, lat: list[float], codes: dict[int, int], rnd: random.Random) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=60) as http:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                r = await http.post(url + "/classify", json={"sentence": rnd.choice(SENTENCES)})
                code = r.status_code
            except httpx.HTTPError:
                code = -1  # connection error: counted, must stay 0
            lat.append(time.perf_counter() - t0)
            codes[code] = codes.get(code, 0) + 1


async def run_load(url: str, pid: int, clients: int, seconds: float) -> dict:
    lat: list[float] = []
    codes: dict[int, int] = {}
    mem: list[tuple[float, float]] = []
    start = time.perf_counter()
    stop_at = start + seconds

    async def sampler() -> None:
        while time.perf_counter() < stop_at:
            mem.append((time.perf_counter() - start, rss_mb(pid)))
            await asyncio.sleep(1)

    await asyncio.gather(sampler(), *(client(url, stop_at, lat, codes, random.Random(i)) for i in range(clients)))
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(lat, n=100)
    third = max(1, len(mem) // 3)
    return {
        "requests": len(lat),
        "seconds": round(elapsed, 1),
        "req_per_s": round(len(lat) / elapsed, 1),
        "p50_ms": round(1000 * q[49], 1),
        "p90_ms": round(1000 * q[89], 1),
        "p99_ms": round(1000 * q[98], 1),
        "status": {str(k): v for k, v in sorted(codes.items())},
        "errors_5xx": sum(v for k, v in codes.items() if k >= 500 or k < 0),
        "rss_start_mb": round(mem[0][1]),
        "rss_mid_mb": round(statistics.mean(m for _, m in mem[third : 2 * third])),
        "rss_end_mb": round(statistics.mean(m for _, m in mem[-third:])),
        "rss_peak_mb": round(max(m for _, m in mem)),
        "rss_first_third_mb": round(statistics.mean(m for _, m in mem[:third])),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--threads", type=int, default=2, help="torch threads of the server")
    ap.add_argument("--max-batch", type=int, default=64)
    args = ap.parse_args()
    model = Path(args.model) if args.model else default_model()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": str(ROOT / "src")}
    server = subprocess.Popen(
        [sys.executable, "-m", "relx", "serve", str(model), "--port", str(port), "--device", "cpu", "--max-batch", str(args.max_batch)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        httpx.post(url + "/classify", json={"sentences": SENTENCES}, timeout=60)  # warm-up
        res = asyncio.run(run_load(url, server.pid, args.clients, args.seconds))
        calls = httpx.get(url + "/health").json()["model_calls"]
    finally:
        server.terminate()
        server.wait(30)
    row = {
        "model": str(model.relative_to(ROOT) if model.is_relative_to(ROOT) else model),
        "clients": args.clients,
        "threads": args.threads,
        "max_batch": args.max_batch,
        **res,
        "model_calls": calls,
        "hardware": hardware(),
        "script": "benchmarks/serve_load.py " + " ".join(sys.argv[1:]),
    }
    save_rows(RESULTS / "serve_load.json", [row])
    table = markdown_table(
        [
            "clients",
            "seconds",
            "requests",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "5xx + conn. errors",
            "RSS start / first third / mid / last third / peak MB",
            "model calls",
        ],
        [
            [
                row["clients"],
                row["seconds"],
                row["requests"],
                row["req_per_s"],
                row["p50_ms"],
                row["p90_ms"],
                row["p99_ms"],
                row["errors_5xx"],
                f"{row['rss_start_mb']} / {row['rss_first_third_mb']} / {row['rss_mid_mb']} / {row['rss_end_mb']} / {row['rss_peak_mb']}",
                row["model_calls"],
            ]
        ],
    )
    text = (
        "# `relx serve` under load (loopback, bounded)\n\nProduced by `benchmarks/serve_load.py` on "
        + row["hardware"]
        + f": {args.clients} asyncio clients POST one marked SemEval-style sentence each to /classify, back to back, for "
        f"{args.seconds:.0f} s; requests are micro-batched into the MiniLM marker model (max batch {args.max_batch}, "
        f"{args.threads} torch threads). Status codes: {row['status']}.\n\n" + table
    )
    write_text(RESULTS / "serve_load.md", text)
    print(text)


if __name__ == "__main__":
    main()
