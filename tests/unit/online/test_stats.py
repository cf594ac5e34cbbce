"""Online item statistics: decayed popularity, co-occurrence, baskets, bounds; against a reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.online.stats import TYPE_WEIGHTS, OnlineItemStats

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def ev(user, item, kind="view", days=0.0, order=None):
    return {"event_id": f"{user}-{item}-{days}", "type": kind, "occurred_at": T0 + timedelta(days=days),
            "user_id": user, "item_id": item, "order_id": order}


def test_popularity_halves_per_half_life_relative_to_newer_events():
    stats = OnlineItemStats(half_life_s=86_400)
    stats.learn_one(ev("u", "old", days=0))
    stats.learn_one(ev("u", "new", days=1))
    assert stats.popularity_of("new") == 2 * stats.popularity_of("old")
    assert stats.popularity_of("never") == 0.0
    assert list(stats.popularity_for(np.array(["old", "x", "new"], dtype=object))) == [1.0, 0.0, 2.0]


def test_co_views_pair_the_users_recent_items_and_baskets_pair_the_order():
    stats = OnlineItemStats(window=2)
    for item in ("a", "b", "c", "d"):
        stats.learn_one(ev("u", item))
    assert stats.co_viewed("d") == {"b": 1.0, "c": 1.0}  # "a" fell out of the 2-item window
    assert stats.co_viewed("a") == {"b": 1.0, "c": 1.0}
    stats.learn_one(ev("v", "x", "purchase", order="o1"))
    stats.learn_one(ev("v", "y", "purchase", order="o1"))
    stats.learn_one(ev("w", "y", "purchase", order="o2"))
    assert stats.co_bought("x") == {"y": 1.0} and stats.co_bought("y") == {"x": 1.0}
    stats.reset_pairs()
    assert stats.co_viewed("b") == {} and stats.n_pairs == 0


def test_events_without_an_item_or_weight_are_ignored():
    stats = OnlineItemStats()
    stats.learn_one({**ev("u", None), "item_id": None})
    stats.learn_one(ev("u", "a", "return"))
    assert stats.events_learned == 0 and stats.n_items == 0


def test_pairs_are_capped():
    stats = OnlineItemStats(window=5, max_pairs=4)
    for item in "abcdef":
        stats.learn_one(ev("u", item))
    assert stats.n_pairs == 4


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("uvw"), st.sampled_from("abcd"), st.sampled_from(sorted(TYPE_WEIGHTS)),
                          st.floats(0, 30)), max_size=40))
def test_warm_start_popularity_equals_learning_one_by_one(rows):
    rows = sorted(rows, key=lambda r: r[3])
    events = [ev(u, i, k, d) for u, i, k, d in rows]
    one_by_one = OnlineItemStats()
    one_by_one.learn_many(events)
    bulk = OnlineItemStats()
    frame = pd.DataFrame(events)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True) if events else pd.Series(dtype="datetime64[us, UTC]")
    if events:
        bulk.warm_start(frame, pairs_after=pd.Timestamp(T0 - timedelta(days=1)))
    ids = np.array(list("abcd"), dtype=object)
    np.testing.assert_allclose(bulk.popularity_for(ids), one_by_one.popularity_for(ids), rtol=1e-9)
    for item in "abcd":
        assert bulk.co_viewed(item) == one_by_one.co_viewed(item)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("uvw"), st.sampled_from(["a", "b", "c", "d", None]),
                          st.sampled_from([*sorted(TYPE_WEIGHTS), "return"]), st.floats(0, 30),
                          st.sampled_from([None, "o1", "o2"])), max_size=40))
def test_learning_a_frame_equals_learning_its_events_one_by_one(rows):
    """The ingest path learns whole batches as frames; it must end in the state learn_one gives."""
    events = [ev(u, i, k, d, order=o) for u, i, k, d, o in sorted(rows, key=lambda r: r[3])]
    one_by_one = OnlineItemStats(window=3)
    for event in events:
        one_by_one.learn_one(event)
    bulk = OnlineItemStats(window=3)
    frame = pd.DataFrame(events, columns=["event_id", "type", "occurred_at", "user_id", "item_id", "order_id"])
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    half = len(frame) // 2  # two batches: state carries over between them
    bulk.learn_frame(frame.iloc[:half])
    bulk.learn_frame(frame.iloc[half:])
    assert bulk.events_learned == one_by_one.events_learned and bulk.n_pairs == one_by_one.n_pairs
    ids = np.array(list("abcd"), dtype=object)
    np.testing.assert_allclose(bulk.popularity_for(ids), one_by_one.popularity_for(ids), rtol=1e-9)
    for item in "abcd":
        assert bulk.co_viewed(item) == one_by_one.co_viewed(item)
        assert bulk.co_bought(item) == one_by_one.co_bought(item)
