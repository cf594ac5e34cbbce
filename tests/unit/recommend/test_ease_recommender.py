"""EASE against a direct numpy transcription of Steck 2019's closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mercato.errors import InvalidInput
from mercato.recommend.ease import EASERecommender
from mercato.recommend.interactions import Interactions


def interactions_from_dense(user_items: np.ndarray) -> Interactions:
    """(n_users, n_items) 0/1 -> Interactions whose item index j is item 'i{j}'."""
    sequences = [[f"i{j}" for j in np.flatnonzero(row)] for row in user_items]
    all_items = np.array([f"i{j}" for j in range(user_items.shape[1])])
    frame_items = [item for seq in sequences for item in seq]
    frame_users = [str(u) for u, seq in enumerate(sequences) for _ in seq]
    frame = pd.DataFrame({"user_id": frame_users, "item_id": frame_items, "t": np.arange(len(frame_items))})
    return Interactions.from_frame(frame, time_col="t", item_ids=all_items)


def reference_ease(user_items: np.ndarray, l2: float) -> np.ndarray:
    """Steck 2019, Algorithm 1, in float64."""
    gram = user_items.T @ user_items + l2 * np.eye(user_items.shape[1])
    precision = np.linalg.inv(gram)
    weights = -precision / np.diag(precision)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights


@pytest.fixture
def small_matrix() -> np.ndarray:
    rng = np.random.default_rng(3)
    matrix = (rng.random((12, 6)) < 0.45).astype(np.float64)
    matrix[:, 0] = 1.0  # every item has users, item 0 the most
    return matrix


def test_weights_match_the_closed_form_with_a_zero_diagonal(small_matrix):
    model = EASERecommender(l2=2.0).fit(interactions_from_dense(small_matrix))
    expected = reference_ease(small_matrix, 2.0)
    np.testing.assert_array_equal(model.learned_items, np.arange(6))
    np.testing.assert_allclose(model.weights, expected, rtol=1e-4, atol=1e-6)
    assert np.all(np.diag(model.weights) == 0.0)


def test_history_scores_are_the_binary_history_times_b(small_matrix):
    model = EASERecommender(l2=2.0).fit(interactions_from_dense(small_matrix))
    history = np.array([3, 1, 3], dtype=np.int32)  # repeats count once
    binary = np.zeros(6)
    binary[[1, 3]] = 1.0
    np.testing.assert_allclose(model.score_histories([history])[0], binary @ reference_ease(small_matrix, 2.0), rtol=1e-4, atol=1e-6)


def test_items_beyond_max_items_rank_below_learned_items_and_are_ignored_in_histories(small_matrix):
    users_per_item = small_matrix.sum(axis=0)
    model = EASERecommender(l2=2.0, max_items=3).fit(interactions_from_dense(small_matrix))
    learned = np.sort(np.argsort(-users_per_item, kind="stable")[:3])
    np.testing.assert_array_equal(model.learned_items, learned)
    unlearned = np.setdiff1d(np.arange(6), learned)
    # The learned block equals EASE fitted on those columns alone.
    np.testing.assert_allclose(model.weights, reference_ease(small_matrix[:, learned], 2.0), rtol=1e-4, atol=1e-6)
    scores = model.score_histories([np.array([learned[0], unlearned[0]])])[0]
    assert scores[unlearned].max() < scores[learned].min()
    only_learned = model.score_histories([np.array([learned[0]])])[0]
    np.testing.assert_array_equal(scores[learned], only_learned[learned])


def test_history_without_learned_items_gets_popularity(small_matrix):
    model = EASERecommender(l2=2.0, max_items=2).fit(interactions_from_dense(small_matrix))
    unlearned = np.setdiff1d(np.arange(6), model.learned_items)
    scores = model.score_histories([np.array([unlearned[0]]), np.array([], dtype=np.int32)])
    np.testing.assert_array_equal(scores[0], model.cold_start_scores)
    np.testing.assert_array_equal(scores[1], model.cold_start_scores)


@pytest.mark.parametrize("params, named", [({"l2": 0.0}, "l2"), ({"max_items": 0}, "max_items"), ({"max_items": 2.5}, "max_items")])
def test_bad_params_say_what_to_use(small_matrix, params, named):
    with pytest.raises(InvalidInput, match=named):
        EASERecommender(**params).fit(interactions_from_dense(small_matrix))
