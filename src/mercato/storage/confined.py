"""A store usable from many threads: every call runs on the one thread that owns the connection.

A web server answers requests on a pool of threads, but a SQLite connection belongs to the
thread that opened it and a psycopg connection must not run two statements at once. Rather
than a connection per thread (several SQLite writers would queue on the file lock anyway),
``ThreadConfinedStore`` opens the store on a dedicated worker thread and forwards each call
there, so calls are serialized and each write is still one transaction on one connection.
A write is acknowledged to the caller only after the worker has committed it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from mercato.errors import Unavailable
from mercato.storage.base import EventStore

T = TypeVar("T")

# The store methods forwarded to the worker thread; anything else is not part of the contract.
_FORWARDED = frozenset(
    {
        "append",
        "append_validated",
        "ingest",
        "existing_event_ids",
        "read_events",
        "user_history",
        "count_events",
        "put_items",
        "get_item",
        "read_items",
        "put_users",
        "get_user",
    }
)


class ThreadConfinedStore:
    """Wraps ``open_store(url)``: same methods, callable from any thread, run one at a time."""

    def __init__(self, opener: Callable[[], EventStore]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mercato-store")
        self._closed = threading.Event()
        # Opening on the worker binds the connection to it; open errors reach the caller here.
        self._store: EventStore = self._executor.submit(opener).result()
        self.url = self._store.url

    def call(self, function: Callable[[EventStore], T]) -> T:
        """Run ``function(store)`` on the store's thread and return its result (or raise its error)."""
        return self.submit(function).result()

    def submit(self, function: Callable[[EventStore], T]) -> Future[T]:
        """Queue ``function(store)`` on the store's thread without waiting for it."""
        if self._closed.is_set():
            raise Unavailable(f"store {self!r} is closed")
        try:
            return self._executor.submit(function, self._store)
        except RuntimeError as exc:  # the executor shut down between the check and the submit
            raise Unavailable(f"store {self!r} is closed") from exc

    def __getattr__(self, name: str) -> Any:
        if name not in _FORWARDED:
            raise AttributeError(name)

        def forwarded(*args: Any, **kwargs: Any) -> Any:
            return self.call(lambda store: getattr(store, name)(*args, **kwargs))

        forwarded.__name__ = name
        return forwarded

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._executor.submit(self._store.close).result()
        finally:
            self._executor.shutdown(wait=True)

    def __enter__(self) -> ThreadConfinedStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ThreadConfinedStore({self._store!r})"
