"""Raw, timestamped click logs of the session benchmarks, told apart by their header:

- Diginetica (CIKM Cup 2016) ``train-item-views.csv``:
  ``sessionId;userId;itemId;timeframe;eventdate`` (any case, ``session_id`` spelling too).
  ``eventdate`` is a day and ``timeframe`` the milliseconds since the session began; the
  event time is taken as ``eventdate`` 00:00 UTC + ``timeframe``. The dataset states no
  timezone and no start-of-session clock time, so the times are exact in their order within
  a session and in their day, not in their hour. ``userId`` is ``NA`` for anonymous sessions.
- YooChoose (RecSys Challenge 2015) clicks as prepared by session-rec:
  ``SessionId<TAB>ItemId<TAB>Time``, ``Time`` in unix seconds (float, kept to the millisecond).

Every row becomes a ``view`` in its session; the user is the log's user id when there is
one, else ``session:{SessionId}``. The event id is ``{diginetica|yoochoose}:{session}:{line}``
with the file line (the header is line 1).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.events.schema import Item, User
from mercato.importers.batch import (
    ImportBatch,
    check_limit,
    finish,
    ids_with_prefix,
    raise_on_bad_rows,
    read_bytes,
    require_file,
)

FIRST_DATA_LINE = 2  # line 1 is the header
ANONYMOUS_USER_IDS = ("", "NA")


@dataclass(frozen=True)
class LogLayout:
    source: str
    separator: str
    header: str  # as documented; matching ignores case and underscores
    columns: tuple[str, ...]  # normalized names, in file order


DIGINETICA = LogLayout(
    "diginetica",
    ";",
    "sessionId;userId;itemId;timeframe;eventdate",
    ("sessionid", "userid", "itemid", "timeframe", "eventdate"),
)
YOOCHOOSE = LogLayout("yoochoose", "\t", "SessionId<TAB>ItemId<TAB>Time", ("sessionid", "itemid", "time"))
LAYOUTS = (DIGINETICA, YOOCHOOSE)


def read_session_log(path: str | Path, *, limit: int | None = None) -> ImportBatch:
    """Read a Diginetica views csv or a YooChoose clicks tsv; ``limit`` reads only the first N rows."""
    check_limit(limit)
    path = require_file(path)
    data = read_bytes(path)
    layout = _detect_layout(path, data)
    try:
        raw = pd.read_csv(io.BytesIO(data), sep=layout.separator, dtype=str, keep_default_na=False, nrows=limit)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: not a readable {layout.source} log ({exc})") from None
    raw.columns = [_normalize(name) for name in raw.columns]
    raw = raw.apply(lambda column: column.str.strip())
    lines = np.arange(len(raw), dtype=np.int64) + FIRST_DATA_LINE
    session = raw["sessionid"]
    item = raw["itemid"]
    raise_on_bad_rows(path, (session == "").to_numpy(), lines, "the session id is empty")
    raise_on_bad_rows(path, (item == "").to_numpy(), lines, "the item id is empty")

    if layout is DIGINETICA:
        occurred_at = _diginetica_times(path, raw, lines)
        user = raw["userid"]
        known_user = ~user.isin(ANONYMOUS_USER_IDS).to_numpy()
    else:
        occurred_at = _unix_times(path, raw["time"], lines)
        user = session
        known_user = np.zeros(len(raw), dtype=bool)

    session_values = session.to_numpy(dtype=object)
    user_id = np.where(known_user, user.to_numpy(dtype=object), ("session:" + session).to_numpy(dtype=object))
    events = pd.DataFrame(
        {
            "event_id": ids_with_prefix(f"{layout.source}:", session_values, lines),
            "type": "view",
            "occurred_at": occurred_at.reset_index(drop=True),
            "user_id": user_id,
            "session_id": session_values,
            "item_id": item.to_numpy(dtype=object),
        }
    )
    users = [User(user_id=user_id) for user_id in dict.fromkeys(user[known_user].tolist())]
    items = [Item(item_id=item_id) for item_id in dict.fromkeys(item.tolist())]
    return finish(events, source=path, source_lines=lines, items=items, users=users)


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "")


def _detect_layout(path: Path, data: bytes) -> LogLayout:
    header = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    for layout in LAYOUTS:
        if [_normalize(name) for name in header.split(layout.separator)] == list(layout.columns):
            return layout
    expected = " or ".join(repr(layout.header) for layout in LAYOUTS)
    raise InvalidInput(f"{path} line 1: header {header[:80]!r} is not a known session log; expected {expected}")


def _diginetica_times(path: Path, raw: pd.DataFrame, lines: np.ndarray) -> pd.Series:
    day = pd.to_datetime(raw["eventdate"], format="%Y-%m-%d", errors="coerce", utc=True)
    raise_on_bad_rows(path, day.isna().to_numpy(), lines, "eventdate is not a date like 2016-05-09", raw["eventdate"])
    offset_ms = pd.to_numeric(raw["timeframe"], errors="coerce")
    bad_offset = (offset_ms.isna() | (offset_ms < 0) | (offset_ms != np.round(offset_ms))).to_numpy()
    raise_on_bad_rows(path, bad_offset, lines, "timeframe is not a whole number of milliseconds", raw["timeframe"])
    return day + pd.to_timedelta(offset_ms.astype("int64"), unit="ms")


def _unix_times(path: Path, text: pd.Series, lines: np.ndarray) -> pd.Series:
    seconds = pd.to_numeric(text, errors="coerce").astype("float64")
    raise_on_bad_rows(path, ~np.isfinite(seconds.to_numpy()), lines, "Time is not unix seconds", text)
    # Rounded to whole milliseconds: the float seconds carry ms precision plus binary noise.
    milliseconds = np.rint(seconds.to_numpy() * 1000).astype(np.int64)
    return pd.Series(pd.to_datetime(milliseconds, unit="ms", utc=True))
