"""Group commit: concurrent appends share transactions, and each caller still gets exact counts."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mercato.events import parse_records
from mercato.storage import open_store
from mercato.storage.confined import ThreadConfinedStore
from mercato.storage.group_commit import GroupCommitter


def records(*event_ids: str) -> list[dict]:
    return [{"event_id": e, "type": "view", "occurred_at": "2024-01-01T00:00:00Z", "user_id": "u", "item_id": "i"}
            for e in event_ids]


def frame(*event_ids: str):
    return parse_records(records(*event_ids)).events


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    url = os.environ.get("MERCATO_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set MERCATO_TEST_POSTGRES_URL to run the PostgreSQL backend")
    schema = f"group_commit_{os.getpid()}_{threading.get_ident() % 10_000}"
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def test_existing_event_ids(store_url):
    with open_store(store_url) as store:
        store.append(frame("a", "b"))
        assert store.existing_event_ids(["a", "x", "b", "a"]) == {"a", "b"}
        assert store.existing_event_ids([f"n{i}" for i in range(1200)] + ["b"]) == {"b"}  # several chunks


def test_concurrent_appends_are_grouped_with_exact_counts(store_url):
    with ThreadConfinedStore(lambda: open_store(store_url)) as store:
        store.append(frame("old"))
        writer = GroupCommitter(store)
        gate = threading.Barrier(16)

        def send(n: int):
            gate.wait()
            ids = [f"e{n}", "old"] if n % 4 == 0 else [f"e{n}", f"shared{n % 2}"]
            if n == 5:
                return writer.ingest([*records(*ids), {"event_id": "bad"}])
            return writer.ingest(records(*ids))

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(send, range(16)))
        assert sum(r.inserted for r in results) == store.count_events() - 1 == 16 + 2
        assert sum(r.duplicates for r in results) == 32 - 18
        assert all(r.inserted + r.duplicates == 2 == len(r.events) for r in results)
        assert [(e.index, e.field) for e in results[5].errors][:1] == [(2, "user_id")]
        assert all(not r.errors for n, r in enumerate(results) if n != 5)


def test_a_batch_bigger_than_a_group_commits_alone_with_exact_counts(store_url):
    with ThreadConfinedStore(lambda: open_store(store_url)) as store:
        store.append(frame("old"))
        writer = GroupCommitter(store, max_group_rows=3)
        result = writer.ingest([*records("a", "b", "old", "c"), {"event_id": "bad", "type": "view"}])
        assert (result.inserted, result.duplicates, len(result.events)) == (3, 1, 4)
        assert {e.index for e in result.errors} == {4}
        assert store.count_events() == 4


def test_a_failed_group_fails_every_request_in_it(tmp_path):
    store = ThreadConfinedStore(lambda: open_store(f"sqlite:///{tmp_path / 'm.db'}"))
    writer = GroupCommitter(store)
    store.close()
    with pytest.raises(Exception, match="closed"):
        writer.ingest(records("a"))
