"""Window aggregates against the obvious reference, and the properties issue 6 names."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.risk.velocity import ReferenceWindows, SlidingWindows

WINDOWS = (10.0, 60.0, 600.0)
events_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(0, 1000), st.integers(0, 50), st.sampled_from(["x", "y", "z"])),
    max_size=60,
)


def _aggregates(windows, now: float) -> list:
    return [(windows.count(k, now, w), windows.total(k, now, w), windows.distinct(k, now, w))
            for k in "abc" for w in WINDOWS]


@given(events_strategy, st.integers(0, 1200))
@settings(max_examples=150, deadline=None)
def test_matches_reference_for_time_ordered_streams(events, query_at):
    fast, reference = SlidingWindows(WINDOWS), ReferenceWindows()
    for key, t, amount, value in sorted(events, key=lambda e: e[1]):
        fast.add(key, float(t), float(amount), value)
        reference.add(key, float(t), float(amount), value)
    now = max([query_at] + [t for _, t, _, _ in events])  # queries move forward with the stream
    assert _aggregates(fast, now) == _aggregates(reference, now)


@given(events_strategy, st.randoms(use_true_random=False))
@settings(max_examples=100, deadline=None)
def test_order_of_arrival_does_not_matter(events, rng):
    now = 1000.0
    inside = [e for e in events if e[1] > now - max(WINDOWS)]  # all within the longest window
    shuffled = list(inside)
    rng.shuffle(shuffled)
    first, second = SlidingWindows(WINDOWS), SlidingWindows(WINDOWS)
    for key, t, amount, value in sorted(inside, key=lambda e: e[1]):
        first.add(key, float(t), float(amount), value)
    for key, t, amount, value in shuffled:
        second.add(key, float(t), float(amount), value)
    assert _aggregates(first, now + 1) == _aggregates(second, now + 1)


@given(events_strategy, events_strategy)
@settings(max_examples=100, deadline=None)
def test_sums_and_counts_are_additive_over_disjoint_streams(left, right):
    """Counting two halves of a key's events separately adds up to counting them together."""
    now = 1001.0
    both, only_left, only_right = SlidingWindows(WINDOWS), SlidingWindows(WINDOWS), SlidingWindows(WINDOWS)
    tagged = [(e, "L") for e in left] + [(e, "R") for e in right]
    for (key, t, amount, value), side in sorted(tagged, key=lambda item: item[0][1]):
        both.add(key, float(t), float(amount), value)
        (only_left if side == "L" else only_right).add(key, float(t), float(amount), value)
    for key in "abc":
        for w in WINDOWS:
            assert both.count(key, now, w) == only_left.count(key, now, w) + only_right.count(key, now, w)
            assert both.total(key, now, w) == only_left.total(key, now, w) + only_right.total(key, now, w)


def test_window_edges_are_exclusive_and_the_current_instant_is_not_seen():
    windows = SlidingWindows([10.0])
    windows.add("k", 100.0, 5.0, "v")
    assert windows.count("k", 100.0, 10.0) == 0  # an event does not see itself (point in time)
    assert windows.count("k", 109.9, 10.0) == 1
    assert windows.count("k", 110.0, 10.0) == 0  # exactly one window later it has expired
    assert windows.total("k", 105.0, 10.0) == 5.0


def test_keys_not_seen_within_the_longest_window_are_dropped():
    windows = SlidingWindows([60.0, 3600.0])
    rng = random.Random(0)
    for i in range(20_000):  # a long stream of one-off keys: memory must not grow with it
        windows.add(f"key{i}", float(i), 1.0, rng.choice("xy"))
    assert len(windows) <= 3601
    assert windows.count("key0", 20_000.0, 3600.0) == 0
    assert windows.count("key19999", 20_000.0, 3600.0) == 1


def test_one_busy_key_keeps_only_its_newest_events():
    windows = SlidingWindows([1e9], max_events_per_key=100)
    for i in range(1000):
        windows.add("card", float(i), 1.0)
    assert windows.count("card", 1000.0, 1e9) == 100
