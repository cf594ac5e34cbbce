"""The event schema: one stream of typed events, plus the catalog (items) and users.

Events travel through mercato as pandas DataFrames with the columns of ``EVENT_COLUMNS``
(an "event frame"): importers produce them, the store appends and reads them, the
evaluation harness and the trainers consume them. One columnar shape keeps bulk import
fast (hundreds of thousands of rows a second) and gives single events and batches the
same validation path (see ``mercato.events.validation``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd


class EventType(str, enum.Enum):
    VIEW = "view"
    ADD_TO_CART = "add_to_cart"
    REMOVE_FROM_CART = "remove_from_cart"
    PURCHASE = "purchase"
    RETURN = "return"
    RATING = "rating"
    SEARCH = "search"
    PAYMENT = "payment"
    CHARGEBACK = "chargeback"
    SUPPORT_MESSAGE = "support_message"
    AD_IMPRESSION = "ad_impression"
    AD_CLICK = "ad_click"


EVENT_TYPES: frozenset[str] = frozenset(t.value for t in EventType)

# Types that are about one catalog item and so need `item_id`.
ITEM_EVENT_TYPES: frozenset[str] = frozenset(
    {"view", "add_to_cart", "remove_from_cart", "purchase", "return", "rating"}
)
# Types that move money and so need `amount_minor` and `currency`.
MONEY_EVENT_TYPES: frozenset[str] = frozenset({"payment", "chargeback"})
# Types that need one key in `attrs`, with the Python types it may have.
REQUIRED_ATTRS: dict[str, tuple[str, tuple[type, ...]]] = {
    "rating": ("rating", (int, float)),
    "search": ("query", (str,)),
    "support_message": ("text", (str,)),
}
# Types about an ad: an `item_id` or `attrs["ad_id"]` says which.
AD_EVENT_TYPES: frozenset[str] = frozenset({"ad_impression", "ad_click"})

MAX_ID_LENGTH = 200

# Column name -> pandas dtype of an event frame. Strings use the "object" dtype holding
# Python str or None; `attrs` holds a dict or None.
EVENT_COLUMNS: dict[str, str] = {
    "event_id": "object",
    "type": "object",
    "occurred_at": "datetime64[us, UTC]",
    "user_id": "object",
    "session_id": "object",
    "item_id": "object",
    "quantity": "Int64",
    "amount_minor": "Int64",
    "currency": "object",
    "order_id": "object",
    "attrs": "object",
}
REQUIRED_COLUMNS: tuple[str, ...] = ("event_id", "type", "occurred_at", "user_id")


def empty_event_frame() -> pd.DataFrame:
    """An event frame with no rows and the right dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in EVENT_COLUMNS.items()})


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with every event column present (missing ones empty) and cast to its dtype.

    Raises ``InvalidInput`` for a missing required column; row-level problems are the
    validator's business, not this function's.
    """
    from mercato.errors import InvalidInput

    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"event frame lacks required column(s) {missing}")
    out = pd.DataFrame(index=frame.index)
    for name, dtype in EVENT_COLUMNS.items():
        if name not in frame.columns:
            out[name] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
            if dtype != "object":
                out[name] = out[name].astype(dtype)
        elif dtype == "object":
            col = frame[name].astype("object")
            out[name] = col.where(col.notna(), None)
        else:
            out[name] = frame[name].astype(dtype)
    return out


@dataclass(frozen=True, slots=True)
class Item:
    """A catalog item. ``price_minor`` is in minor units (cents) of ``currency``."""

    item_id: str
    title: str = ""
    category: tuple[str, ...] = ()  # category path, most general first
    price_minor: int | None = None
    currency: str | None = None
    brand: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    stock: int | None = None  # None: not tracked; 0: out of stock
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
