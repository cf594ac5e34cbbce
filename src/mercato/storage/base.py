"""The event store contract, and the behaviour every SQL backend shares.

A backend supplies a connection and three primitives (``_append_rows``, ``_fetch``,
``_write_many``) plus its placeholder style; validation, query building and conversion are
done here once, so SQLite and PostgreSQL cannot drift apart in what they accept or return.
``SQLEventStore`` implements the connection-level primitives (reads, batched writes, closing,
schema migration) once too; a backend keeps only how it connects, opens a transaction, maps
its driver's exceptions, bulk-appends events, and its dialect's SQL.
The shared contract suite (``tests/contract/test_store_contract.py``) runs against each.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from mercato.errors import Conflict, InvalidInput, MercatoError, NotFound, Unavailable
from mercato.events.schema import EVENT_TYPES, Item, User
from mercato.events.validation import EventError, Validated, parse_records, validate_or_raise
from mercato.storage import codec

_EVENT_SELECT = "SELECT " + ", ".join(codec.EVENT_ROW_COLUMNS) + " FROM events"
_ITEM_SELECT = "SELECT " + ", ".join(codec.ITEM_ROW_COLUMNS) + " FROM items"
_USER_SELECT = "SELECT " + ", ".join(codec.USER_ROW_COLUMNS) + " FROM users"


@dataclass(slots=True)
class AppendResult:
    inserted: int
    duplicates: int  # rows whose event_id was already stored, or repeated earlier in the batch


@dataclass(slots=True)
class IngestResult:
    inserted: int
    duplicates: int
    errors: list[EventError] = field(default_factory=list)


class EventStore(ABC):
    """The event log plus the catalog and users. Use as a context manager, or call ``close``."""

    url: str
    # "?" for sqlite3, "%s" for psycopg: the only SQL difference the shared queries need.
    _param: str

    # --- backend primitives -------------------------------------------------------------------

    @abstractmethod
    def _append_rows(self, rows: list[tuple]) -> int:
        """Insert event rows (``codec.EVENT_ROW_COLUMNS`` order) in one transaction, skipping
        event_ids already stored or earlier in ``rows``; return how many were inserted."""

    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run one read query and return all rows."""

    @abstractmethod
    def _write_many(self, sql: str, rows: list[tuple]) -> None:
        """Run one statement for every row, all in one transaction."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; idempotent."""

    # --- events -------------------------------------------------------------------------------

    def append(self, events: pd.DataFrame) -> AppendResult:
        """Store a validated event frame in one transaction; an event_id already stored is skipped.

        Any invalid row raises ``InvalidInput`` and nothing is stored: callers holding untrusted
        records should use ``ingest``, which keeps the good ones and reports the bad ones.
        """
        if not isinstance(events, pd.DataFrame):
            raise InvalidInput(f"append takes an event frame (pandas DataFrame), got {type(events).__name__}")
        return self._append_frame(validate_or_raise(events))

    def append_validated(self, checked: Validated) -> AppendResult:
        """Store the good events of a ``parse_records`` / ``validate_frame`` result as ``append``
        does, without checking them a second time (they passed every rule on the way in)."""
        if not isinstance(checked, Validated):
            raise InvalidInput(f"append_validated takes a Validated result, got {type(checked).__name__}")
        return self._append_frame(checked.events)

    def _append_frame(self, events: pd.DataFrame) -> AppendResult:
        rows = codec.event_rows(events)
        if not rows:
            return AppendResult(inserted=0, duplicates=0)
        inserted = self._append_rows(rows)
        return AppendResult(inserted=inserted, duplicates=len(rows) - inserted)

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> IngestResult:
        """Parse JSON-like events; store the good ones (one transaction), report the bad by index."""
        checked = parse_records(records)
        result = self.append_validated(checked)
        return IngestResult(inserted=result.inserted, duplicates=result.duplicates, errors=checked.errors)

    def existing_event_ids(self, event_ids: Iterable[str]) -> set[str]:
        """The subset of ``event_ids`` already stored: lets a caller that commits several
        clients' batches in one transaction tell each client which of its events were new."""
        wanted = list(dict.fromkeys(str(i) for i in event_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):  # well under every driver's parameter limit
            chunk = wanted[start : start + 500]
            placeholders = ", ".join([self._param] * len(chunk))
            found.update(row[0] for row in self._fetch(f"SELECT event_id FROM events WHERE event_id IN ({placeholders})", chunk))
        return found

    def read_events(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: str | None = None,
        types: Iterable[str] | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Events with ``since <= occurred_at < until``, ordered by (occurred_at, insertion order).

        ``limit`` keeps the first (oldest) N of that order.
        """
        where, params = self._where(since=since, until=until, user_id=user_id, types=types)
        sql = f"{_EVENT_SELECT}{where} ORDER BY occurred_at_us, seq"
        sql, params = self._with_limit(sql, params, limit)
        return codec.event_frame(self._fetch(sql, params))

    def user_history(self, user_id: str, *, types: Iterable[str] | None = None, limit: int | None = None) -> pd.DataFrame:
        """A user's events oldest first; ``limit`` keeps the most recent N."""
        if not isinstance(user_id, str) or not user_id:
            raise InvalidInput("user_history needs a non-empty user_id string")
        where, params = self._where(user_id=user_id, types=types)
        sql = f"{_EVENT_SELECT}{where} ORDER BY occurred_at_us DESC, seq DESC"
        sql, params = self._with_limit(sql, params, limit)
        rows = self._fetch(sql, params)
        rows.reverse()
        return codec.event_frame(rows)

    def count_events(self, types: Iterable[str] | None = None) -> int:
        where, params = self._where(types=types)
        return int(self._fetch(f"SELECT COUNT(*) FROM events{where}", params)[0][0])

    def _where(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        user_id: str | None = None,
        types: Iterable[str] | None = None,
    ) -> tuple[str, list[Any]]:
        p = self._param
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append(f"occurred_at_us >= {p}")
            params.append(codec.datetime_to_us(since, "since"))
        if until is not None:
            clauses.append(f"occurred_at_us < {p}")
            params.append(codec.datetime_to_us(until, "until"))
        if user_id is not None:
            if not isinstance(user_id, str):
                raise InvalidInput(f"user_id must be a string, got {type(user_id).__name__}")
            clauses.append(f"user_id = {p}")
            params.append(user_id)
        if types is not None:
            wanted = _event_types(types)
            if not wanted:
                # An empty selection selects nothing, rather than "no filter".
                clauses.append("1 = 0")
            else:
                clauses.append(f"type IN ({', '.join([p] * len(wanted))})")
                params.extend(wanted)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _with_limit(self, sql: str, params: list[Any], limit: int | None) -> tuple[str, list[Any]]:
        if limit is None:
            return sql, params
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise InvalidInput(f"limit must be a non-negative integer or None, got {limit!r}")
        return f"{sql} LIMIT {self._param}", [*params, limit]

    # --- catalog and users --------------------------------------------------------------------

    def put_items(self, items: Iterable[Item]) -> int:
        """Insert or replace items by item_id (a repeated id: the last one wins); return how many were given."""
        rows = [codec.item_row(item) for item in items]
        self._write_many(self._upsert_sql("items", codec.ITEM_ROW_COLUMNS), rows)
        return len(rows)

    def get_item(self, item_id: str) -> Item:
        rows = self._fetch(f"{_ITEM_SELECT} WHERE item_id = {self._param}", [item_id])
        if not rows:
            raise NotFound(f"item {item_id!r} is not in the catalog; add it with put_items")
        return codec.item_from_row(rows[0])

    def read_items(self) -> list[Item]:
        return [codec.item_from_row(row) for row in self._fetch(f"{_ITEM_SELECT} ORDER BY item_id")]

    def put_users(self, users: Iterable[User]) -> int:
        """Insert or replace users by user_id (a repeated id: the last one wins); return how many were given."""
        rows = [codec.user_row(user) for user in users]
        self._write_many(self._upsert_sql("users", codec.USER_ROW_COLUMNS), rows)
        return len(rows)

    def get_user(self, user_id: str) -> User:
        rows = self._fetch(f"{_USER_SELECT} WHERE user_id = {self._param}", [user_id])
        if not rows:
            raise NotFound(f"user {user_id!r} is not stored; add it with put_users")
        return codec.user_from_row(rows[0])

    def _upsert_sql(self, table: str, columns: Sequence[str]) -> str:
        key, *rest = columns
        updates = ", ".join(f"{c} = excluded.{c}" for c in rest)
        values = ", ".join([self._param] * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values}) ON CONFLICT ({key}) DO UPDATE SET {updates}"

    # --- lifetime -----------------------------------------------------------------------------

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self.url)!r})"


