"""ItemKNN: shrunk cosine on a hand-computed case, pruning, recency weights."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from mercato.errors import InvalidInput
from mercato.recommend.interactions import Interactions
from mercato.recommend.itemknn import ItemKNNRecommender, cosine_neighbors, recency_weighted_histories

# u0: {i0, i1}, u1: {i0, i1, i2}, u2: {i0, i0 (a repeat)}  ->  |U0| = 3, |U1| = 2, |U2| = 1,
# |U0 ∩ U1| = 2, |U0 ∩ U2| = 1, |U1 ∩ U2| = 1.
SEQUENCES = [["i0", "i1"], ["i0", "i1", "i2"], ["i0", "i0"]]


def hand_cosine(shrink: float) -> np.ndarray:
    s01 = 2 / (math.sqrt(3 * 2) + shrink)
    s02 = 1 / (math.sqrt(3 * 1) + shrink)
    s12 = 1 / (math.sqrt(2 * 1) + shrink)
    return np.array([[0, s01, s02], [s01, 0, s12], [s02, s12, 0]])


@pytest.mark.parametrize("shrink", [0.0, 1.0])
def test_cosine_matches_the_hand_computed_values(shrink):
    model = ItemKNNRecommender(shrink=shrink).fit(Interactions.from_sequences(SEQUENCES))
    assert list(model.item_ids) == ["i0", "i1", "i2"]
    np.testing.assert_allclose(model.similarity.toarray(), hand_cosine(shrink), rtol=1e-6)


def test_pruning_keeps_the_best_neighbour_of_each_item():
    model = ItemKNNRecommender(neighbors=1, shrink=0.0).fit(Interactions.from_sequences(SEQUENCES))
    full = hand_cosine(0.0)
    expected = np.zeros((3, 3))
    expected[0, 1], expected[1, 0], expected[2, 1] = full[0, 1], full[1, 0], full[2, 1]
    np.testing.assert_allclose(model.similarity.toarray(), expected, rtol=1e-6)


def test_sparse_fast_path_matches_a_dense_reference():
    rng = np.random.default_rng(11)
    user_items = sp.csr_matrix((rng.random((40, 25)) < 0.2).astype(np.float32))
    dense = user_items.toarray().astype(np.float64)
    co_counts = dense.T @ dense
    norms = np.sqrt(np.diag(co_counts))
    reference = co_counts / (np.outer(norms, norms) + 2.0)
    np.fill_diagonal(reference, 0.0)
    np.testing.assert_allclose(cosine_neighbors(user_items, 25, 2.0).toarray(), reference, rtol=1e-6)
    pruned = cosine_neighbors(user_items, 4, 2.0).toarray()
    for row, full_row in zip(pruned, reference):
        kept = np.flatnonzero(row)
        assert len(kept) == min(4, np.count_nonzero(full_row))
        assert row[kept].min() >= np.sort(full_row)[::-1][len(kept) - 1] - 1e-7  # nothing better was dropped


def test_recency_decay_weights_the_latest_occurrence():
    weighted = recency_weighted_histories([np.array([0, 2, 0, 1]), np.array([], dtype=np.int32)], 4, 0.5).toarray()
    np.testing.assert_allclose(weighted[0], [math.exp(-0.5), 1.0, math.exp(-1.0), 0.0], rtol=1e-6)
    assert not weighted[1].any()
    equal = recency_weighted_histories([np.array([0, 2, 0, 1])], 4, 0.0).toarray()
    np.testing.assert_array_equal(equal[0], [1.0, 1.0, 1.0, 0.0])


def test_history_score_is_the_weighted_sum_of_similarity_rows():
    model = ItemKNNRecommender(shrink=0.0, recency_decay=1.0).fit(Interactions.from_sequences(SEQUENCES))
    scores = model.score_histories([np.array([2, 0])])[0]
    np.testing.assert_allclose(scores, math.exp(-1.0) * hand_cosine(0.0)[2] + hand_cosine(0.0)[0], rtol=1e-6)


@pytest.mark.parametrize(
    "params, named", [({"neighbors": 0}, "neighbors"), ({"shrink": -1.0}, "shrink"), ({"recency_decay": -0.1}, "recency_decay")]
)
def test_bad_params_say_what_to_use(params, named):
    with pytest.raises(InvalidInput, match=named):
        ItemKNNRecommender(**params).fit(Interactions.from_sequences(SEQUENCES))
