"""The thread-confined store: any thread may call it; calls run on the one owning thread."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mercato.errors import Unavailable
from mercato.storage import open_store
from mercato.storage.confined import ThreadConfinedStore


def test_many_threads_write_and_read_a_sqlite_store(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    with ThreadConfinedStore(lambda: open_store(url)) as store:
        def write(n):
            records = [{"event_id": f"t{n}-{i}", "type": "view", "occurred_at": "2024-01-01T00:00:00Z",
                        "user_id": f"u{n}", "item_id": "x"} for i in range(50)]
            return store.ingest(records).inserted + len(store.user_history(f"u{n}"))

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(write, range(16))) == [100] * 16
        assert store.count_events() == 800
        assert store.call(lambda s: threading.current_thread().name).startswith("mercato-store")
    with open_store(url) as reopened:
        assert reopened.count_events() == 800


def test_closed_store_and_unknown_methods(tmp_path):
    store = ThreadConfinedStore(lambda: open_store(f"sqlite:///{tmp_path / 'm.db'}"))
    with pytest.raises(AttributeError):
        store._append_rows  # noqa: B018  (private primitives are not forwarded)
    store.close()
    store.close()
    with pytest.raises(Unavailable):
        store.count_events()
