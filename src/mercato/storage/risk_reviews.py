"""The fraud review queue, durable in one small SQLite file (``<model_dir>/risk/reviews.db``).

Kept apart from the event store: a review is a queue item whose status changes (open ->
fraud | legit), which an append-only event log does not model. A resolved review is a label
(``mercato.risk.labels.ReviewLabel``) the next training run learns from. One connection shared
by the server's threads, guarded by a lock (sqlite3 connections are not safe for concurrent use).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mercato.errors import Conflict, InvalidInput, NotFound, Unavailable
from mercato.storage.side_sqlite import open_side_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS risk_reviews (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    review_id TEXT NOT NULL UNIQUE,
    transaction_id TEXT NOT NULL,
    created_at_s REAL NOT NULL,
    score REAL NOT NULL,
    reasons TEXT NOT NULL,
    transaction_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    reviewer TEXT,
    note TEXT,
    reviewed_at_s REAL
);
CREATE INDEX IF NOT EXISTS risk_reviews_status ON risk_reviews (status, seq);
"""
STATUSES = ("open", "fraud", "legit")
LABELS = ("fraud", "legit")
_COLUMNS = ("review_id", "transaction_id", "created_at_s", "score", "reasons", "transaction_json", "status", "reviewer",
            "note", "reviewed_at_s")


class ReviewStore:
    """Open reviews and their outcomes; ``path`` is a file or ``:memory:``."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._conn = open_side_database(str(path), _SCHEMA, "review store")

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise Unavailable(f"review store failed: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add(self, transaction: dict[str, Any], score: float, reasons: list[dict], created_at_s: float) -> str:
        review_id = uuid.uuid4().hex[:16]
        with self._locked() as conn:
            conn.execute(
                "INSERT INTO risk_reviews (review_id, transaction_id, created_at_s, score, reasons, transaction_json)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (review_id, str(transaction["transaction_id"]), created_at_s, score, json.dumps(reasons),
                 json.dumps(transaction, default=str)),
            )
        return review_id

    def list(self, status: str = "open", limit: int = 50) -> list[dict]:
        if status not in STATUSES:
            raise InvalidInput(f"status must be one of {list(STATUSES)}, got {status!r}", field="status")
        with self._locked() as conn:
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM risk_reviews WHERE status = ? ORDER BY seq LIMIT ?",
                                (status, limit)).fetchall()
        return [_as_dict(row) for row in rows]

    def get(self, review_id: str) -> dict:
        with self._locked() as conn:
            row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM risk_reviews WHERE review_id = ?", (review_id,)).fetchone()
        if row is None:
            raise NotFound(f"no review {review_id!r}; list open ones with GET /v1/risk/reviews")
        return _as_dict(row)

    def resolve(self, review_id: str, label: str, reviewed_at_s: float, reviewer: str | None = None,
                note: str | None = None) -> dict:
        """Record the reviewer's verdict; repeating the same verdict is a no-op, changing it a ``Conflict``."""
        if label not in LABELS:
            raise InvalidInput(f"label must be one of {list(LABELS)}, got {label!r}", field="label")
        current = self.get(review_id)
        if current["status"] != "open":
            if current["status"] == label:
                return current
            raise Conflict(f"review {review_id!r} was already resolved as {current['status']!r}")
        with self._locked() as conn:
            conn.execute("UPDATE risk_reviews SET status = ?, reviewer = ?, note = ?, reviewed_at_s = ? "
                         "WHERE review_id = ? AND status = 'open'", (label, reviewer, note, reviewed_at_s, review_id))
        return self.get(review_id)

    def verdicts(self) -> list[tuple[str, bool, float]]:
        """(transaction_id, is_fraud, reviewed_at_s) of every resolved review: labels for training."""
        with self._locked() as conn:
            rows = conn.execute("SELECT transaction_id, status, reviewed_at_s FROM risk_reviews WHERE status != 'open' "
                                "ORDER BY seq").fetchall()
        return [(tid, status == "fraud", float(at)) for tid, status, at in rows]


def _as_dict(row: tuple) -> dict:
    out = dict(zip(_COLUMNS, row, strict=True))
    out["reasons"] = json.loads(out["reasons"])
    out["transaction"] = json.loads(out.pop("transaction_json"))
    return out
