"""Ingestion rate of `POST /v1/events`, durably committed, from a separate process on loopback.

    .venv/bin/python benchmarks/ingest_throughput.py [--runs 3] [--batches 20]

Batched: 10,000-event (and 1,000-event) batches, one connection sending back to back and two
connections in parallel; each answer comes after the SQLite commit (WAL, synchronous=FULL).
Single events: one event per POST, one connection and 16 connections, for a few seconds.
Reports events/s per scenario (median over runs). Writes benchmarks/results/ingest_throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import machine  # noqa: E402
from serve_loadgen import Connection  # noqa: E402
from serve_shop import build_shop, free_port, start_server, wait_ready  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def encoded_batch(tag: str, size: int, rng: np.random.Generator) -> bytes:
    users, items = rng.integers(0, 50_000, size), rng.integers(0, 12_000, size)
    events = [{"event_id": f"{tag}-{i}", "type": "view", "occurred_at": "2024-02-01T12:00:00Z",
               "user_id": f"w{users[i]}", "item_id": f"i{items[i]}"} for i in range(size)]
    return json.dumps({"events": events}).encode()


async def batched(port: int, run: str, size: int, batches: int, connections: int) -> float:
    rng = np.random.default_rng(abs(hash((run, size, connections))) % 2**32)
    bodies = [encoded_batch(f"{run}-{size}-{connections}-{b}", size, rng) for b in range(batches)]
    queue = list(reversed(bodies))
    inserted = 0

    async def sender() -> None:
        nonlocal inserted
        connection = await Connection.open("127.0.0.1", port)
        while queue:
            status, body = await connection.request("POST", "/v1/events", queue.pop())
            assert status == 200, body[:300]
            inserted += json.loads(body)["inserted"]
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return inserted / (time.perf_counter() - started)


async def single(port: int, run: str, seconds: float, connections: int) -> float:
    inserted = 0
    deadline = time.perf_counter() + seconds

    async def sender(c: int) -> None:
        nonlocal inserted
        connection = await Connection.open("127.0.0.1", port)
        n = 0
        while time.perf_counter() < deadline:
            body = json.dumps({"event_id": f"{run}-s{connections}-{c}-{n}", "type": "view",
                               "occurred_at": "2024-02-01T12:00:00Z", "user_id": f"s{c}", "item_id": f"i{n % 12_000}"})
            status, _ = await connection.request("POST", "/v1/events", body.encode())
            assert status == 200
            inserted += 1
            n += 1
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender(c) for c in range(connections)))
    return inserted / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--single-seconds", type=float, default=5)
    args = parser.parse_args()
    scenarios: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store_url = build_shop(folder)
        port = free_port()
        server = start_server(folder, store_url, port)
        try:
            wait_ready(f"http://127.0.0.1:{port}", server)
            for run in range(args.runs):
                tag = f"r{run}"
                for size, connections in ((10_000, 1), (10_000, 2), (1_000, 1)):
                    rate = asyncio.run(batched(port, tag, size, args.batches, connections))
                    scenarios.setdefault(f"batch_{size}_x{connections}_connections", []).append(round(rate))
                for connections in (1, 16):
                    rate = asyncio.run(single(port, tag, args.single_seconds, connections))
                    scenarios.setdefault(f"single_event_posts_x{connections}_connections", []).append(round(rate))
                print(json.dumps({k: v[-1] for k, v in scenarios.items()}), file=sys.stderr)
        finally:
            server.terminate()
            server.wait(60)
    report = {
        "benchmark": "POST /v1/events, answered after a durable SQLite commit (WAL, synchronous=FULL)",
        "store_events_at_start": 300_000,
        "events_per_s_median": {k: float(np.median(v)) for k, v in scenarios.items()},
        "events_per_s_runs": scenarios,
        "machine": machine(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest_throughput.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["events_per_s_median"], indent=2))


if __name__ == "__main__":
    main()
