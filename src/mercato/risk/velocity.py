"""Sliding-window aggregates per key, updated one event at a time: the velocity state.

Pure code: every call takes the event time (seconds, any epoch) and nothing reads the wall
clock. A window ``w`` at time ``now`` covers events with ``now - w < t <= now``: the event at
exactly ``now - w`` has left it. Queries are made *before* the current event is added, which
is what keeps training rows point-in-time correct (a row sees only strictly earlier events).

Memory is bounded two ways: events older than the longest window are dropped from a key's
history when the key is touched, and keys not seen within the longest window are dropped as
stream time moves on (``expire``, also run by ``add``). Events may arrive out of order; they
are inserted in time order, so aggregates do not depend on the order of arrival.

``ReferenceWindows`` is the obvious implementation over the full event list, for tests.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import OrderedDict
from collections.abc import Hashable, Sequence


class _History:
    """One key's events inside the longest window, sorted by time."""

    __slots__ = ("times", "amounts", "values", "last_seen")

    def __init__(self) -> None:
        self.times: list[float] = []
        self.amounts: list[float] = []
        self.values: list[Hashable] = []  # the related entity (e.g. the card a user paid with)
        self.last_seen = float("-inf")


class SlidingWindows:
    """Count, sum and distinct related values per key over several trailing windows.

    ``windows_s`` are the window lengths in seconds; ``max_events_per_key`` caps one key's
    history (a card hammered by a card-testing bot must not grow without bound), keeping the
    newest events.
    """

    def __init__(self, windows_s: Sequence[float], *, max_events_per_key: int = 5000) -> None:
        if not windows_s or any(w <= 0 for w in windows_s):
            raise ValueError(f"windows_s must be positive lengths in seconds, got {list(windows_s)!r}")
        self.windows_s = tuple(float(w) for w in windows_s)
        self.horizon_s = max(self.windows_s)
        self.max_events_per_key = max_events_per_key
        self._keys: OrderedDict[Hashable, _History] = OrderedDict()  # least recently touched first
        self._clock = float("-inf")

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Hashable, t: float, amount: float = 0.0, value: Hashable = None) -> None:
        """Record one event of ``key`` at time ``t``."""
        history = self._keys.get(key)
        if history is None:
            history = self._keys[key] = _History()
        else:
            self._keys.move_to_end(key)
        if t >= (history.times[-1] if history.times else float("-inf")):
            history.times.append(t)
            history.amounts.append(amount)
            history.values.append(value)
        else:  # late arrival: keep the lists in time order
            i = bisect_right(history.times, t)
            history.times.insert(i, t)
            history.amounts.insert(i, amount)
            history.values.insert(i, value)
        history.last_seen = max(history.last_seen, t)
        self._clock = max(self._clock, t)
        self._trim(history, self._clock)
        self.expire(self._clock)

    def _trim(self, history: _History, now: float) -> None:
        drop = bisect_right(history.times, now - self.horizon_s)
        drop = max(drop, len(history.times) - self.max_events_per_key)
        if drop > 0:
            del history.times[:drop], history.amounts[:drop], history.values[:drop]

    def expire(self, now: float) -> int:
        """Drop keys not seen within the longest window before ``now``; returns how many."""
        cutoff = now - self.horizon_s
        dropped = 0
        # Keys are ordered by last touch, so in a time-ordered stream the stale ones lead.
        while self._keys:
            key, history = next(iter(self._keys.items()))
            if history.last_seen > cutoff:
                break
            del self._keys[key]
            dropped += 1
        return dropped

    def _span(self, key: Hashable, now: float, window_s: float) -> tuple[_History | None, int, int]:
        history = self._keys.get(key)
        if history is None:
            return None, 0, 0
        # Events strictly before now (point in time) and strictly after now - window.
        return history, bisect_right(history.times, now - window_s), bisect_left(history.times, now)

    def count(self, key: Hashable, now: float, window_s: float) -> int:
        _, lo, hi = self._span(key, now, window_s)
        return max(0, hi - lo)

    def total(self, key: Hashable, now: float, window_s: float) -> float:
        history, lo, hi = self._span(key, now, window_s)
        return float(sum(history.amounts[lo:hi])) if history is not None and hi > lo else 0.0

    def distinct(self, key: Hashable, now: float, window_s: float) -> int:
        history, lo, hi = self._span(key, now, window_s)
        return len(set(history.values[lo:hi])) if history is not None and hi > lo else 0

    def seen_value(self, key: Hashable, value: Hashable, now: float) -> bool:
        """Whether ``key`` had an event with ``value`` within the longest window before ``now``."""
        history, lo, hi = self._span(key, now, self.horizon_s)
        return history is not None and value in history.values[lo:hi]

    def last_before(self, key: Hashable, now: float) -> float | None:
        """Time of the latest event of ``key`` strictly before ``now`` (within the longest window)."""
        history, lo, hi = self._span(key, now, self.horizon_s)
        return history.times[hi - 1] if history is not None and hi > lo else None

    def amounts_before(self, key: Hashable, now: float) -> list[float]:
        history, lo, hi = self._span(key, now, self.horizon_s)
        return history.amounts[lo:hi] if history is not None else []


class ReferenceWindows:
    """The same answers from the full, never-trimmed event list: slow, obviously right."""

    def __init__(self) -> None:
        self.events: list[tuple[Hashable, float, float, Hashable]] = []

    def add(self, key: Hashable, t: float, amount: float = 0.0, value: Hashable = None) -> None:
        self.events.append((key, t, amount, value))

    def _inside(self, key: Hashable, now: float, window_s: float) -> list[tuple]:
        return [e for e in self.events if e[0] == key and now - window_s < e[1] < now]

    def count(self, key: Hashable, now: float, window_s: float) -> int:
        return len(self._inside(key, now, window_s))

    def total(self, key: Hashable, now: float, window_s: float) -> float:
        return float(sum(e[2] for e in self._inside(key, now, window_s)))

    def distinct(self, key: Hashable, now: float, window_s: float) -> int:
        return len({e[3] for e in self._inside(key, now, window_s)})
