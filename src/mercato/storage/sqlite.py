"""The SQLite event store: the embedded default, one file, no server.

URLs: ``sqlite:///relative/path.db`` (relative to the working directory),
``sqlite:////absolute/path.db``, and ``sqlite://:memory:`` (gone on close).

The connection belongs to the thread that opened the store (sqlite3's default check);
using it from another thread raises ``Unavailable`` instead of risking interleaved
transactions. One process at a time may write; WAL lets readers in other processes
proceed while it does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mercato.errors import Conflict, InvalidInput, Unavailable
from mercato.storage import codec
from mercato.storage.base import SQLEventStore

SCHEMA_VERSION = 1

# Statements that bring the schema from version N-1 to N. Never edit a released entry:
# add a new version instead, so existing files can be upgraded in place.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        # seq is the rowid, so every index below is ordered by (its columns, seq) for free:
        # "ORDER BY occurred_at_us, seq" reads an index in order without a sort.
        # AUTOINCREMENT keeps seq from ever being reused, so insertion order stays total.
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            event_id TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            occurred_at_us INTEGER NOT NULL,
            user_id TEXT NOT NULL,
            session_id TEXT,
            item_id TEXT,
            quantity INTEGER,
            amount_minor INTEGER,
            currency TEXT,
            order_id TEXT,
            attrs TEXT
        )""",
        "CREATE INDEX events_by_occurred_at ON events (occurred_at_us)",
        "CREATE INDEX events_by_user ON events (user_id, occurred_at_us)",
        "CREATE INDEX events_by_type ON events (type, occurred_at_us)",
        """CREATE TABLE items (
            item_id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            category TEXT NOT NULL,
            price_minor INTEGER,
            currency TEXT,
            brand TEXT,
            attributes TEXT NOT NULL,
            stock INTEGER,
            created_at_us INTEGER
        )""",
        """CREATE TABLE users (
            user_id TEXT PRIMARY KEY,
            attributes TEXT NOT NULL,
            created_at_us INTEGER
        )""",
    ),
}

_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(codec.EVENT_ROW_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(codec.EVENT_ROW_COLUMNS))}) "
    "ON CONFLICT (event_id) DO NOTHING"
)


def sqlite_path(url: str) -> str:
    """The file path (or ``:memory:``) a ``sqlite://`` URL names."""
    prefix = "sqlite://"
    if not url.lower().startswith(prefix):
        raise InvalidInput(f"not a SQLite URL: {url!r}; expected e.g. 'sqlite:///var/mercato.db'")
    rest = url[len(prefix) :]
    if rest in ("", ":memory:", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/") or rest == "/":
        raise InvalidInput(
            f"bad SQLite URL {url!r}: use 'sqlite:///relative/path.db', 'sqlite:////absolute/path.db' "
            "or 'sqlite://:memory:'"
        )
    return rest[1:]


class SQLiteEventStore(SQLEventStore):
    _param = "?"
    _engine = "SQLite"
    _integer_type = "INTEGER"
    _schema_version = SCHEMA_VERSION
    _migrations = _MIGRATIONS
    _error_map = (
        (sqlite3.IntegrityError, Conflict),
        (sqlite3.DataError, InvalidInput),
        (OverflowError, InvalidInput),  # an integer beyond SQLite's 64 bits
        # Locked, unreadable, not a database, disk full, wrong thread: nothing the caller's
        # input can fix, and a retry (after the lock holder finishes) may succeed.
        (sqlite3.Error, Unavailable),
    )

    def __init__(self, url: str) -> None:
        self.url = url
        path = sqlite_path(url)
        self._conn: sqlite3.Connection | None = None
        with self._translated():
            if path != ":memory:":
                try:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise Unavailable(f"cannot create the folder for SQLite store {url}: {exc}") from exc
            # isolation_level=None: sqlite3 opens no implicit transactions; we say BEGIN ourselves.
            conn = sqlite3.connect(path, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                # FULL, not NORMAL: in WAL mode NORMAL skips the fsync at commit, so a power cut
                # can lose transactions already acknowledged to the client. Callers are told an
                # event is stored only once it is on disk; bulk appends are one commit, so the
                # extra fsync costs them nothing measurable.
                conn.execute("PRAGMA synchronous=FULL")
                # A bigger page cache (64 MiB) keeps the event_id index in memory during bulk appends.
                conn.execute("PRAGMA cache_size=-65536")
                # Wait for another process's write instead of failing at once.
                conn.execute("PRAGMA busy_timeout=5000")
                self._conn = conn
                self._migrate()
            except BaseException:
                conn.close()
                self._conn = None
                raise

    # --- primitives ---------------------------------------------------------------------------

    def _append_rows(self, rows: list[tuple]) -> int:
        with self._transaction() as conn:
            # rowcount of executemany sums the rows changed; a conflict changes none.
            return conn.executemany(_INSERT_EVENT, rows).rowcount

    # --- internals ----------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed if the block finishes, rolled back otherwise."""
        conn = self._connection()
        with self._translated():
            # IMMEDIATE takes the write lock now, so the commit cannot fail on a lock upgrade.
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.execute("COMMIT")
