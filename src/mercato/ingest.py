"""The import job: read a dataset file with an importer and append it to a store in chunks."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from mercato import importers
from mercato.storage import open_store

CHUNK_ROWS = 100_000  # big enough for fast bulk inserts, small enough for steady progress output


def import_file(
    fmt: str,
    path: Path,
    store_url: str,
    *,
    limit: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> dict:
    """Import ``path`` into the store at ``store_url``; return counts and timings.

    Re-running it is safe: event ids are deterministic and the store ignores duplicates.
    """
    started = time.perf_counter()
    progress(f"reading {fmt} from {path} …")
    batch = importers.read(fmt, path, limit=limit)
    read_s = time.perf_counter() - started
    progress(f"read {len(batch.events):,} events, {len(batch.items):,} items, {len(batch.users):,} users in {read_s:.1f} s")
    inserted = duplicates = 0
    with open_store(store_url) as store:
        store.put_items(batch.items)
        store.put_users(batch.users)
        total = len(batch.events)
        for begin in range(0, total, CHUNK_ROWS):
            result = store.append(batch.events.iloc[begin : begin + CHUNK_ROWS])
            inserted += result.inserted
            duplicates += result.duplicates
            progress(f"  stored {min(begin + CHUNK_ROWS, total):,}/{total:,} events")
    total_s = time.perf_counter() - started
    progress(f"import done in {total_s:.1f} s")
    return {
        "format": fmt,
        "path": str(path),
        "events_read": len(batch.events),
        "events_inserted": inserted,
        "events_duplicate": duplicates,
        "items": len(batch.items),
        "users": len(batch.users),
        "skipped_source_rows": batch.skipped,
        "read_s": round(read_s, 3),
        "total_s": round(total_s, 3),
    }
