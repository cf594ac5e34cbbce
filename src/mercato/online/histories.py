"""Each user's latest events, in memory, so a recommendation reflects an event acknowledged a moment ago.

A user's entry is loaded from the store on first use and then kept current by the ingest
path, which calls ``observe`` after the store has committed and before it acknowledges.
A load runs outside the lock (a slow store read must not stall other users), so while it
runs, ``observe`` buffers that user's events: an event committed before the load started
is in what the load reads, one observed after is in the buffer, and event ids
de-duplicate the overlap. The number of users kept is bounded (least recently
used first out); an evicted user is simply loaded again.

After ``preload`` has read every user the store knows, a user missing from memory has no
stored events: until the first eviction, such users are answered (and followed) without a
store read. Like the rest of the cache this assumes the server sees every event written,
which holds for the embedded default where all events arrive through its API.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

# Event types that say which items a user is interested in; the order of these is the history.
HISTORY_TYPES: tuple[str, ...] = ("view", "add_to_cart", "purchase", "rating")


@dataclass(frozen=True, slots=True)
class RecentHistory:
    """Item events oldest first, and the items the user has bought (for exclude_purchased)."""

    items: tuple[str, ...]
    types: tuple[str, ...]
    purchased: frozenset[str]

    def of_types(self, types: Iterable[str]) -> list[str]:
        """The items of events of these types, oldest first."""
        wanted = frozenset(types)
        return [item for item, kind in zip(self.items, self.types, strict=True) if kind in wanted]


class _Entry:
    __slots__ = ("events", "event_ids", "purchased")

    def __init__(self, length: int) -> None:
        self.events: deque[tuple[str, str, str]] = deque(maxlen=length)  # (event_id, item_id, type)
        self.event_ids: set[str] = set()
        self.purchased: set[str] = set()

    def add(self, event_id: str, item_id: str, event_type: str) -> None:
        if event_id in self.event_ids:
            return
        if len(self.events) == self.events.maxlen:
            self.event_ids.discard(self.events[0][0])
        self.events.append((event_id, item_id, event_type))
        self.event_ids.add(event_id)
        if event_type == "purchase":
            self.purchased.add(item_id)


# loader(user_id, history_length) -> (recent item events oldest first, purchase events)
Loader = Callable[[str, int], tuple[pd.DataFrame, pd.DataFrame]]


class RecentHistories:
    def __init__(self, loader: Loader, *, length: int = 50, max_users: int = 100_000) -> None:
        self._loader = loader
        self.length = length
        self.max_users = max_users
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._loading: dict[str, list[tuple[str, str, str]]] = {}  # user -> events observed mid-load
        self._complete = False  # every user with stored events is in memory (set by preload)
        self._lock = threading.Lock()

    def get(self, user_id: str) -> RecentHistory:
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is not None:
                self._entries.move_to_end(user_id)
            elif self._complete:
                entry = self._insert(user_id, _Entry(self.length))  # nothing stored: nothing to read
            else:
                buffer = self._loading.setdefault(user_id, [])
        if entry is None:
            entry = self._load(user_id, buffer)
        with self._lock:
            items = tuple(item for _, item, _ in entry.events)
            types = tuple(kind for _, _, kind in entry.events)
            return RecentHistory(items=items, types=types, purchased=frozenset(entry.purchased))

    def observe(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Add committed events of users already cached (the others load them when asked)."""
        self._observe(
            (event["event_id"], event["user_id"], event["item_id"], event["type"])
            for event in events
            if event.get("item_id") and event["type"] in HISTORY_TYPES
        )

    def observe_frame(self, events: pd.DataFrame) -> None:
        """``observe`` for an event frame (columns event_id, user_id, item_id, type): the ingest
        path's form, with the rows that carry no history filtered out vectorized."""
        wanted = events["item_id"].notna().to_numpy() & events["type"].isin(HISTORY_TYPES).to_numpy()
        rows = events[wanted & (events["item_id"] != "").to_numpy()]
        self._observe(zip(rows["event_id"].tolist(), rows["user_id"].tolist(), rows["item_id"].tolist(),
                          rows["type"].tolist(), strict=True))

    def _observe(self, events: Iterable[tuple[str, str, str, str]]) -> None:
        with self._lock:
            for event_id, user_id, item_id, event_type in events:
                entry = self._entries.get(user_id)
                # Events arrive in commit order; a late event with an old timestamp still
                # goes last here, which is what "the user's latest action" means to a shop.
                if entry is None and self._complete:
                    entry = self._insert(user_id, _Entry(self.length))
                if entry is not None:
                    entry.add(event_id, item_id, event_type)
                elif user_id in self._loading:
                    self._loading[user_id].append((event_id, item_id, event_type))

    def preload(self, events: pd.DataFrame) -> int:
        """Fill the cache from a stored event frame (oldest first), so the first request of an
        active user needs no store read. Call before requests arrive: an event observed while
        this runs would be missed for users it fills in. Keeps the ``max_users`` users whose
        latest event is newest; returns how many users were cached."""
        rows = events[events["item_id"].notna() & events["type"].isin(HISTORY_TYPES)]
        latest = rows.groupby("user_id", sort=False)["occurred_at"].max().sort_values()
        with self._lock:
            self._complete = not self._entries and not self._loading and len(latest) <= self.max_users
        if rows.empty:
            return 0
        keep = latest.index[-self.max_users :]
        rows = rows[rows["user_id"].isin(keep)]
        purchased = rows[rows["type"] == "purchase"].groupby("user_id", sort=False)["item_id"].agg(set)
        recent = rows.groupby("user_id", sort=False).tail(self.length)
        with self._lock:
            for user_id, part in recent.groupby("user_id", sort=False):
                if user_id in self._entries or user_id in self._loading:
                    continue
                entry = _Entry(self.length)
                for event_id, item_id, event_type in zip(part["event_id"], part["item_id"], part["type"], strict=True):
                    entry.add(event_id, item_id, event_type)
                entry.purchased.update(purchased.get(user_id, ()))
                self._entries[user_id] = entry
            # Least recently active first, so eviction drops them first.
            for user_id in keep:
                if user_id in self._entries:
                    self._entries.move_to_end(user_id)
            while len(self._entries) > self.max_users:
                self._entries.popitem(last=False)
            return len(self._entries)

    def is_cached(self, user_id: str) -> bool:
        """True when ``get`` will answer from memory, without a store read."""
        return user_id in self._entries

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._entries.pop(user_id, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _load(self, user_id: str, buffer: list[tuple[str, str, str]]) -> _Entry:
        try:
            recent, purchases = self._loader(user_id, self.length)
        except BaseException:
            with self._lock:
                if self._loading.get(user_id) is buffer:
                    del self._loading[user_id]
            raise
        entry = _Entry(self.length)
        for event_id, item_id, event_type in zip(recent["event_id"], recent["item_id"], recent["type"], strict=True):
            if item_id:
                entry.add(event_id, item_id, event_type)
        entry.purchased.update(i for i in purchases["item_id"] if i)
        with self._lock:
            for event in buffer:
                entry.add(*event)
            if self._loading.get(user_id) is buffer:
                del self._loading[user_id]
            # A concurrent load of the same user may have finished first and received events
            # since: keep that entry rather than overwrite it.
            existing = self._entries.get(user_id)
            if existing is not None:
                return existing
            return self._insert(user_id, entry)

    def _insert(self, user_id: str, entry: _Entry) -> _Entry:
        """Add an entry (lock held), evicting the least recently used user beyond the bound."""
        self._entries[user_id] = entry
        if len(self._entries) > self.max_users:
            self._entries.popitem(last=False)
            self._complete = False  # the evicted user's events are in the store only now
        return entry


def store_loader(store: Any, *, purchase_limit: int = 1000) -> Loader:
    """A loader reading a user's latest item events and purchases from an event store."""

    def load(user_id: str, length: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        recent = store.user_history(user_id, types=list(HISTORY_TYPES), limit=length)
        purchases = store.user_history(user_id, types=["purchase"], limit=purchase_limit)
        return recent, purchases

    return load
