"""The online learner, driven step by step: learning, scheduled refits, the partial_fit seam."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from mercato.errors import Unavailable
from mercato.models.registry import ModelRegistry
from mercato.models.slot import ModelSlot
from mercato.online.learner import OnlineLearner, supports_partial_fit
from mercato.online.stats import OnlineItemStats
from mercato.online.training import fit_model
from mercato.recommend.interactions import Interactions
from mercato.recommend.popularity import PopularityRecommender

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def events(n: int, start: int = 0) -> list[dict]:
    return [
        {"event_id": f"e{i}", "type": "view", "occurred_at": T0 + timedelta(minutes=i), "user_id": f"u{i % 3}",
         "item_id": f"i{i % 4}", "order_id": None}
        for i in range(start, start + n)
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def learner_over(stored: list[dict], tmp_path, **kwargs) -> OnlineLearner:
    def read():
        frame = pd.DataFrame(stored)
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
        return frame

    return OnlineLearner(
        stats=OnlineItemStats(), slot=ModelSlot(), registry=ModelRegistry(tmp_path), read_events=read,
        fit=lambda frame: fit_model(frame, "itemknn"), **kwargs,
    )


def test_events_are_learned_and_can_be_awaited(tmp_path):
    learner = learner_over(events(8), tmp_path)
    learner.learn(events(5))
    assert learner.learned == 5 and learner.wait_learned(5, timeout_s=0)
    assert not learner.wait_learned(6, timeout_s=0.01)
    assert learner.stats.co_viewed("i1")


def test_refits_on_schedule_once_enough_new_events_arrived(tmp_path):
    stored = events(8)
    clock = Clock()
    learner = learner_over(stored, tmp_path, refit_interval_s=60, refit_min_events=3, clock=clock)
    learner._first_model()  # no live version yet: trains v1 from the store
    assert learner.slot.current.version.version == 1 and learner.refits == 1
    stored.extend(events(3, start=8))
    learner.learn(events(3, start=8))
    clock.now = 30
    learner.tick()
    assert learner.refits == 1  # too early
    clock.now = 61
    learner.tick()
    live = learner.slot.current
    assert live.version.version == 2 and live.version.window["events"] == 11
    assert learner.stats.n_pairs == 0  # the new model holds the pairs now
    clock.now = 200
    learner.tick()
    assert learner.refits == 2  # no new events since: no refit


def test_a_failing_refit_leaves_the_last_good_model_serving(tmp_path):
    learner = learner_over(events(8), tmp_path)
    learner._first_model()

    def broken():
        raise Unavailable("disk on fire")

    learner._read_events = broken
    learner._guarded(learner.refit)
    assert learner.slot.current.version.version == 1 and "disk on fire" in learner.last_error


class CountingPopularity(PopularityRecommender):
    """Popularity that learns incrementally: the seam the sequential model plugs into."""

    def partial_fit(self, interactions: Interactions) -> CountingPopularity:
        positions = {item: i for i, item in enumerate(self.item_ids)}
        for item in interactions.item_ids[interactions.item_idx]:
            if item in positions:
                self.item_scores[positions[item]] += 1
        return self


def test_a_model_with_partial_fit_is_fine_tuned_in_micro_batches_and_swapped(tmp_path):
    learner = learner_over(events(8), tmp_path, fine_tune_events=4)
    assert not supports_partial_fit(PopularityRecommender()) and supports_partial_fit(CountingPopularity())
    base = CountingPopularity().fit(Interactions.from_sequences([["i0", "i1", "i2", "i3"]]))
    record = learner.registry.publish(base, promote=True)
    learner.slot.swap(record, base)
    before = base.item_scores.copy()
    learner.learn([{**e, "item_id": "i2"} for e in events(3, start=100)])
    assert learner.fine_tunes == 0  # 3 < 4 buffered interactions
    learner.learn([{**e, "item_id": "i2"} for e in events(1, start=200)])
    live = learner.slot.current
    assert learner.fine_tunes == 1 and live.version.version == 2 and live.version.source == "fine-tune"
    assert live.model is not base and np.array_equal(base.item_scores, before)  # the served copy changed, not the old one
    assert live.model.item_scores[2] == before[2] + 4
    assert live.version.window == {"parent_version": 1}


def test_fine_tuning_sees_each_users_recent_items_not_just_the_micro_batch(tmp_path):
    seen: list[Interactions] = []

    class Recording(CountingPopularity):
        def partial_fit(self, interactions: Interactions) -> Recording:
            seen.append(interactions)
            return self

    recent = {"u0": ["i3", "i1", "i0"], "u1": ["i2", "i1"]}
    learner = learner_over(events(8), tmp_path, fine_tune_events=2, recent_items=lambda user: recent[user])
    base = Recording().fit(Interactions.from_sequences([["i0", "i1", "i2", "i3"]]))
    learner.slot.swap(learner.registry.publish(base, promote=True), base)
    learner.learn(events(2))  # u0 views i0, u1 views i1: the latest item of each context
    (data,) = seen
    by_user = {str(data.user_ids[u]): data.item_ids[data.item_idx[data.user_idx == u]].tolist() for u in range(data.n_users)}
    assert by_user == recent


def test_the_thread_learns_every_submitted_batch_frames_and_mappings_alike(tmp_path):
    learner = learner_over(events(8), tmp_path)
    frame = pd.DataFrame(events(4, start=20))
    learner.submit(events(3, start=10))
    learner.submit(frame)  # the ingest path's form
    learner.submit([])
    learner.start()
    try:
        assert learner.wait_learned(7, timeout_s=30)
    finally:
        learner.stop()
    reference = OnlineItemStats()
    reference.warm_start(learner_over(events(8), tmp_path)._read_events())
    for batch in (events(3, start=10), events(4, start=20)):
        for event in batch:
            reference.learn_one(event)
    ids = np.array(["i0", "i1", "i2", "i3"], dtype=object)
    np.testing.assert_allclose(learner.stats.popularity_for(ids), reference.popularity_for(ids), rtol=1e-9)
    assert learner.stats.co_viewed("i1") == reference.co_viewed("i1")
