"""Item statistics learned one event at a time: decayed popularity and co-occurrence.

These are the parts of the recommender that must move within milliseconds of an event:
a new item's first views make it popular and tie it to the items viewed just before it,
long before any batch model is refitted. ``learn_one`` takes one event; every query
answers without side effects (River's ``learn_one``/``predict_one`` split).

- Popularity uses forward decay (Cormode et al., ICDE 2009): an event at time t adds
  ``weight · 2^((t - t0) / half_life)``, so older events count less *relative* to newer
  ones without ever touching stored values. Time is the event's own ``occurred_at``, never
  the wall clock, so a replay of a dataset gives the same numbers as the live stream did.
- Co-occurrence counts pairs (previous item of the same user, new item) over each user's
  last ``window`` distinct items: "viewed this, then that".
- Basket co-occurrence counts pairs of items purchased in the same order.

The pair counts hold only what happened since the last batch refit (``reset_pairs``): the
batch models carry the history, these dictionaries carry the delta, which keeps memory
bounded by the refit interval rather than by the age of the shop. Both are capped at
``max_pairs`` entries; beyond it new pairs wait for the next refit.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, defaultdict, deque
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

# How much each event type says about interest in an item; returns and removals say nothing.
TYPE_WEIGHTS: dict[str, float] = {"view": 1.0, "rating": 1.0, "add_to_cart": 2.0, "purchase": 3.0}


class OnlineItemStats:
    """Thread-safe: one learner thread writes while request threads read."""

    def __init__(
        self,
        *,
        half_life_s: float = 7 * 86_400.0,
        window: int = 5,
        max_users: int = 200_000,
        max_orders: int = 50_000,
        max_pairs: int = 2_000_000,
    ) -> None:
        self.half_life_s = half_life_s
        self.window = window
        self.max_users = max_users
        self.max_orders = max_orders
        self.max_pairs = max_pairs
        self._lock = threading.RLock()
        self._reference_s: float | None = None  # t0 of the forward decay
        self._item_row: dict[str, int] = {}
        self._item_ids: list[str] = []
        self._popularity = np.zeros(1024, dtype=np.float64)  # grows by doubling
        self._user_recent: OrderedDict[str, deque[str]] = OrderedDict()
        self._order_items: OrderedDict[str, list[str]] = OrderedDict()
        self._co_views: defaultdict[str, dict[str, float]] = defaultdict(dict)
        self._co_baskets: defaultdict[str, dict[str, float]] = defaultdict(dict)
        self._pairs = 0
        self._rows_cache: tuple | None = None
        self.events_learned = 0

    # ---- learning ---------------------------------------------------------------------------

    def learn_one(self, event: Mapping[str, Any]) -> None:
        """Learn from one stored event (a mapping with the event-frame fields)."""
        weight = TYPE_WEIGHTS.get(event.get("type"), 0.0)
        item_id = event.get("item_id")
        if weight == 0.0 or not item_id:
            return
        seconds = _seconds(event["occurred_at"])
        with self._lock:
            self.events_learned += 1
            if self._reference_s is None:
                self._reference_s = seconds
            row = self._row(item_id)
            # exp2 overflows past ~1000 half-lives (~19 years at 7 days); clamp rather than crash.
            exponent = min((seconds - self._reference_s) / self.half_life_s, 1000.0)
            self._popularity[row] += weight * math.exp2(exponent)
            self._learn_sequence(event["user_id"], item_id)
            if event.get("type") == "purchase" and event.get("order_id"):
                self._learn_basket(event["order_id"], item_id)

    def learn_many(self, events: Iterable[Mapping[str, Any]]) -> int:
        count = 0
        for event in events:
            self.learn_one(event)
            count += 1
        return count

    def learn_frame(self, events: pd.DataFrame) -> int:
        """Learn an event frame (columns type, occurred_at, user_id, item_id, order_id) at once;
        the same state as ``learn_one`` on each row in order. Popularity is one vectorized
        update; pairs still go event by event, but under one lock acquisition and with no
        per-event dict or timestamp object. The ingest path calls this for every batch, so
        its cost is taken straight from ingestion throughput (one interpreter lock)."""
        return self._learn_rows(events, pairs=True)

    def warm_start(self, events: pd.DataFrame, *, pairs_after: pd.Timestamp | None = None) -> None:
        """Learn a stored event frame in bulk: popularity over all of it, pairs only for events
        after ``pairs_after`` (None: no pairs; the batch model already holds the older ones)."""
        if pairs_after is None:
            self._learn_rows(events, pairs=False)
            return
        older = events["occurred_at"] <= pairs_after
        self._learn_rows(events[older], pairs=False)
        self._learn_rows(events[~older], pairs=True)

    def _learn_rows(self, events: pd.DataFrame, *, pairs: bool) -> int:
        if not len(events):
            return 0
        weights = events["type"].map(TYPE_WEIGHTS).fillna(0.0).to_numpy(dtype=np.float64)
        keep = (weights > 0) & events["item_id"].notna().to_numpy()
        if not keep.any():
            return 0
        rows = events[keep]
        seconds = rows["occurred_at"].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6
        with self._lock:
            if self._reference_s is None:
                self._reference_s = float(seconds.min())
            # exp2 overflows past ~1000 half-lives (~19 years at 7 days); clamp rather than crash.
            exponents = np.minimum((seconds - self._reference_s) / self.half_life_s, 1000.0)
            item_ids = rows["item_id"].astype(str).tolist()
            positions = np.fromiter(map(self._row, item_ids), dtype=np.int64, count=len(item_ids))
            np.add.at(self._popularity, positions, weights[keep] * np.exp2(exponents))
            self.events_learned += len(rows)
            if pairs:
                purchases = (rows["type"] == "purchase").to_numpy() & rows["order_id"].notna().to_numpy()
                for user_id, item_id in zip(rows["user_id"].tolist(), item_ids, strict=True):
                    self._learn_sequence(user_id, item_id)
                if purchases.any():
                    for order_id, item_id in zip(rows["order_id"][purchases], np.asarray(item_ids, dtype=object)[purchases],
                                                 strict=True):
                        self._learn_basket(order_id, item_id)
        return len(rows)

    def reset_pairs(self) -> None:
        """Forget the pair deltas: a freshly refitted batch model now holds them."""
        with self._lock:
            self._co_views.clear()
            self._co_baskets.clear()
            self._pairs = 0

    def _row(self, item_id: str) -> int:
        row = self._item_row.get(item_id)
        if row is None:
            row = len(self._item_ids)
            self._item_row[item_id] = row
            self._item_ids.append(item_id)
            if row >= len(self._popularity):
                self._popularity = np.concatenate([self._popularity, np.zeros_like(self._popularity)])
        return row

    def _learn_sequence(self, user_id: str, item_id: str) -> None:
        recent = self._user_recent.get(user_id)
        if recent is None:
            recent = self._user_recent[user_id] = deque(maxlen=self.window)
            if len(self._user_recent) > self.max_users:
                self._user_recent.popitem(last=False)
        else:
            self._user_recent.move_to_end(user_id)
        if recent:
            self._add_pairs(self._co_views, item_id, recent)
        if item_id in recent:
            recent.remove(item_id)
        recent.append(item_id)

    def _learn_basket(self, order_id: str, item_id: str) -> None:
        basket = self._order_items.get(order_id)
        if basket is None:
            basket = self._order_items[order_id] = []
            if len(self._order_items) > self.max_orders:
                self._order_items.popitem(last=False)
        if item_id in basket:
            return
        self._add_pairs(self._co_baskets, item_id, basket)
        basket.append(item_id)

    def _add_pairs(self, table: defaultdict[str, dict[str, float]], item_id: str, others: Iterable[str]) -> None:
        """Count the pair (item_id, other) both ways for each other item (itself excluded).
        Written for speed: the ingest path runs it for every event, ~8 dict updates each."""
        mine = table[item_id]
        room = self.max_pairs - self._pairs
        for other in others:
            if other == item_id:
                continue
            if other in mine:
                mine[other] += 1.0
            elif room > 0:
                mine[other] = 1.0
                room -= 1
            theirs = table[other]
            if item_id in theirs:
                theirs[item_id] += 1.0
            elif room > 0:
                theirs[item_id] = 1.0
                room -= 1
        self._pairs = self.max_pairs - room

    # ---- queries ----------------------------------------------------------------------------

    def popularity_for(self, item_ids: np.ndarray) -> np.ndarray:
        """(n,) decayed popularity of each id (0 for ids never seen).

        The id -> row lookup of the last array asked about is cached until a new item
        appears: requests ask about the same catalog array over and over.
        """
        with self._lock:
            key = (id(item_ids), len(self._item_ids))
            if self._rows_cache is None or self._rows_cache[0] != key or self._rows_cache[1] is not item_ids:
                rows = np.fromiter((self._item_row.get(i, -1) for i in item_ids), dtype=np.int64, count=len(item_ids))
                self._rows_cache = (key, item_ids, rows)
            rows = self._rows_cache[2]
            return np.where(rows >= 0, self._popularity[np.maximum(rows, 0)], 0.0)

    def popularity_of(self, item_id: str) -> float:
        with self._lock:
            row = self._item_row.get(item_id)
            return 0.0 if row is None else float(self._popularity[row])

    def co_viewed(self, item_id: str) -> dict[str, float]:
        with self._lock:
            return dict(self._co_views.get(item_id, {}))

    def co_bought(self, item_id: str) -> dict[str, float]:
        with self._lock:
            return dict(self._co_baskets.get(item_id, {}))

    @property
    def n_items(self) -> int:
        return len(self._item_ids)

    @property
    def n_pairs(self) -> int:
        return self._pairs


def _seconds(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, np.datetime64):
        return value.astype("datetime64[us]").astype(np.int64) / 1e6
    return float(value)
