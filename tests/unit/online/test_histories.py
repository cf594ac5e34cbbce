"""The recent-history cache: loads once, follows committed events, never loses one mid-load."""

from __future__ import annotations

import threading

import pandas as pd

from mercato.online.histories import RecentHistories


def frame(rows):
    return pd.DataFrame(rows, columns=["event_id", "item_id", "type"])


def stored(user_id, length):
    recent = frame([("e1", "a", "view"), ("e2", "b", "purchase")])
    return recent.tail(length), frame([("e2", "b", "purchase")])


def test_loads_from_the_store_once_then_follows_observed_events():
    calls = []

    def loader(user_id, length):
        calls.append(user_id)
        return stored(user_id, length)

    cache = RecentHistories(loader, length=3)
    assert cache.get("u").items == ("a", "b") and cache.get("u").purchased == {"b"}
    cache.observe([{"event_id": "e3", "user_id": "u", "item_id": "c", "type": "add_to_cart"},
                   {"event_id": "e2", "user_id": "u", "item_id": "b", "type": "purchase"},  # duplicate id
                   {"event_id": "e4", "user_id": "other", "item_id": "z", "type": "view"},
                   {"event_id": "e5", "user_id": "u", "item_id": None, "type": "search"}])
    cache.observe([{"event_id": "e6", "user_id": "u", "item_id": "d", "type": "view"}])
    history = cache.get("u")
    assert history.items == ("b", "c", "d") and history.types == ("purchase", "add_to_cart", "view")
    assert calls == ["u"] and len(cache) == 1


def test_an_event_observed_while_the_user_loads_is_kept():
    started, release = threading.Event(), threading.Event()

    def slow_loader(user_id, length):
        started.set()
        release.wait(5)
        return stored(user_id, length)  # read before the new event was committed

    cache = RecentHistories(slow_loader)
    result = {}
    reader = threading.Thread(target=lambda: result.setdefault("h", cache.get("u")))
    reader.start()
    assert started.wait(5)
    cache.observe([{"event_id": "e9", "user_id": "u", "item_id": "new", "type": "view"}])
    release.set()
    reader.join(5)
    assert result["h"].items == ("a", "b", "new")


def test_least_recently_used_users_are_evicted():
    cache = RecentHistories(stored, max_users=2)
    for user in ("a", "b", "a", "c"):
        cache.get(user)
    cache.observe([{"event_id": "x", "user_id": "b", "item_id": "q", "type": "view"}])  # b was evicted
    assert len(cache) == 2 and "q" not in cache.get("b").items


def test_preload_fills_the_most_recently_active_users_without_store_reads():
    def no_loads(user_id, length):
        raise AssertionError(f"store read for {user_id}")

    events = pd.DataFrame(
        [("e1", "a", "x", "view", 1), ("e2", "b", "x", "view", 2), ("e3", "a", "y", "purchase", 3),
         ("e4", "c", "z", "view", 4), ("e5", "a", None, "search", 5)],
        columns=["event_id", "user_id", "item_id", "type", "occurred_at"],
    )
    cache = RecentHistories(no_loads, length=5, max_users=2)
    assert cache.preload(events) == 2
    assert cache.get("a").items == ("x", "y") and cache.get("a").purchased == {"y"}
    assert cache.get("c").items == ("z",)  # "b" was the least recently active: not kept


def test_after_a_complete_preload_unknown_users_need_no_store_read_until_an_eviction():
    reads = []

    def loader(user_id, length):
        reads.append(user_id)
        return stored(user_id, length)

    events = pd.DataFrame([("e1", "a", "x", "view", 1)], columns=["event_id", "user_id", "item_id", "type", "occurred_at"])
    cache = RecentHistories(loader, max_users=2)
    cache.preload(events)
    cache.observe([{"event_id": "n1", "user_id": "new", "item_id": "q", "type": "view"}])
    assert cache.get("new").items == ("q",) and cache.get("ghost").items == () and reads == []
    # "ghost" made three users for two places: "a" was evicted, so from now on misses read the store.
    cache.get("third")
    assert cache.get("a").items == ("a", "b") and reads == ["third", "a"]


def test_observing_a_frame_equals_observing_its_events():
    """The ingest path hands over committed batches as frames; the cache must follow them alike."""
    rows = [("e1", "u", "a", "view"), ("e2", "v", None, "payment"), ("e3", "u", "b", "purchase"),
            ("e4", "v", "c", "return"), ("e5", "v", "d", "add_to_cart"), ("e6", "u", "a", "view"), ("e1", "u", "a", "view")]
    events = pd.DataFrame(rows, columns=["event_id", "user_id", "item_id", "type"])
    as_dicts = [dict(zip(events.columns, row, strict=True)) for row in rows]
    by_frame = RecentHistories(lambda user, length: stored(user, length), length=3)
    by_dicts = RecentHistories(lambda user, length: stored(user, length), length=3)
    for cache in (by_frame, by_dicts):
        cache.get("u"), cache.get("v")  # both cached, so both follow what is observed
    by_frame.observe_frame(events)
    by_dicts.observe(as_dicts)
    for user in ("u", "v"):
        assert by_frame.get(user) == by_dicts.get(user)
    assert by_frame.get("u").items == ("b", "a", "a") and by_frame.get("v").items == ("a", "b", "d")
