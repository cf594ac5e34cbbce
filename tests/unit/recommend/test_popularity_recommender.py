"""Popularity: counts, weights and decay relative to the newest interaction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mercato.errors import InvalidInput
from mercato.recommend.interactions import Interactions
from mercato.recommend.popularity import PopularityRecommender

DAY_S = 86_400


def frame_interactions(items, days, weights=None) -> Interactions:
    frame = pd.DataFrame({"user_id": "u", "item_id": items, "t": np.asarray(days) * DAY_S})
    if weights is not None:
        frame["w"] = weights
    return Interactions.from_frame(frame, time_col="t", weight_col="w" if weights is not None else None)


def test_scores_sum_interaction_weights():
    model = PopularityRecommender().fit(frame_interactions(["x", "y", "x"], [0, 1, 2], weights=[2.0, 1.0, 0.5]))
    np.testing.assert_allclose(model.item_scores, [2.5, 1.0])


def test_decay_is_relative_to_the_newest_timestamp_not_the_clock():
    early = PopularityRecommender(half_life_days=10).fit(frame_interactions(["x", "y"], [0, 10]))
    late = PopularityRecommender(half_life_days=10).fit(frame_interactions(["x", "y"], [1000, 1010]))
    np.testing.assert_allclose(early.item_scores, [0.5, 1.0])
    np.testing.assert_array_equal(early.item_scores, late.item_scores)


def test_every_history_gets_the_same_row():
    model = PopularityRecommender().fit(frame_interactions(["x", "y", "y"], [0, 1, 2]))
    scores = model.score_histories([np.array([0]), np.array([], dtype=np.int32)], np.array([0, -1]))
    assert scores.shape == (2, 2) and scores.dtype == np.float32
    np.testing.assert_array_equal(scores[0], scores[1])


@pytest.mark.parametrize("half_life_days", [0, -2.0, "7", True])
def test_bad_half_life_says_what_to_use(half_life_days):
    with pytest.raises(InvalidInput, match="half_life_days"):
        PopularityRecommender(half_life_days=half_life_days).fit(frame_interactions(["x"], [0]))
