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

import struct
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Hashable, Sequence


# One key's events inside the longest window, sorted by time, as three packed buffers: times
# and amounts (float64) and the related value's 64-bit ``hash`` (int64), 8 bytes per event each.
# Bytearrays hold no references, so the garbage collector does not track them (nor the tuple
# holding them): with lists, or even array.array, its full collections scanned every key of the
# state and stalled the server for tens to hundreds of milliseconds. A distinct count by hash is
# off only when two of one key's values collide, which at 2^-64 per pair does not happen.
_Entry = tuple[bytearray, bytearray, bytearray]
_F64 = struct.Struct("d")
_I64 = struct.Struct("q")
_W = 8  # bytes per packed value


def _column(buffer: bytearray, fmt: str, lo: int, hi: int) -> list:
    with memoryview(buffer) as raw, raw.cast(fmt) as view:
        return view[lo:hi].tolist()


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
        self._keys: OrderedDict[Hashable, _Entry] = OrderedDict()  # least recently touched first
        self._clock = float("-inf")

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: Hashable, t: float, amount: float = 0.0, value: Hashable = None) -> None:
        """Record one event of ``key`` at time ``t``."""
        entry = self._keys.get(key)
        if entry is None:
            entry = self._keys[key] = (bytearray(), bytearray(), bytearray())
        else:
            self._keys.move_to_end(key)
        times, amounts, values = entry
        if not times or t >= _F64.unpack_from(times, len(times) - _W)[0]:
            times += _F64.pack(t)
            amounts += _F64.pack(amount)
            values += _I64.pack(hash(value))
        else:  # late arrival: keep the buffers in time order
            at = self._bisect(times, t, right=True) * _W
            times[at:at] = _F64.pack(t)
            amounts[at:at] = _F64.pack(amount)
            values[at:at] = _I64.pack(hash(value))
        self._clock = max(self._clock, t)
        self._trim(entry, self._clock)
        self.expire(self._clock)

    @staticmethod
    def _bisect(times: bytearray, t: float, *, right: bool) -> int:
        with memoryview(times) as raw, raw.cast("d") as view:
            return bisect_right(view, t) if right else bisect_left(view, t)

    def _trim(self, entry: _Entry, now: float) -> None:
        times, amounts, values = entry
        drop = self._bisect(times, now - self.horizon_s, right=True)
        drop = max(drop, len(times) // _W - self.max_events_per_key)
        if drop > 0:
            del times[: drop * _W], amounts[: drop * _W], values[: drop * _W]

    def expire(self, now: float) -> int:
        """Drop keys not seen within the longest window before ``now``; returns how many."""
        cutoff = now - self.horizon_s
        dropped = 0
        # Keys are ordered by last touch, so in a time-ordered stream the stale ones lead.
        while self._keys:
            key, (times, _, _) = next(iter(self._keys.items()))
            if times and _F64.unpack_from(times, len(times) - _W)[0] > cutoff:
                break
            del self._keys[key]
            dropped += 1
        return dropped

    def _span(self, key: Hashable, now: float, window_s: float) -> tuple[_Entry | None, int, int]:
        entry = self._keys.get(key)
        if entry is None:
            return None, 0, 0
        # Events strictly before now (point in time) and strictly after now - window.
        with memoryview(entry[0]) as raw, raw.cast("d") as times:
            return entry, bisect_right(times, now - window_s), bisect_left(times, now)

    def count(self, key: Hashable, now: float, window_s: float) -> int:
        _, lo, hi = self._span(key, now, window_s)
        return max(0, hi - lo)

    def total(self, key: Hashable, now: float, window_s: float) -> float:
        entry, lo, hi = self._span(key, now, window_s)
        return float(sum(_column(entry[1], "d", lo, hi))) if entry is not None and hi > lo else 0.0

    def distinct(self, key: Hashable, now: float, window_s: float) -> int:
        entry, lo, hi = self._span(key, now, window_s)
        return len(set(_column(entry[2], "q", lo, hi))) if entry is not None and hi > lo else 0

    def seen_value(self, key: Hashable, value: Hashable, now: float) -> bool:
        """Whether ``key`` had an event with ``value`` within the longest window before ``now``."""
        entry, lo, hi = self._span(key, now, self.horizon_s)
        return entry is not None and hi > lo and hash(value) in _column(entry[2], "q", lo, hi)

    def last_before(self, key: Hashable, now: float) -> float | None:
        """Time of the latest event of ``key`` strictly before ``now`` (within the longest window)."""
        entry, lo, hi = self._span(key, now, self.horizon_s)
        return _F64.unpack_from(entry[0], (hi - 1) * _W)[0] if entry is not None and hi > lo else None

    def amounts_before(self, key: Hashable, now: float) -> list[float]:
        entry, lo, hi = self._span(key, now, self.horizon_s)
        return _column(entry[1], "d", lo, hi) if entry is not None and hi > lo else []


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
