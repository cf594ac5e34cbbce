"""Storage: the only package that talks to databases. Backends are chosen by URL.

    with open_store("sqlite:///var/mercato.db") as store:
        store.append(events)

The schemes form a closed list (``SCHEMES``); each maps to one backend class, imported only
when used so that a SQLite-only deployment never loads the PostgreSQL driver.
"""

from __future__ import annotations

from collections.abc import Callable

from mercato.errors import InvalidInput
from mercato.storage.base import AppendResult, EventStore, IngestResult, redact

__all__ = ["SCHEMES", "AppendResult", "EventStore", "IngestResult", "open_store"]


def _open_sqlite(url: str) -> EventStore:
    from mercato.storage.sqlite import SQLiteEventStore

    return SQLiteEventStore(url)


def _open_postgres(url: str) -> EventStore:
    from mercato.storage.postgres import PostgresEventStore

    return PostgresEventStore(url)


_OPENERS: dict[str, Callable[[str], EventStore]] = {
    "sqlite": _open_sqlite,
    "postgresql": _open_postgres,
    "postgres": _open_postgres,
}
SCHEMES: tuple[str, ...] = tuple(sorted(_OPENERS))


def open_store(url: str) -> EventStore:
    """Open (creating tables if needed) the event store a URL names.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``, ``sqlite://:memory:``,
    ``postgresql://user:password@host:5432/dbname``. Raises ``InvalidInput`` for an unknown
    scheme and ``Unavailable`` when the database cannot be reached.
    """
    if not isinstance(url, str):
        raise InvalidInput(f"a store URL must be a string, got {type(url).__name__}")
    scheme, separator, _ = url.partition("://")
    opener = _OPENERS.get(scheme.lower()) if separator else None
    if opener is None:
        raise InvalidInput(
            f"unsupported store URL {redact(url)!r}: the scheme must be one of {list(SCHEMES)}, "
            "e.g. 'sqlite:///var/mercato.db' or 'postgresql://user@host:5432/mercato'"
        )
    return opener(url)
