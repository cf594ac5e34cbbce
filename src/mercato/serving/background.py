"""Run an app on uvicorn in a background thread: for the demo, tests and benchmarks.

``mercato serve`` runs uvicorn in the foreground; this is for a program that serves and
does something else meanwhile (the demo streams events into its own server), and that
must stop the server by itself when done.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from mercato.errors import Unavailable


@contextmanager
def running_server(app, host: str = "127.0.0.1", port: int | None = None, start_timeout_s: float = 120) -> Iterator[str]:
    """Serve ``app`` (lifespan included) until the block ends; yields the base URL.

    ``port`` None picks a free loopback port.
    """
    import uvicorn

    if port is None:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:  # uvicorn sets it once the lifespan ran and the socket listens
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise Unavailable(f"the server on {host}:{port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(60)
