"""The PostgreSQL event store, for shops that outgrow one SQLite file.

URLs are libpq connection URIs: ``postgresql://user:password@host:5432/dbname`` (``postgres://``
works too). Tables are created in the first schema of the connection's ``search_path``, so one
database can hold several independent stores, e.g.
``postgresql://host/db?options=-csearch_path%3Dshop_a`` (the schema must exist).

Bulk appends COPY the rows into a session-local temporary table and move them with one
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: COPY is several times faster than row-by-row
inserts, and doing the de-duplication in SQL keeps the whole append one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.types.string import TextLoader

from mercato.errors import Conflict, InvalidInput, Unavailable
from mercato.storage import codec
from mercato.storage.base import SQLEventStore, redact

SCHEMA_VERSION = 1
# Any fixed number shared by every mercato process: serializes concurrent schema creation.
_SCHEMA_LOCK_ID = 0x6D657263  # "merc"

# Statements that bring the schema from version N-1 to N. Never edit a released entry.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE events (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id text NOT NULL UNIQUE,
            type text NOT NULL,
            occurred_at_us bigint NOT NULL,
            user_id text NOT NULL,
            session_id text,
            item_id text,
            quantity bigint,
            amount_minor bigint,
            currency text,
            order_id text,
            attrs jsonb
        )""",
        # seq is in every index so "ORDER BY occurred_at_us, seq" needs no sort.
        "CREATE INDEX events_by_occurred_at ON events (occurred_at_us, seq)",
        "CREATE INDEX events_by_user ON events (user_id, occurred_at_us, seq)",
        "CREATE INDEX events_by_type ON events (type, occurred_at_us, seq)",
        """CREATE TABLE items (
            item_id text PRIMARY KEY,
            title text NOT NULL,
            category jsonb NOT NULL,
            price_minor bigint,
            currency text,
            brand text,
            attributes jsonb NOT NULL,
            stock bigint,
            created_at_us bigint
        )""",
        """CREATE TABLE users (
            user_id text PRIMARY KEY,
            attributes jsonb NOT NULL,
            created_at_us bigint
        )""",
    ),
}

_EVENT_COLUMN_LIST = ", ".join(codec.EVENT_ROW_COLUMNS)
# ON COMMIT DELETE ROWS empties it after every append; `ord` remembers the batch order.
_CREATE_INCOMING = f"""CREATE TEMPORARY TABLE IF NOT EXISTS incoming_events (
    ord bigint GENERATED ALWAYS AS IDENTITY,
    event_id text, type text, occurred_at_us bigint, user_id text, session_id text, item_id text,
    quantity bigint, amount_minor bigint, currency text, order_id text, attrs text
) ON COMMIT DELETE ROWS"""
_COPY_INCOMING = f"COPY incoming_events ({_EVENT_COLUMN_LIST}) FROM STDIN"
# ORDER BY ord: identity values are drawn in the order rows are inserted, so seq follows the
# batch order, and of two rows with one event_id the first is inserted and the second skipped.
_MOVE_INCOMING = (
    f"INSERT INTO events ({_EVENT_COLUMN_LIST}) "
    f"SELECT {', '.join('attrs::jsonb' if c == 'attrs' else c for c in codec.EVENT_ROW_COLUMNS)} "
    "FROM incoming_events ORDER BY ord "
    "ON CONFLICT (event_id) DO NOTHING"
)


class PostgresEventStore(SQLEventStore):
    _param = "%s"
    _engine = "PostgreSQL"
    _integer_type = "integer"
    _schema_version = SCHEMA_VERSION
    _migrations = _MIGRATIONS
    _error_map = (
        (psycopg.DataError, InvalidInput),  # a value PostgreSQL cannot hold, e.g. a NUL character
        (psycopg.IntegrityError, Conflict),
        # Connection refused or lost, authentication, missing schema, server shutting down:
        # nothing the caller's input can fix.
        (psycopg.Error, Unavailable),
    )

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: psycopg.Connection | None = None
        with self._translated():
            # Autocommit: reads need no transaction; writes open one explicitly.
            conn = psycopg.connect(url, autocommit=True, **_default_timeout(url))
            try:
                # Read JSON columns as text, so both backends hand codec the same values.
                conn.adapters.register_loader("jsonb", TextLoader)
                self._conn = conn
                self._migrate()
                conn.execute(_CREATE_INCOMING)
            except BaseException:
                conn.close()
                self._conn = None
                raise

    # --- primitives ---------------------------------------------------------------------------

    def _append_rows(self, rows: list[tuple]) -> int:
        with self._transaction() as conn, conn.cursor() as cursor:
            with cursor.copy(_COPY_INCOMING) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(_MOVE_INCOMING)
            return cursor.rowcount

    # --- internals ----------------------------------------------------------------------------

    @property
    def _store_name(self) -> str:
        # The URL may hold a password: never put it in a message.
        return f"{self._engine} store {redact(self.url)}"

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection]:
        conn = self._connection()
        with self._translated(), conn.transaction():
            yield conn

    def _lock_schema(self, conn: psycopg.Connection) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_ID,))


def _default_timeout(url: str) -> dict[str, int]:
    # libpq waits indefinitely for an unreachable host by default; fail within 10 s instead,
    # unless the URL chooses its own timeout.
    return {} if "connect_timeout" in url else {"connect_timeout": 10}
