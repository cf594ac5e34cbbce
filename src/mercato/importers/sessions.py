"""Session lists in the text form of the SR-GNN benchmark splits (Wu et al., AAAI 2019):
Diginetica and YooChoose 1/64 ``train_sessions.txt``, one session per line, item ids
separated by spaces, in click order.

As events (format ``sessions``): every click is a ``view``; the line number ``n`` (1-based)
names the session and stands in for the unknown user, ``session:{n}``. The files carry no
times, so clicks get synthetic, order-preserving ones: ``SYNTHETIC_EPOCH``
(2000-01-01T00:00:00Z) + ``n * 1000 + position`` seconds, ``position`` counting from 0 in
the session. Sessions thus follow one another in file order (the split is chronological)
and clicks within one keep theirs; sessions of 1,000 clicks or more would only share
instants with the next session, never reorder their own clicks. Event id
``sessions:{n}:{position}``. Sessions have no user records: a line is not a person.

The evaluation harness wants plain lists rather than events: ``read_session_file`` gives
the sessions, ``read_session_test`` the ``test.tsv`` prefixes (``items<TAB>next item``).
"""

from __future__ import annotations

from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.events.schema import Item
from mercato.importers.batch import (
    SYNTHETIC_EPOCH,
    ImportBatch,
    check_limit,
    finish,
    ids_with_prefix,
    read_lines,
    require_file,
)

SECONDS_PER_SESSION = 1000


def read_sessions(path: str | Path, *, limit: int | None = None) -> ImportBatch:
    """Read a session list as ``view`` events; ``limit`` reads only its first N lines (sessions)."""
    check_limit(limit)
    path = require_file(path)
    sessions = _sessions_by_line(path, limit)
    lengths = np.fromiter((len(items) for items in sessions), dtype=np.int64, count=len(sessions))
    # Clicks laid out flat: (line, position) of each, in file order.
    line_of_click = np.repeat(np.arange(1, len(sessions) + 1, dtype=np.int64), lengths)
    first_click_of_line = np.repeat(np.cumsum(lengths) - lengths, lengths)
    position = np.arange(len(line_of_click), dtype=np.int64) - first_click_of_line
    items = list(chain.from_iterable(sessions))
    session_ids = ids_with_prefix("session:", line_of_click)
    events = pd.DataFrame(
        {
            "event_id": ids_with_prefix("sessions:", line_of_click, position),
            "type": "view",
            "occurred_at": SYNTHETIC_EPOCH
            + pd.to_timedelta(line_of_click * SECONDS_PER_SESSION + position, unit="s"),
            "user_id": session_ids,
            "session_id": session_ids,
            "item_id": items,
        }
    )
    return finish(
        events,
        source=path,
        source_lines=line_of_click,
        items=[Item(item_id=item_id) for item_id in dict.fromkeys(items)],
        users=[],
        skipped={"empty_line": int((lengths == 0).sum())},
    )


def read_session_file(path: str | Path, *, limit: int | None = None) -> list[list[str]]:
    """The sessions of a ``train_sessions.txt``, each a list of item ids in click order (empty lines left out)."""
    check_limit(limit)
    return [items for items in _sessions_by_line(require_file(path), limit) if items]


def read_session_test(path: str | Path, *, limit: int | None = None) -> tuple[list[list[str]], list[str]]:
    """The ``test.tsv`` cases: prefixes (item id lists) and the item that followed each."""
    check_limit(limit)
    path = require_file(path)
    prefixes: list[list[str]] = []
    targets: list[str] = []
    for number, line in enumerate(read_lines(path, limit=limit), start=1):
        if not line.strip():
            continue
        prefix, tab, target = line.partition("\t")
        items = prefix.split()
        target = target.strip()
        if not tab or not items or not target or "\t" in target or " " in target:
            raise InvalidInput(
                f"{path} line {number}: expected '<item ids separated by spaces><TAB><next item id>', "
                f"got {line[:80]!r}"
            )
        prefixes.append(items)
        targets.append(target)
    return prefixes, targets


def _sessions_by_line(path: Path, limit: int | None) -> list[list[str]]:
    """One entry per line (empty lists for empty lines, so that index + 1 is the line number)."""
    sessions = []
    for number, line in enumerate(read_lines(path, limit=limit), start=1):
        if "\t" in line:
            raise InvalidInput(
                f"{path} line {number}: a tab in a session list; this looks like a test.tsv prefix file, "
                "which read_session_test reads"
            )
        sessions.append(line.split())
    return sessions
