"""Latency of personalized recommendations under a fixed request rate, from a separate process.

    .venv/bin/python benchmarks/serve_latency.py [--rates 100,200,300,400,600,800] [--seconds 15] [--runs 3]

Builds the synthetic 12,000-item shop, starts `mercato serve` as a subprocess (one uvicorn
worker), and drives it open-loop from this process over loopback: request i is sent at
t0 + i/rate whatever the earlier answers did, so a slow server cannot slow the load down
(no coordinated omission); latency is measured from the scheduled send time. Each user
asked for is a real user with a 15-event history, read from the server's cache or store.
Reports p50/p99 per rate (median over runs) and the highest rate whose p99 stays <= 50 ms.
Writes benchmarks/results/serve_latency.json (serve_latency_<model>.json for other models).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402
from serve_loadgen import open_loop, run  # noqa: E402
from serve_shop import build_shop, free_port, percentiles, start_server, wait_ready  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


async def drive(port: int, rate: float, seconds: float, n_users: int, seed: int) -> dict:
    users = np.random.default_rng(seed).integers(0, n_users, int(rate * seconds))
    latencies, errors, wall = await open_loop(
        "127.0.0.1", port, rate, len(users), lambda i: ("GET", f"/v1/users/u{users[i]}/recommendations?k=10", b"")
    )
    return {"rate": rate, "achieved_rps": round(len(users) / wall, 1), "errors": sum(errors.values()),
            "error_kinds": dict(errors), **percentiles(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="100,200,300,400,600,800")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--model", default="itemknn")
    parser.add_argument("--model-params", default="{}", help='JSON, e.g. \'{"max_minutes": 2}\' for sasrec')
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store_url = build_shop(folder, n_users=args.users)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(folder, store_url, port, serve_model=args.model, serve_model_params=args.model_params)
        try:
            ready_s = wait_ready(url, server)
            run(drive(port, 100, 3, args.users, seed=99))  # warm-up: caches, connections
            by_rate: dict[float, list[dict]] = {r: [] for r in rates}
            for round_ in range(args.runs):
                for rate in rates:
                    result = run(drive(port, rate, args.seconds, args.users, seed=round_))
                    by_rate[rate].append(result)
                    print(json.dumps(result), file=sys.stderr)
        finally:
            server.terminate()
            server.wait(30)
    summary = []
    for rate, results in by_rate.items():
        summary.append({"rate": rate, "p50_ms_median": float(np.median([r["p50_ms"] for r in results])),
                        "p99_ms_median": float(np.median([r["p99_ms"] for r in results])),
                        "p99_ms_runs": [r["p99_ms"] for r in results], "errors": sum(r["errors"] for r in results)})
    within = [s["rate"] for s in summary if s["p99_ms_median"] <= 50 and s["errors"] == 0]
    report = {
        "benchmark": "GET /v1/users/{id}/recommendations?k=10, open loop, latency from the scheduled send",
        "load_generator": "benchmarks/serve_loadgen.py on uvloop, its garbage collector paused during a run",
        "catalog_items": 12_000, "users": args.users, "model": args.model, "seconds_per_rate": args.seconds,
        "runs": args.runs, "server_ready_s": round(ready_s, 1), "summary": summary,
        "max_rate_with_p99_under_50ms": max(within) if within else None,
        "runs_raw": {str(rate): results for rate, results in by_rate.items()}, "machine": machine(),
        "command": "python benchmarks/serve_latency.py " + " ".join(sys.argv[1:]),
    }
    RESULTS.mkdir(exist_ok=True)
    report["model_params"] = json.loads(args.model_params)
    name = "serve_latency.json" if args.model == "itemknn" else f"serve_latency_{args.model}.json"
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
