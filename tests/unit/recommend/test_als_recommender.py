"""ALS: fold-in against a per-user numpy solve (Hu et al. 2008, eq. 4) and the learned factors."""

from __future__ import annotations

import warnings

import implicit.utils
import numpy as np
import pytest

from mercato.errors import InvalidInput
from mercato.recommend.als import ALSRecommender
from mercato.recommend.interactions import Interactions


@pytest.fixture(scope="module")
def clustered() -> Interactions:
    """120 users in 4 taste clusters of 15 items each, with 10% noise clicks."""
    rng = np.random.default_rng(5)
    sequences = []
    for user in range(120):
        cluster = user % 4
        own = rng.choice(15, 8, replace=False) + 15 * cluster
        noise = rng.choice(60, 2, replace=False)
        sequences.append([f"i{j}" for j in np.concatenate([own, noise])])
    return Interactions.from_sequences(sequences)


@pytest.fixture(scope="module")
def model(clustered) -> ALSRecommender:
    return ALSRecommender(factors=8, regularization=0.5, alpha=4.0, iterations=20).fit(clustered)


def reference_fold_in(model: ALSRecommender, history: np.ndarray) -> np.ndarray:
    """One user at a time: x = (YᵀY + Yᵀ(C − I)Y + λI)⁻¹ YᵀC p, c = 1 + α·count."""
    item_factors = model.item_factors.astype(np.float64)
    counts = np.bincount(history, minlength=len(item_factors)).astype(np.float64)
    confidence = 1.0 + model.params["alpha"] * counts
    observed = counts > 0
    normal = item_factors.T @ item_factors + model.params["regularization"] * np.eye(item_factors.shape[1])
    normal += (item_factors[observed].T * (confidence[observed] - 1.0)) @ item_factors[observed]
    return np.linalg.solve(normal, item_factors[observed].T @ confidence[observed])


def test_batched_fold_in_matches_the_per_user_solve(model):
    rng = np.random.default_rng(0)
    histories = [rng.integers(0, len(model.item_ids), size=n) for n in (1, 5, 3, 12, 2)] + [np.array([4, 4, 9])]
    folded = model.fold_in(histories)
    for history, factors in zip(histories, folded):
        np.testing.assert_allclose(factors, reference_fold_in(model, history), rtol=1e-4, atol=1e-5)


def test_fold_in_chunks_long_and_short_histories_alike(model, monkeypatch):
    histories = [np.arange(n) % len(model.item_ids) for n in (1, 40, 2, 7, 0, 25)]
    whole = model.fold_in(histories)
    monkeypatch.setattr("mercato.recommend.als.FOLD_IN_MAX_ROWS", 2)
    monkeypatch.setattr("mercato.recommend.als.FOLD_IN_MAX_PADDED_ENTRIES", 30)
    np.testing.assert_allclose(model.fold_in(histories), whole, rtol=1e-5, atol=1e-6)
    assert not whole[4].any()


def test_fold_in_of_a_training_user_ranks_like_its_learned_factors(model):
    overlaps = []
    for user in range(0, 120, 7):
        folded = model.score_histories([model._user_items[user]], np.array([-1]))[0]
        learned = model.user_factors[user] @ model.item_factors.T
        assert np.corrcoef(folded, learned)[0, 1] > 0.95
        overlaps.append(len(set(np.argsort(-folded)[:10]) & set(np.argsort(-learned)[:10])))
    assert np.mean(overlaps) >= 8


def test_known_users_use_learned_factors_and_prefixes_are_folded_in(model):
    history = model._user_items[2]
    scores = model.score_histories([history, history[:3]], np.array([2, 2]))
    np.testing.assert_allclose(scores[0], model.user_factors[2] @ model.item_factors.T, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores[1], model.fold_in([history[:3]])[0] @ model.item_factors.T, rtol=1e-5, atol=1e-6)


def test_fit_does_not_trigger_the_blas_threading_warning(clustered, monkeypatch):
    monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ALSRecommender(factors=4, iterations=2).fit(clustered)


@pytest.mark.parametrize(
    "params, named",
    [({"factors": 0}, "factors"), ({"regularization": 0.0}, "regularization"), ({"alpha": -1.0}, "alpha"),
     ({"iterations": 1.5}, "iterations"), ({"random_state": None}, "random_state")],
)
def test_bad_params_say_what_to_use(clustered, params, named):
    with pytest.raises(InvalidInput, match=named):
        ALSRecommender(**params).fit(clustered)
