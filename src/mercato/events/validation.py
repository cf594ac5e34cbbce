"""Validation of events: every bad event is reported with its index, field and reason.

Two entry points share the same rules:

- ``parse_records`` turns JSON-like dicts (an API batch) into an event frame, reporting
  values that cannot even be parsed (a date without a timezone, a quantity that is text);
- ``validate_frame`` checks an event frame column by column, vectorized, so an importer
  with half a million rows validates in well under a second.

Good events are never dropped because a neighbour is bad.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.events.schema import (
    AD_EVENT_TYPES,
    EVENT_COLUMNS,
    EVENT_TYPES,
    ITEM_EVENT_TYPES,
    MAX_ID_LENGTH,
    MONEY_EVENT_TYPES,
    REQUIRED_ATTRS,
    conform,
    empty_event_frame,
)

_ID_FIELDS = ("event_id", "user_id", "session_id", "item_id", "order_id")
_INT_FIELDS = ("quantity", "amount_minor")
_STRING_FIELDS = frozenset((*_ID_FIELDS, "type", "currency"))
_COLUMN_SET = frozenset(EVENT_COLUMNS)
# "Z" or a numeric UTC offset at the end: the vectorized parser would read a naive time as UTC.
_OFFSET_AT_END = re.compile(r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$")


@dataclass(frozen=True, slots=True)
class EventError:
    """One problem with one event: its position in the batch, the field, and why."""

    index: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Validated:
    """The valid events (original index kept) and the errors of the others."""

    events: pd.DataFrame
    errors: list[EventError]


def parse_records(records: Sequence[Mapping[str, Any]]) -> Validated:
    """Parse and validate JSON-like event dicts. Row ``i`` of the input has index ``i``.

    Column by column rather than event by event: a 10,000-event batch is one pass per field
    with the common case (a string where a string belongs) checked inline, and one vectorized
    parse of the timestamps; only values off the common path go through the per-value parser.
    """
    errors: list[EventError] = []
    index: list[int] = []
    objects: list[Mapping[str, Any]] = []
    for i, record in enumerate(records):
        if type(record) is not dict and not isinstance(record, Mapping):
            errors.append(EventError(i, "", "an event must be a JSON object"))
            continue
        unknown = record.keys() - _COLUMN_SET
        if unknown:
            errors.extend(EventError(i, name, "unknown field; put free-form data in 'attrs'") for name in sorted(unknown))
        index.append(i)
        objects.append(record)
    columns: dict[str, list[Any]] = {}
    for name in EVENT_COLUMNS:
        values = [record.get(name) for record in objects]
        if name == "occurred_at":
            columns[name] = _parse_timestamps(values, index, errors)
            continue
        fast = str if name in _STRING_FIELDS else None
        if set(map(type, values)) <= {fast, type(None)}:
            columns[name] = values  # the common case, checked at C speed
            continue
        for pos, raw in enumerate(values):
            if raw is None or type(raw) is fast:
                continue
            try:
                values[pos] = _parse_value(name, raw)
            except ValueError as exc:
                errors.append(EventError(index[pos], name, str(exc)))
        columns[name] = values
    rejected = {e.index for e in errors}
    keep = [pos for pos, i in enumerate(index) if i not in rejected]
    if keep:
        stamps = columns.pop("occurred_at")
        if len(keep) < len(index):
            columns = {name: [values[pos] for pos in keep] for name, values in columns.items()}
            stamps = stamps[keep]
        frame = pd.DataFrame(columns, index=pd.Index([index[pos] for pos in keep]))
        frame["occurred_at"] = pd.DatetimeIndex(stamps).tz_localize("UTC")
        frame = conform(frame)
    else:
        frame = empty_event_frame()
    checked = _validate_conformed(frame)
    return Validated(checked.events, sorted(errors + checked.errors, key=lambda e: e.index))


def _parse_timestamps(values: list[Any], index: list[int], errors: list[EventError]) -> np.ndarray:
    """(n,) datetime64[ns] UTC (NaT where missing or bad). ISO-8601 strings with an offset are
    parsed in one vectorized call; anything else (a datetime, a string the fast parse rejects
    or sees no offset in) by ``_parse_timestamp``, which says what is wrong."""
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
    strings = [pos for pos, raw in enumerate(values) if type(raw) is str]
    fast_ok = np.zeros(len(values), dtype=bool)
    if strings:
        text = [values[pos] for pos in strings]
        parsed = pd.to_datetime(pd.Series(text, dtype=object), format="ISO8601", utc=True, errors="coerce")
        has_offset = np.fromiter((_OFFSET_AT_END.search(t) is not None for t in text), dtype=bool, count=len(text))
        ok = parsed.notna().to_numpy() & has_offset
        rows = np.asarray(strings)[ok]
        out[rows] = parsed[ok].dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
        fast_ok[rows] = True
    for pos, raw in enumerate(values):
        if raw is None or fast_ok[pos]:
            continue
        try:
            out[pos] = _parse_timestamp(raw).tz_convert(None).to_datetime64()
        except ValueError as exc:
            errors.append(EventError(index[pos], "occurred_at", str(exc)))
    return out


def _parse_value(name: str, raw: Any) -> Any:
    if raw is None:
        return None
    if name in _ID_FIELDS or name in ("type", "currency"):
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ValueError("must be a string")
        return str(raw)
    if name in _INT_FIELDS:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError("must be an integer")
        if isinstance(raw, float) and (not math.isfinite(raw) or not raw.is_integer()):
            raise ValueError("must be an integer")
        return int(raw)
    if name == "attrs":
        if not isinstance(raw, Mapping):
            raise ValueError("must be a JSON object")
        return dict(raw)
    raise AssertionError(f"no parser for column {name}")  # pragma: no cover


def _parse_timestamp(raw: Any) -> pd.Timestamp:
    if isinstance(raw, datetime):
        value = pd.Timestamp(raw)
    elif isinstance(raw, str):
        try:
            value = pd.Timestamp(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
        except ValueError:
            raise ValueError("is not an ISO-8601 date-time") from None
    else:
        raise ValueError("must be an ISO-8601 date-time string")
    if value.tzinfo is None:
        raise ValueError("needs a timezone offset, e.g. '2024-05-01T12:00:00Z'")
    return value.tz_convert("UTC")


def validate_frame(frame: pd.DataFrame) -> Validated:
    """Check every rule on an event frame; return the valid rows and one error per broken rule."""
    return _validate_conformed(conform(frame))


def _validate_conformed(frame: pd.DataFrame) -> Validated:
    """``validate_frame`` for a frame ``conform`` has already shaped (a second pass costs as
    much as the checks on an API batch)."""
    if frame.empty:
        return Validated(frame, [])
    index = frame.index.to_numpy()
    bad = np.zeros(len(frame), dtype=bool)
    errors: list[EventError] = []

    def report(mask: np.ndarray, field: str, reason: str) -> None:
        nonlocal bad
        if mask.any():
            bad |= mask
            errors.extend(EventError(int(i), field, reason) for i in index[mask])

    for name in ("event_id", "user_id"):
        report(_blank(frame[name]), name, "is required")
    for name in _ID_FIELDS:
        report(_too_long(frame[name]), name, f"is longer than {MAX_ID_LENGTH} characters")

    types = frame["type"]
    report(types.isna().to_numpy(), "type", "is required")
    report(
        (types.notna() & ~types.isin(EVENT_TYPES)).to_numpy(),
        "type",
        f"is not one of {sorted(EVENT_TYPES)}",
    )
    report(frame["occurred_at"].isna().to_numpy(), "occurred_at", "is required")

    item_missing = _blank(frame["item_id"])
    report(types.isin(ITEM_EVENT_TYPES).to_numpy() & item_missing, "item_id", "is required for this event type")
    ad_rows = types.isin(AD_EVENT_TYPES).to_numpy() & item_missing
    if ad_rows.any():  # look into attrs only where it matters: a Python call per row is slow
        has_ad_id = frame["attrs"][ad_rows].map(lambda a: isinstance(a, dict) and bool(a.get("ad_id")))
        ad_rows[ad_rows] = ~has_ad_id.to_numpy(dtype=bool)
        report(ad_rows, "item_id", "an ad event needs item_id or attrs.ad_id")

    quantity = frame["quantity"]
    report((quantity.notna() & (quantity.fillna(1) <= 0)).to_numpy(dtype=bool), "quantity", "must be positive")
    amount = frame["amount_minor"]
    currency = frame["currency"]
    report(
        (types.isin(MONEY_EVENT_TYPES) & amount.isna()).to_numpy(dtype=bool),
        "amount_minor",
        "is required for this event type",
    )
    report(
        (amount.notna() & (amount.fillna(0) < 0)).to_numpy(dtype=bool),
        "amount_minor",
        "must not be negative",
    )
    given = currency.notna().to_numpy()
    if given.any():  # most events carry no money: skip the per-value check for them
        bad_currency = np.zeros(len(frame), dtype=bool)
        bad_currency[given] = [not (len(c) == 3 and c.isalpha() and c.isupper()) for c in currency[given]]
        report(bad_currency, "currency", "must be a 3-letter upper-case ISO 4217 code")
    report(
        (amount.notna() & currency.isna()).to_numpy(dtype=bool),
        "currency",
        "is required when amount_minor is given",
    )

    for event_type, (key, allowed) in REQUIRED_ATTRS.items():
        of_type = (types == event_type).to_numpy(dtype=bool)
        if not of_type.any():
            continue
        ok = frame["attrs"].map(
            lambda a, key=key, allowed=allowed: isinstance(a, dict)
            and isinstance(a.get(key), allowed)
            and not isinstance(a.get(key), bool)
        )
        report(of_type & ~ok.to_numpy(dtype=bool), f"attrs.{key}", f"is required for '{event_type}' events")

    return Validated(frame[~bad], errors)


def validate_or_raise(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a frame that must be entirely good (an importer's output); raise on the first error."""
    checked = validate_frame(frame)
    if checked.errors:
        first = checked.errors[0]
        raise InvalidInput(
            f"{len(checked.errors)} invalid event(s); first at index {first.index}: {first.field} {first.reason}"
        )
    return checked.events


def _blank(column: pd.Series) -> np.ndarray:
    """None, or a string of only whitespace."""
    values = column.to_numpy(dtype=object)
    n = len(values)
    if set(map(type, values)) == {str}:  # the common case, at C speed (no per-value Python frame)
        return (np.fromiter(map(len, values), dtype=np.int64, count=n) == 0) | np.fromiter(
            map(str.isspace, values), dtype=bool, count=n
        )
    return np.fromiter((v is None or (type(v) is str and (not v or v.isspace())) for v in values), dtype=bool, count=n)


def _too_long(column: pd.Series) -> np.ndarray:
    values = column.to_numpy(dtype=object)
    n = len(values)
    kinds = set(map(type, values))
    if kinds <= {type(None)}:
        return np.zeros(n, dtype=bool)
    if kinds == {str}:
        return np.fromiter(map(len, values), dtype=np.int64, count=n) > MAX_ID_LENGTH
    return np.fromiter((isinstance(v, str) and len(v) > MAX_ID_LENGTH for v in values), dtype=bool, count=n)
