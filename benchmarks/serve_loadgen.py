"""A lean open-loop HTTP/1.1 load generator on asyncio streams, for loopback benchmarks.

A general client (httpx) spends about a millisecond of CPU per request, which on a 2-core
machine competes with the server being measured; this one writes the request line by hand
and reads Content-Length bodies, which costs a small fraction of that. Requests are sent on
schedule (t0 + i/rate) over a pool of keep-alive connections that grows when all are busy,
and latency counts from the scheduled time, so a stalled server shows up as latency rather
than as a slower load (no coordinated omission).

``run`` drives a load on uvloop with the client's garbage collector paused: the default asyncio
loop adds about half a millisecond per request, and a full collection over thousands of pending
request coroutines paused the client for up to 90 ms, which the open-loop clock then charged to
the server (max latency 80–90 ms with them, under 10 ms without, on the same server).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(load: Coroutine[Any, Any, T]) -> T:
    """Run one load on uvloop with the collector paused (and collected before), as lean as a C client allows."""
    gc.collect()
    gc.disable()
    try:
        return uvloop.run(load)
    finally:
        gc.enable()


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        response_head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(response_head[9:12])
        length = 0
        for line in response_head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def open_loop(host: str, port: int, rate: float, total: int, make_request: Callable[[int], tuple[str, str, bytes]]) -> tuple[list[float], Counter, float]:
    """Send ``total`` requests at ``rate``/s; returns (latencies in ms of the 2xx, failures by kind, wall seconds)."""
    idle: list[Connection] = [await Connection.open(host, port) for _ in range(4)]
    latencies: list[float] = []
    failures: Counter = Counter()
    start = time.perf_counter() + 0.02

    async def one(i: int) -> None:
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        method, path, body = make_request(i)
        reused = bool(idle)
        try:
            connection = idle.pop() if idle else await Connection.open(host, port)
            try:
                status, _ = await connection.request(method, path, body)
            except (OSError, asyncio.IncompleteReadError):
                if not reused:
                    raise
                # A pooled connection idle past the server's keep-alive timeout was closed by
                # it; like any HTTP client, retry once on a fresh connection.
                connection.close()
                connection = await Connection.open(host, port)
                status, _ = await connection.request(method, path, body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            failures[type(exc).__name__] += 1
            return
        idle.append(connection)
        if 200 <= status < 300:
            latencies.append((time.perf_counter() - scheduled) * 1000)
        else:
            failures[f"HTTP {status}"] += 1

    await asyncio.gather(*(one(i) for i in range(total)))
    wall = time.perf_counter() - start
    for connection in idle:
        connection.close()
    return latencies, failures, wall