class SQLEventStore(EventStore):
    """An ``EventStore`` over one DB-API style connection (sqlite3 or psycopg).

    Reads, batched writes, closing and schema migration are the same for every backend; a
    subclass sets the class attributes below, opens ``self._conn`` (``None`` once closed),
    and implements ``_transaction`` and ``_append_rows``.
    """

    # The engine's name, for messages: "SQLite store ...", "PostgreSQL store ...".
    _engine: str
    # The SQL type word for schema_version.version.
    _integer_type: str
    # The schema this code writes, and the statements that bring it from version N-1 to N.
    _schema_version: int
    _migrations: Mapping[int, Sequence[str]]
    # How the driver's exceptions reach callers: (caught, raised instead) pairs, the first
    # match wins, so a subclass must come before its base.
    _error_map: Sequence[tuple[type[BaseException], type[MercatoError]]]
    _conn: Any

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Re-raise the driver's exceptions as mercato's (``_error_map``), naming the store."""
        try:
            yield
        except tuple(caught for caught, _ in self._error_map) as exc:
            raised = next(raised for caught, raised in self._error_map if isinstance(exc, caught))
            raise raised(f"{self._store_name}: {exc}") from exc

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """One write transaction on the connection (yielded): committed if the block finishes,
        rolled back otherwise; driver exceptions translated."""

    @property
    def _store_name(self) -> str:
        """How messages name the store; a backend whose URLs may hold a password redacts it."""
        return f"{self._engine} store {self.url}"

    def _lock_schema(self, conn: Any) -> None:
        """Serialize concurrent schema creation inside the migration transaction.

        Nothing to do where opening the write transaction already excludes other writers."""

    # --- primitives ---------------------------------------------------------------------------

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._translated():
            return self._connection().execute(sql, params).fetchall()

    def _write_many(self, sql: str, rows: list[tuple]) -> None:
        if not rows:
            return
        with self._transaction() as conn, closing(conn.cursor()) as cursor:
            cursor.executemany(sql, rows)

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            with self._translated():
                conn.close()

    # --- internals ----------------------------------------------------------------------------

    def _connection(self) -> Any:
        if self._conn is None:
            raise Unavailable(f"{self._store_name} is closed; open it again with open_store")
        return self._conn

    def _migrate(self) -> None:
        with self._transaction() as conn:
            self._lock_schema(conn)
            conn.execute(f"CREATE TABLE IF NOT EXISTS schema_version (version {self._integer_type} NOT NULL)")
            version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            if version > self._schema_version:
                raise Conflict(
                    f"{self._store_name} has schema version {version}, newer than this mercato "
                    f"understands ({self._schema_version}); upgrade mercato"
                )
            for target in range(version + 1, self._schema_version + 1):
                for statement in self._migrations[target]:
                    conn.execute(statement)
                conn.execute(f"INSERT INTO schema_version (version) VALUES ({self._param})", (target,))


def _event_types(types: Iterable[str]) -> list[str]:
    # A bare string would otherwise be read as a list of one-letter types.
    wanted = [types] if isinstance(types, str) else list(types)
    unknown = sorted({t for t in wanted if t not in EVENT_TYPES}, key=str)
    if unknown:
        raise InvalidInput(f"unknown event type(s) {unknown}; choose from {sorted(EVENT_TYPES)}")
    return sorted(set(wanted))


def redact(url: str) -> str:
    """The URL with any password replaced, for messages and reprs."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
