"""Group commit: appends that arrive while a commit is running share the next transaction.

A durable commit costs a few milliseconds of fsync plus the fixed cost of parsing,
validating and converting a frame (pandas), whatever the frame's size; a client sending one
event per request would pay all of that for every event. Requests queue their raw records
here and ask the store thread to drain the queue; the first drain to run takes every
request waiting, parses their records together and commits them as one append, so under
concurrency one parse and one fsync acknowledge many requests (the technique of
PostgreSQL's commit_delay and of write-ahead logs generally). Each request still waits for
the commit that holds its events, so an answer still means "durably stored".

Which events of a group were new is told apart with ``existing_event_ids``, read in the same
store thread just before the append; a writer in another process could slip an event in
between and be miscounted as new, which affects only the counts, never durability.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mercato.events import parse_records
from mercato.events.validation import EventError
from mercato.storage.base import EventStore
from mercato.storage.confined import ThreadConfinedStore

# Batches bigger than this commit alone: they amortize their own fsync already, and a group
# would only add the cost of the existence check.
MAX_GROUP_ROWS = 2_000


@dataclass
class GroupResult:
    """One request's share of a commit: its counts, its bad events, its stored frame."""

    inserted: int
    duplicates: int
    errors: list[EventError]
    events: pd.DataFrame  # the request's valid events (index: position in its records)


@dataclass
class _Pending:
    records: Sequence[Mapping[str, Any]]
    done: threading.Event = field(default_factory=threading.Event)
    result: GroupResult | None = None
    error: BaseException | None = None


class GroupCommitter:
    def __init__(self, store: ThreadConfinedStore, *, max_group_rows: int = MAX_GROUP_ROWS) -> None:
        self.store = store
        self.max_group_rows = max_group_rows
        self._queue: deque[_Pending] = deque()
        self._lock = threading.Lock()
        self.groups = 0  # commits that acknowledged more than one request

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> GroupResult:
        """Parse and durably store JSON-like events; returns after the commit holding them."""
        if len(records) > self.max_group_rows:
            # Parsed here, on the caller's thread, so a big batch's parsing overlaps other commits.
            checked = parse_records(records)
            result = self.store.append_validated(checked)
            return GroupResult(result.inserted, result.duplicates, checked.errors, checked.events)
        pending = _Pending(records)
        with self._lock:
            self._queue.append(pending)
        # Wait for the commit holding these records, not for this drain job: another drain
        # may have committed them already, and this job may sit behind newer ones.
        self.store.submit(self._drain)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        assert pending.result is not None
        return pending.result

    def _drain(self, store: EventStore) -> None:
        """Runs on the store thread: commit everything queued so far as one transaction."""
        group: list[_Pending] = []
        rows = 0
        with self._lock:
            while self._queue and (not group or rows + len(self._queue[0].records) <= self.max_group_rows):
                pending = self._queue.popleft()
                group.append(pending)
                rows += len(pending.records)
        if not group:
            return  # an earlier drain took this request's records
        try:
            self._commit(store, group)
        except BaseException as exc:  # nothing of the group was committed: all of it failed
            for pending in group:
                pending.error = exc
        finally:
            for pending in group:
                pending.done.set()

    def _commit(self, store: EventStore, group: list[_Pending]) -> None:
        starts = np.cumsum([0] + [len(p.records) for p in group])  # (len(group) + 1,)
        checked = parse_records([record for pending in group for record in pending.records])
        if len(group) == 1:
            result = store.append_validated(checked)
            group[0].result = GroupResult(result.inserted, result.duplicates, checked.errors, checked.events)
            return
        seen = store.existing_event_ids(checked.events["event_id"])
        store.append_validated(checked)
        self.groups += 1
        positions = checked.events.index.to_numpy()
        for pending, start, end in zip(group, starts[:-1], starts[1:], strict=True):
            mine = checked.events[(positions >= start) & (positions < end)]
            mine.index = mine.index - start
            duplicates = 0
            for event_id in mine["event_id"]:
                if event_id in seen:
                    duplicates += 1
                else:
                    seen.add(event_id)
            errors = [EventError(e.index - start, e.field, e.reason) for e in checked.errors if start <= e.index < end]
            pending.result = GroupResult(len(mine) - duplicates, duplicates, errors, mine)
