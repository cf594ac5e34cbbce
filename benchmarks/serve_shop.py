"""A synthetic shop for the serving benchmarks, and a `mercato serve` subprocess to load-test.

12,000 items in 40 categories with Zipf-distributed popularity; each user has a favourite
category and views items mostly from it, so item-to-item neighbours are meaningful and the
catalog is as large as the issue's latency target asks (>= 12,000 items).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from mercato.events import Item, conform
from mercato.storage import open_store

START = datetime(2024, 1, 1, tzinfo=UTC)


def build_shop(folder: Path, *, n_items: int = 12_000, n_users: int = 20_000, views_per_user: int = 15,
               n_categories: int = 40, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    store_url = f"sqlite:///{folder / 'shop.db'}"
    category_of = rng.integers(0, n_categories, n_items)
    by_category = [np.flatnonzero(category_of == c) for c in range(n_categories)]
    items = [Item(item_id=f"i{i}", title=f"item {i}", category=(f"c{category_of[i]}",), price_minor=int(rng.integers(100, 10_000)),
                  stock=int(rng.integers(0, 50))) for i in range(n_items)]
    n_events = n_users * views_per_user
    users = np.repeat(np.arange(n_users), views_per_user)
    favourite = rng.integers(0, n_categories, n_users)[users]
    from_favourite = rng.random(n_events) < 0.8
    picks = np.empty(n_events, dtype=np.int64)
    for c in range(n_categories):
        members = by_category[c]
        rows = np.flatnonzero((favourite == c) & from_favourite)
        ranks = np.minimum(rng.zipf(1.3, len(rows)) - 1, len(members) - 1)
        picks[rows] = members[ranks]
    others = np.flatnonzero(~from_favourite)
    picks[others] = rng.integers(0, n_items, len(others))
    times = [START + timedelta(seconds=int(s)) for s in np.sort(rng.integers(0, 30 * 86_400, n_events))]
    events = conform(pd.DataFrame({
        "event_id": [f"seed-{n}" for n in range(n_events)],
        "type": "view",
        "occurred_at": pd.to_datetime(times, utc=True),
        "user_id": [f"u{u}" for u in users],
        "item_id": [f"i{p}" for p in picks],
    }))
    with open_store(store_url) as store:
        store.put_items(items)
        store.append(events)
    return store_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder: Path, store_url: str, port: int, **settings: str) -> subprocess.Popen:
    env = {**os.environ, "MERCATO_MODEL_DIR": str(folder / "models"), "MERCATO_REFIT_INTERVAL_S": "0"}
    env.update({f"MERCATO_{k.upper()}": v for k, v in settings.items()})
    with open(folder / "server.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "mercato.cli", "serve", "--store", store_url, "--port", str(port)],
                                env=env, stdout=log, stderr=log)


def wait_ready(url: str, process: subprocess.Popen, timeout_s: float = 300) -> float:
    """Seconds until /readyz answers 200 (the first model trained and loaded)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server not ready in time")


def percentiles(values_ms: list[float]) -> dict[str, float]:
    a = np.asarray(values_ms)
    return {"n": len(a), "p50_ms": round(float(np.percentile(a, 50)), 2), "p90_ms": round(float(np.percentile(a, 90)), 2),
            "p99_ms": round(float(np.percentile(a, 99)), 2), "max_ms": round(float(a.max()), 2)}
