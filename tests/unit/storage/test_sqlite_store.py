"""SQLite specifics the shared contract cannot see: URL forms, pragmas, schema versions, index use."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from mercato.errors import Conflict, InvalidInput, Unavailable
from mercato.storage import open_store
from mercato.storage.sqlite import SCHEMA_VERSION, SQLiteEventStore, sqlite_path

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///var/mercato.db", "var/mercato.db"),
        ("sqlite:////srv/mercato.db", "/srv/mercato.db"),
        ("sqlite://:memory:", ":memory:"),
        ("sqlite://", ":memory:"),
    ],
)
def test_url_forms(url: str, path: str) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize("url", ["sqlite:relative.db", "sqlite://relative.db", "sqlite:///"])
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput, match="sqlite:///"):
        open_store(url)


def test_relative_path_is_relative_to_cwd_and_parent_is_created(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///nested/folder/events.db") as store:
        assert isinstance(store, SQLiteEventStore)
    assert (tmp_path / "nested" / "folder" / "events.db").is_file()


def test_memory_store_works() -> None:
    with open_store("sqlite://:memory:") as store:
        store.ingest([{"event_id": "e1", "type": "search", "occurred_at": T0, "user_id": "u", "attrs": {"query": "q"}}])
        assert store.count_events() == 1


def test_file_is_wal_with_full_sync_and_versioned(tmp_path) -> None:
    path = tmp_path / "events.db"
    with open_store(f"sqlite:///{path}"):
        pass
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # persists in the file
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        conn.close()


def test_newer_schema_is_refused(tmp_path) -> None:
    path = tmp_path / "events.db"
    with open_store(f"sqlite:///{path}"):
        pass
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION + 1,))
    conn.close()
    with pytest.raises(Conflict, match="upgrade mercato"):
        open_store(f"sqlite:///{path}")


def test_a_file_that_is_not_a_database_is_unavailable(tmp_path) -> None:
    path = tmp_path / "events.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(Unavailable, match="not a database"):
        open_store(f"sqlite:///{path}")


def _plans(store: SQLiteEventStore, read) -> list[str]:
    """EXPLAIN QUERY PLAN of every query ``read(store)`` sends."""
    queries = []
    real_fetch = store._fetch

    def spy(sql, params=()):
        queries.append((sql, params))
        return real_fetch(sql, params)

    store._fetch = spy
    read(store)
    return [" | ".join(row[-1] for row in real_fetch(f"EXPLAIN QUERY PLAN {sql}", params)) for sql, params in queries]


@pytest.mark.parametrize(
    ("read", "index"),
    [
        (lambda s: s.user_history("u1", limit=10), "events_by_user"),
        (lambda s: s.read_events(user_id="u1", since=T0), "events_by_user"),
        (lambda s: s.read_events(since=T0, until=T0 + timedelta(days=1)), "events_by_occurred_at"),
        (lambda s: s.read_events(types=["purchase"], since=T0), "events_by_type"),
    ],
)
def test_reads_use_an_index(read, index: str) -> None:
    with open_store("sqlite://:memory:") as store:
        (plan,) = _plans(store, read)
    assert f"USING INDEX {index}" in plan


def test_time_range_and_history_reads_need_no_sort() -> None:
    # Each index is ordered by (its columns, rowid) and seq is the rowid, so one index range
    # is already in (occurred_at, seq) order.
    with open_store("sqlite://:memory:") as store:
        (plan,) = _plans(store, lambda s: s.read_events(since=T0, until=T0 + timedelta(days=1)))
        (history_plan,) = _plans(store, lambda s: s.user_history("u1"))
    assert "TEMP B-TREE" not in plan
    assert "TEMP B-TREE" not in history_plan
