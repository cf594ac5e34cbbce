"""Small SQLite files beside the event store: the risk review queue, assistant transcripts.

They hold a capability's own records, not events, so they stay out of the event store's
schema and migrations; each opens its file the same way.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mercato.errors import Unavailable


def open_side_database(path: str, schema: str, what: str) -> sqlite3.Connection:
    """A connection to ``path`` (or ``:memory:``) with ``schema`` applied, usable from any
    thread under the caller's lock; ``what`` names the file in errors."""
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives a crash of the process (not a power cut) without an
        # fsync per write; these records can afford that, the event log (synchronous=FULL) not.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(schema)
    except sqlite3.Error as exc:
        raise Unavailable(f"{what} {path} cannot be opened: {exc}") from None
    return conn
