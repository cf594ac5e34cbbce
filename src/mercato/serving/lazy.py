"""A resource a route opens on its first use rather than at start-up.

The assistant, its handoff queue and the risk review store are opened when first asked for, so
a server without them (no trained assistant, no risk model) still starts and serves the rest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Closable(Protocol):
    def close(self) -> None: ...


T = TypeVar("T", bound=Closable)


class Lazy(Generic[T]):
    """``get()`` opens it once, under a lock (a failed open raises and is retried on the next
    call); ``close()`` closes it if it was opened, and a later ``get()`` opens it again."""

    def __init__(self, opener: Callable[[], T]) -> None:
        self._opener = opener
        self._lock = threading.Lock()
        self._value: T | None = None

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                self._value = self._opener()
            return self._value

    def close(self) -> None:
        with self._lock:
            if self._value is not None:
                self._value.close()
                self._value = None
