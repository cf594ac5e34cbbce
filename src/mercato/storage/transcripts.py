"""The assistant's durable conversation log and human handoff queue, in one SQLite file.

Kept apart from the event store: chat turns are free text with their own retention needs, and a
handoff is a queue item whose status changes (pending -> claimed -> closed), which an append-only
event log does not model. Callers store text already redacted (``mercato.assist.redact``); this
module never sees raw personal data. One connection shared by the server's threads, guarded by
a lock (sqlite3 connections are not safe for concurrent use).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from mercato.errors import Conflict, InvalidInput, NotFound, Unavailable
from mercato.storage.side_sqlite import open_side_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS assist_turns (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    user_id TEXT,
    at TEXT NOT NULL,
    message TEXT NOT NULL,
    answer TEXT NOT NULL,
    intent TEXT NOT NULL,
    confidence REAL NOT NULL,
    handoff INTEGER NOT NULL,
    sources TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS assist_turns_session ON assist_turns (session_id, seq);
CREATE TABLE IF NOT EXISTS assist_handoffs (
    handoff_id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    user_id TEXT,
    at TEXT NOT NULL,
    reason TEXT NOT NULL,
    summary TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
);
CREATE INDEX IF NOT EXISTS assist_handoffs_status ON assist_handoffs (status, handoff_id);
"""

HANDOFF_STATUSES = ("pending", "claimed", "closed")
_NEXT_STATUS = {"pending": ("claimed", "closed"), "claimed": ("pending", "closed"), "closed": ()}
_HANDOFF_KEYS = ("handoff_id", "session_id", "user_id", "at", "reason", "summary", "status")


class TranscriptStore:
    """``sqlite:///path.db`` (or a plain path, or ``:memory:``) holding turns and handoffs."""

    def __init__(self, url: str | Path) -> None:
        text = str(url)
        path = text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text
        self._conn = open_side_database(path, _SCHEMA, "transcript database")
        self._lock = threading.Lock()

    def _run(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise Unavailable(f"transcript database: {exc}") from None

    def add_turn(self, session_id: str, user_id: str | None, message: str, answer: str, intent: str,
                 confidence: float, handoff: bool, sources: list[dict], at: datetime | None = None) -> None:
        stamp = (at or datetime.now(UTC)).isoformat()
        self._run(
            "INSERT INTO assist_turns (session_id, user_id, at, message, answer, intent, confidence, handoff, sources)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (session_id, user_id, stamp, message, answer, intent, float(confidence), int(handoff), json.dumps(sources)),
        )

    def turns(self, session_id: str, *, limit: int | None = None) -> list[dict]:
        """A session's turns, oldest first; ``limit`` keeps the latest N."""
        rows = self._run(
            "SELECT at, user_id, message, answer, intent, confidence, handoff, sources FROM assist_turns"
            " WHERE session_id = ? ORDER BY seq DESC LIMIT ?",
            (session_id, -1 if limit is None else int(limit)),
        )
        keys = ("at", "user_id", "message", "answer", "intent", "confidence", "handoff", "sources")
        out = [dict(zip(keys, row, strict=True)) for row in reversed(rows)]
        for turn in out:
            turn["handoff"] = bool(turn["handoff"])
            turn["sources"] = json.loads(turn["sources"])
        return out

    def add_handoff(self, session_id: str, user_id: str | None, reason: str, summary: str, at: datetime | None = None) -> int:
        stamp = (at or datetime.now(UTC)).isoformat()
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO assist_handoffs (session_id, user_id, at, reason, summary) VALUES (?, ?, ?, ?, ?)",
                (session_id, user_id, stamp, reason, summary),
            )
            return int(cursor.lastrowid)

    def handoffs(self, status: str | None = "pending", *, limit: int | None = None) -> list[dict]:
        """Handoffs in queue order (oldest first); ``status=None`` lists all of them."""
        if status is not None and status not in HANDOFF_STATUSES:
            raise InvalidInput(f"handoff status must be one of {list(HANDOFF_STATUSES)}", field="status")
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self._run(f"SELECT {', '.join(_HANDOFF_KEYS)} FROM assist_handoffs {where} ORDER BY handoff_id LIMIT ?",
                         (*params, -1 if limit is None else int(limit)))
        return [dict(zip(_HANDOFF_KEYS, row, strict=True)) for row in rows]

    def handoff(self, handoff_id: int) -> dict:
        rows = self._run(f"SELECT {', '.join(_HANDOFF_KEYS)} FROM assist_handoffs WHERE handoff_id = ?", (handoff_id,))
        if not rows:
            raise NotFound(f"handoff {handoff_id} does not exist")
        return dict(zip(_HANDOFF_KEYS, rows[0], strict=True))

    def set_handoff_status(self, handoff_id: int, status: str) -> dict:
        """Move a handoff along pending -> claimed -> closed (a claim may be released back to
        pending; a closed one stays closed). Returns the updated handoff."""
        if status not in HANDOFF_STATUSES:
            raise InvalidInput(f"handoff status must be one of {list(HANDOFF_STATUSES)}", field="status")
        with self._lock:
            try:
                row = self._conn.execute("SELECT status FROM assist_handoffs WHERE handoff_id = ?", (handoff_id,)).fetchone()
                if row is None:
                    raise NotFound(f"handoff {handoff_id} does not exist")
                if status != row[0] and status not in _NEXT_STATUS[row[0]]:
                    raise Conflict(f"handoff {handoff_id} is {row[0]}; it cannot become {status}")
                # The status in the WHERE clause makes the check and the change one step even if
                # another connection (another server process) moved it in between.
                changed = self._conn.execute("UPDATE assist_handoffs SET status = ? WHERE handoff_id = ? AND status = ?",
                                             (status, handoff_id, row[0])).rowcount
            except sqlite3.Error as exc:
                raise Unavailable(f"transcript database: {exc}") from None
        if not changed:
            raise Conflict(f"handoff {handoff_id} changed meanwhile; read it again")
        return self.handoff(handoff_id)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
