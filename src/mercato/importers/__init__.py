"""Readers that turn public datasets into validated event frames, catalog items and users.

``read(format, path)`` dispatches on the format name; each format has its own module,
whose docstring says what every source record becomes. Sources that carry no timestamps
(S3-Rec sequences, SR-GNN session lists) get synthetic, order-preserving times counted
from ``SYNTHETIC_EPOCH`` (2000-01-01T00:00:00Z); they order events, they are not dates.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from mercato.errors import InvalidInput, NotFound
from mercato.importers.amazon import read_amazon
from mercato.importers.batch import SYNTHETIC_EPOCH, ImportBatch
from mercato.importers.movielens import read_movielens
from mercato.importers.online_retail import read_online_retail
from mercato.importers.session_log import read_session_log
from mercato.importers.sessions import read_session_file, read_session_test, read_sessions

__all__ = [
    "FORMATS",
    "SYNTHETIC_EPOCH",
    "ImportBatch",
    "bundled_online_retail_path",
    "read",
    "read_session_file",
    "read_session_test",
]

FORMATS: dict[str, Callable[..., ImportBatch]] = {
    "online-retail": read_online_retail,
    "amazon": read_amazon,
    "movielens": read_movielens,
    "sessions": read_sessions,
    "session-log": read_session_log,
}

BUNDLED_ONLINE_RETAIL = "online_retail.csv.gz"


def read(format: str, path: str | Path, *, limit: int | None = None) -> ImportBatch:
    """Read ``path`` as ``format`` (one of ``FORMATS``); ``limit`` reads only the first N source records."""
    reader = FORMATS.get(format)
    if reader is None:
        raise InvalidInput(f"unknown import format {format!r}; choose one of {sorted(FORMATS)}")
    return reader(path, limit=limit)


def bundled_online_retail_path() -> Path:
    """The Online Retail csv.gz shipped with mercato (CC0; see ``online_retail.SOURCE.txt`` beside it)."""
    resource = resources.files("mercato").joinpath("data", BUNDLED_ONLINE_RETAIL)
    path = Path(str(resource))
    if not path.is_file():
        raise NotFound(f"the bundled dataset {BUNDLED_ONLINE_RETAIL} is missing from this installation ({path})")
    return path
