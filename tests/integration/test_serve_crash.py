"""kill -9 of a real `mercato serve` during batched ingestion loses no acknowledged event.

A client streams batches of events; once several are acknowledged the server process is
killed with SIGKILL mid-stream. Every acknowledged event must then be in the store, every
batch must be all-or-nothing, and a restarted server must come up on the same file.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx

from mercato.storage import open_store

BATCH = 500
ACKED_BEFORE_KILL = 6


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(tmp_path, port: int) -> subprocess.Popen:
    env = {**os.environ, "MERCATO_MODEL_DIR": str(tmp_path / "models"), "MERCATO_REFIT_INTERVAL_S": "0"}
    store = f"sqlite:///{tmp_path / 'mercato.db'}"
    with open(tmp_path / "server.log", "ab") as log:  # the child keeps its own copy of the handle
        return subprocess.Popen(
            [sys.executable, "-m", "mercato.cli", "serve", "--store", store, "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )


def wait_healthy(url: str, process: subprocess.Popen, log_path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("server did not become healthy")


def batch(n: int) -> list[dict]:
    return [
        {"event_id": f"b{n}-{i}", "type": "view", "occurred_at": "2024-05-01T12:00:00Z", "user_id": f"u{i % 50}",
         "item_id": f"i{(n * 7 + i) % 300}"}
        for i in range(BATCH)
    ]


def test_kill_9_during_batched_ingestion_loses_no_acknowledged_event(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(tmp_path, port)
    acknowledged: list[int] = []
    sent: list[int] = []
    enough = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            for n in range(10_000):
                sent.append(n)
                try:
                    response = http.post("/v1/events", json={"events": batch(n)})
                except httpx.TransportError:
                    return  # the server died under this request: not acknowledged
                assert response.status_code == 200 and response.json()["inserted"] == BATCH
                acknowledged.append(n)
                if len(acknowledged) >= ACKED_BEFORE_KILL:
                    enough.set()

    try:
        wait_healthy(url, server, tmp_path / "server.log")
        client = threading.Thread(target=stream)
        client.start()
        assert enough.wait(120), "too few batches acknowledged"
        server.send_signal(signal.SIGKILL)  # while the client keeps streaming
        server.wait(30)
        client.join(60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(30)
    with open_store(f"sqlite:///{tmp_path / 'mercato.db'}") as store:
        stored_ids = set(store.read_events()["event_id"])
    for n in acknowledged:
        assert {e["event_id"] for e in batch(n)} <= stored_ids, f"acknowledged batch {n} lost"
    for n in sent:
        present = {e["event_id"] for e in batch(n)} & stored_ids
        assert len(present) in (0, BATCH), f"batch {n} half stored"

    restarted = start_server(tmp_path, port)
    try:
        wait_healthy(url, restarted, tmp_path / "server.log")
        again = httpx.post(f"{url}/v1/events", json={"events": batch(acknowledged[0])}, timeout=30).json()
        assert again["duplicates"] == BATCH  # idempotent across the crash
    finally:
        restarted.terminate()
        restarted.wait(30)
