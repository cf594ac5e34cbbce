"""Conversion between mercato's objects (event frames, ``Item``, ``User``) and database rows.

Both backends store the same row shapes, so the conversion lives here once:

- times are int64 microseconds since the epoch, UTC (``*_at_us`` columns): exact, sortable,
  and free of each database's timezone rules;
- free-form data (``attrs``, ``attributes``, the category path) is JSON text;
- ``None`` is SQL NULL, so "no attrs" and "empty attrs" survive a round trip as written.

The event conversion works column by column because ``append`` must take half a million
rows in a few seconds; a per-row loop over ``DataFrame.itertuples`` would cost most of that.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.events.schema import MAX_ID_LENGTH, Item, User, conform, empty_event_frame

# Column order of the events table as read and written (``seq`` is assigned by the database).
EVENT_ROW_COLUMNS: tuple[str, ...] = (
    "event_id",
    "type",
    "occurred_at_us",
    "user_id",
    "session_id",
    "item_id",
    "quantity",
    "amount_minor",
    "currency",
    "order_id",
    "attrs",
)
ITEM_ROW_COLUMNS: tuple[str, ...] = (
    "item_id",
    "title",
    "category",
    "price_minor",
    "currency",
    "brand",
    "attributes",
    "stock",
    "created_at_us",
)
USER_ROW_COLUMNS: tuple[str, ...] = ("user_id", "attributes", "created_at_us")

_EPOCH = pd.Timestamp(0, tz="UTC")


def to_json(value: Any, what: str) -> str:
    """Compact JSON text; numpy scalars are accepted (importers produce them), NaN is not (not JSON)."""
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} is not JSON-serializable: {exc}") from None


def _numpy_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} {value!r} is not a JSON type")


# One encoder for every call: json.dumps with non-default options builds a new one each time,
# which costs more than the encoding itself for the small dicts events carry.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_numpy_scalar)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def datetime_to_us(value: datetime, what: str) -> int:
    """Microseconds since the epoch for a timezone-aware datetime; naive ones are refused."""
    if not isinstance(value, datetime):
        raise InvalidInput(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{what} must be timezone-aware, e.g. datetime(2024, 5, 1, tzinfo=timezone.utc)")
    return (pd.Timestamp(value).tz_convert("UTC") - _EPOCH) // pd.Timedelta(microseconds=1)


def us_to_datetime(value: int | None) -> datetime | None:
    return None if value is None else (_EPOCH + pd.Timedelta(microseconds=value)).to_pydatetime()


# --- events -----------------------------------------------------------------------------------


def event_rows(frame: pd.DataFrame) -> list[tuple]:
    """Rows of a validated event frame, in frame order, as plain Python values."""
    if frame.empty:
        return []
    occurred_us = frame["occurred_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("us")
    columns: list[list[Any]] = []
    for name in EVENT_ROW_COLUMNS:
        if name == "occurred_at_us":
            columns.append(occurred_us.to_numpy().view("int64").tolist())
        elif name in ("quantity", "amount_minor"):
            # object + na_value gives Python int / None: sqlite3 cannot bind numpy.int64.
            columns.append(frame[name].to_numpy(dtype=object, na_value=None).tolist())
        elif name == "attrs":
            columns.append(_attrs_json(frame))
        else:
            columns.append(frame[name].tolist())
    return list(zip(*columns))


def _attrs_json(frame: pd.DataFrame) -> list[str | None]:
    values = frame["attrs"].tolist()
    encode = _ENCODER.encode
    try:
        return [None if attrs is None else encode(attrs) for attrs in values]
    except (TypeError, ValueError):
        pass
    # Slow path, only to name the offending event in the error.
    for label, attrs in zip(frame.index, values):
        if attrs is not None:
            to_json(attrs, f"attrs of the event at index {label!r}")
    raise AssertionError("unreachable: an attrs value failed to encode once but not twice")  # pragma: no cover


def event_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """An event frame (``conform`` dtypes, index 0..n-1) from rows in ``EVENT_ROW_COLUMNS`` order."""
    if not rows:
        return empty_event_frame()
    columns = dict(zip(EVENT_ROW_COLUMNS, (list(c) for c in zip(*rows))))
    occurred_us = np.asarray(columns.pop("occurred_at_us"), dtype="int64")
    columns["occurred_at"] = pd.to_datetime(occurred_us, unit="us", utc=True)
    columns["attrs"] = [from_json(a) for a in columns["attrs"]]
    for name in ("quantity", "amount_minor"):
        columns[name] = pd.array(columns[name], dtype="Int64")
    return conform(pd.DataFrame(columns))


# --- catalog and users ------------------------------------------------------------------------


def item_row(item: Item) -> tuple:
    if not isinstance(item, Item):
        raise InvalidInput(f"put_items takes Item objects, got {type(item).__name__}")
    what = f"item {item.item_id!r}"
    _check_id(item.item_id, "item_id", what)
    if not isinstance(item.title, str):
        raise InvalidInput(f"{what}: title must be a string")
    if isinstance(item.category, str) or not all(isinstance(c, str) for c in item.category):
        raise InvalidInput(f"{what}: category must be a sequence of strings, most general first")
    _check_count(item.price_minor, "price_minor", what)
    _check_count(item.stock, "stock", what)
    if item.currency is not None and not (
        isinstance(item.currency, str) and len(item.currency) == 3 and item.currency.isalpha() and item.currency.isupper()
    ):
        raise InvalidInput(f"{what}: currency must be a 3-letter upper-case ISO 4217 code")
    if item.brand is not None and not isinstance(item.brand, str):
        raise InvalidInput(f"{what}: brand must be a string")
    return (
        item.item_id,
        item.title,
        to_json(list(item.category), f"{what} category"),
        _plain_int(item.price_minor),
        item.currency,
        item.brand,
        _attributes_json(item.attributes, what),
        _plain_int(item.stock),
        _optional_us(item.created_at, f"{what} created_at"),
    )


def item_from_row(row: Sequence[Any]) -> Item:
    item_id, title, category, price_minor, currency, brand, attributes, stock, created_at_us = row
    return Item(
        item_id=item_id,
        title=title,
        category=tuple(from_json(category)),
        price_minor=price_minor,
        currency=currency,
        brand=brand,
        attributes=from_json(attributes),
        stock=stock,
        created_at=us_to_datetime(created_at_us),
    )


def user_row(user: User) -> tuple:
    if not isinstance(user, User):
        raise InvalidInput(f"put_users takes User objects, got {type(user).__name__}")
    what = f"user {user.user_id!r}"
    _check_id(user.user_id, "user_id", what)
    return (
        user.user_id,
        _attributes_json(user.attributes, what),
        _optional_us(user.created_at, f"{what} created_at"),
    )


def user_from_row(row: Sequence[Any]) -> User:
    user_id, attributes, created_at_us = row
    return User(user_id=user_id, attributes=from_json(attributes), created_at=us_to_datetime(created_at_us))


def _check_id(value: Any, name: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what}: {name} must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInput(f"{what}: {name} is longer than {MAX_ID_LENGTH} characters")


def _check_count(value: Any, name: str, what: str) -> None:
    if value is None:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidInput(f"{what}: {name} must be a non-negative integer or None")


def _plain_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _attributes_json(attributes: Any, what: str) -> str:
    if not isinstance(attributes, dict):
        raise InvalidInput(f"{what}: attributes must be a dict")
    return to_json(attributes, f"{what} attributes")


def _optional_us(value: datetime | None, what: str) -> int | None:
    return None if value is None else datetime_to_us(value, what)
