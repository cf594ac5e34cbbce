"""Request metrics in the Prometheus text format, without a client library.

A pure ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which costs a task per
request) counts requests by route template and status and records latency in a histogram.
Gauges about the engine (model version, learner backlog, …) are read at scrape time.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

# Upper bounds in seconds: fine-grained below 50 ms, where the latency targets are.
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class RequestMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets: defaultdict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS_S) + 1))
        self.sums_s: defaultdict[str, float] = defaultdict(float)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.buckets[route][bisect.bisect_left(BUCKETS_S, seconds)] += 1
            self.sums_s[route] += seconds

    def render(self, gauges: Iterable[tuple[str, str, float]]) -> str:
        lines = ["# TYPE mercato_http_requests_total counter"]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                lines.append(f'mercato_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
            lines.append("# TYPE mercato_http_request_duration_seconds histogram")
            for route, counts in sorted(self.buckets.items()):
                cumulative = 0
                for bound, n in zip((*BUCKETS_S, float("inf")), counts, strict=True):
                    cumulative += n
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    lines.append(f'mercato_http_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {cumulative}')
                lines.append(f'mercato_http_request_duration_seconds_sum{{route="{route}"}} {self.sums_s[route]:.6f}')
                lines.append(f'mercato_http_request_duration_seconds_count{{route="{route}"}} {cumulative}')
        for name, help_text, value in gauges:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    def __init__(self, app: Callable, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            # The template (/v1/users/{user_id}/…), not the path: one series per endpoint.
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.observe(scope.get("method", ""), template, status, time.perf_counter() - started)
