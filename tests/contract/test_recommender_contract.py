"""Every registered recommender runs through this suite (cf. scikit-learn's
``parametrize_with_checks`` and implicit's ``recommender_base_test.py``).

The main fixture has a known right answer: two disjoint blocks of users and items. Users
u0–u9 only ever use items a0–a9, users u10–u19 only b0–b9, and each user misses three items
of their block. A collaborative model must recommend exactly a user's missing items of their
own block first.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mercato.errors import InvalidInput, NotReady
from mercato.recommend import registry
from mercato.recommend.base import ARRAYS_FILE, CONFIG_FILE, Recommender
from mercato.recommend.interactions import Interactions

# Small settings so the suite stays fast and suits a 40-item fixture: ALS gets few factors
# and a strong λ (two blocks are a rank-2 structure; more freedom overfits 7 items per user),
# EASE a λ on the scale of these counts (≤ 10) rather than of a real catalog.
TEST_PARAMS: dict[str, dict] = {
    "popularity": {},
    "itemknn": {"neighbors": 20},
    "ease": {"l2": 10.0},
    "als": {"factors": 8, "regularization": 3.0, "iterations": 10},
    # A one-layer transformer learns the 20-sequence fixture in seconds; dropout keeps it from
    # memorising each user's exact order instead of the block structure.
    "sasrec": {"threads": 1, "dim": 16, "layers": 1, "dropout": 0.3, "lr": 0.005, "max_epochs": 60, "batch_size": 8, "valid_mode": "none"},
}
BAD_PARAMS: dict[str, dict] = {
    "popularity": {"half_life_days": -1.0},
    "itemknn": {"neighbors": 0},
    "ease": {"l2": -5.0},
    "als": {"factors": 0},
    "sasrec": {"dim": 0},
}
MODEL_NAMES = registry.model_names()
COLLABORATIVE = [name for name in MODEL_NAMES if name != "popularity"]
USERS_PER_BLOCK, ITEMS_PER_BLOCK, MISSING_PER_USER = 10, 10, 3


def make_model(name: str, **overrides) -> Recommender:
    return registry.create_model(name, **{**TEST_PARAMS.get(name, {}), **overrides})


def block_sequences() -> tuple[list[str], list[list[str]], dict[str, set[str]]]:
    """User ids, their item sequences, and each user's unseen items of their own block."""
    rng = np.random.default_rng(7)
    user_ids, sequences, unseen = [], [], {}
    for block_number, block in enumerate("ab"):
        for u in range(USERS_PER_BLOCK):
            user = f"u{block_number * USERS_PER_BLOCK + u}"
            missing = set(rng.choice(ITEMS_PER_BLOCK, MISSING_PER_USER, replace=False).tolist())
            user_ids.append(user)
            sequences.append([f"{block}{j}" for j in rng.permutation(ITEMS_PER_BLOCK) if j not in missing])
            unseen[user] = {f"{block}{j}" for j in missing}
    return user_ids, sequences, unseen


@pytest.fixture(scope="module")
def blocks() -> tuple[Interactions, dict[str, set[str]]]:
    user_ids, sequences, unseen = block_sequences()
    return Interactions.from_sequences(sequences, user_ids=user_ids), unseen


@pytest.fixture(scope="module", params=MODEL_NAMES)
def fitted(request, blocks) -> Recommender:
    return make_model(request.param).fit(blocks[0])


# ---- lifecycle ------------------------------------------------------------------------
@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fit_returns_self(name, blocks):
    model = make_model(name)
    assert model.fit(blocks[0]) is model
    assert model.is_fitted


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_answers_before_fit_raise_not_ready(name, tmp_path):
    model = make_model(name)
    for ask in (
        lambda: model.recommend("u0"),
        lambda: model.recommend_for_items(["a0"]),
        lambda: model.similar_items("a0"),
        lambda: model.score_histories([np.array([0])]),
        lambda: model.save(tmp_path),
    ):
        with pytest.raises(NotReady, match="fit"):
            ask()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_fit_on_zero_interactions_raises(name):
    with pytest.raises(InvalidInput):
        make_model(name).fit(Interactions.from_sequences([]))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_bad_params_are_rejected_at_fit_with_the_param_named(name, blocks):
    bad = BAD_PARAMS[name]
    model = registry.create_model(name, **bad)  # construction stores params as given
    with pytest.raises(InvalidInput, match=next(iter(bad))):
        model.fit(blocks[0])
    with pytest.raises(NotReady):  # a failed fit leaves no half-fitted model behind
        model.recommend("u0")


# ---- known answers ----------------------------------------------------------------------
@pytest.mark.parametrize("name", COLLABORATIVE)
def test_block_users_get_their_unseen_block_items_first(name, blocks):
    interactions, unseen = blocks
    model = make_model(name).fit(interactions)
    for user, missing in unseen.items():
        recommended = [item for item, _ in model.recommend(user, k=MISSING_PER_USER)]
        assert set(recommended) == missing, f"{name} for {user}"


@pytest.mark.parametrize("name", COLLABORATIVE)
def test_block_sessions_and_similar_items_stay_in_block(name, blocks):
    model = make_model(name).fit(blocks[0])
    session = [item for item, _ in model.recommend_for_items(["a1", "a2", "a3"], k=5)]
    assert all(item.startswith("a") for item in session), session
    similar = [item for item, _ in model.similar_items("a0", k=5)]
    assert len(similar) == 5 and all(item.startswith("a") for item in similar), similar


def test_popularity_ranks_by_count():
    counts = {"x": 5, "y": 3, "z": 1, "w": 4}
    sequences = [[item] for item, n in counts.items() for _ in range(n)]
    model = make_model("popularity").fit(Interactions.from_sequences(sequences))
    ranked = model.recommend_for_items([], k=4)
    assert [item for item, _ in ranked] == ["x", "w", "y", "z"]
    assert [score for _, score in ranked] == [5.0, 4.0, 3.0, 1.0]


def test_popularity_half_life_favours_recent_items():
    day_s = 86_400
    rows = [("old", 0)] * 5 + [("new", 60 * day_s)] * 2  # 'old' has more, but 60 days earlier
    frame = pd.DataFrame(
        {"user_id": [f"v{i}" for i in range(len(rows))], "item_id": [r[0] for r in rows], "t": [r[1] for r in rows]}
    )
    interactions = Interactions.from_frame(frame, time_col="t")
    plain = make_model("popularity").fit(interactions)
    decayed = make_model("popularity", half_life_days=7.0).fit(interactions)
    assert plain.recommend_for_items([], k=1)[0][0] == "old"
    top = decayed.recommend_for_items([], k=2)
    assert [item for item, _ in top] == ["new", "old"]
    assert top[0][1] == pytest.approx(2.0)
    assert top[1][1] == pytest.approx(5.0 * 0.5 ** (60 / 7))


# ---- tolerance of unknown ids, exclusions, k --------------------------------------------
def test_unknown_user_gets_a_cold_start_list(fitted):
    ranked = fitted.recommend("nobody", k=5)
    assert len(ranked) == 5 and len({item for item, _ in ranked}) == 5


def test_unknown_items_in_a_sequence_are_ignored(fitted):
    with_unknown = fitted.recommend_for_items(["zz", "a1", "nope", "a2"], k=8)
    assert with_unknown == fitted.recommend_for_items(["a1", "a2"], k=8)


def test_exclusions_and_seen_items(fitted, blocks):
    _, unseen = blocks
    seen = set(fitted.item_ids[fitted._user_items[0]])
    ranked = [item for item, _ in fitted.recommend("u0", k=40)]
    assert not seen & set(ranked)
    assert len(ranked) == len(fitted.item_ids) - len(seen)  # k beyond the catalog: every eligible item
    excluded = {ranked[0], ranked[1], "not-an-item"}
    after = [item for item, _ in fitted.recommend("u0", k=40, exclude=excluded)]
    assert not excluded & set(after) and len(after) == len(ranked) - 2
    everything = [item for item, _ in fitted.recommend("u0", k=40, exclude_seen=False)]
    assert set(everything) == set(fitted.item_ids)
    session = fitted.recommend_for_items(["a1"], k=1000, exclude=["b1"])
    assert len(session) == len(fitted.item_ids) - 1 and "b1" not in {item for item, _ in session}


@pytest.mark.parametrize("k", [0, -3])
def test_non_positive_k_is_invalid(fitted, k):
    for ask in (
        lambda: fitted.recommend("u0", k=k),
        lambda: fitted.recommend_for_items(["a1"], k=k),
        lambda: fitted.similar_items("a1", k=k),
    ):
        with pytest.raises(InvalidInput, match="k must be positive"):
            ask()


def test_similar_items_excludes_the_item_and_tolerates_unknown_ids(fitted):
    for item in ("a0", "b5"):
        similar = fitted.similar_items(item, k=100)
        assert item not in {other for other, _ in similar}
        assert len(similar) == len(fitted.item_ids) - 1
    assert fitted.similar_items("unknown-item") == []


# ---- persistence and determinism --------------------------------------------------------
def _probe_histories(model: Recommender) -> tuple[list[np.ndarray], np.ndarray]:
    """Known users with their fitted histories, a prefix of one, a session, an empty history."""
    histories = [model._user_items[0], model._user_items[13], model._user_items[3][:2], np.array([5, 2, 5]), np.array([], dtype=np.int32)]
    users = np.array([0, 13, 3, -1, -1])
    return [np.asarray(h, dtype=np.int32) for h in histories], users


def test_save_load_gives_identical_scores(fitted, tmp_path):
    histories, users = _probe_histories(fitted)
    expected = fitted.score_histories(histories, users)
    fitted.save(tmp_path / "model")
    for loaded in (type(fitted).load(tmp_path / "model"), Recommender.load(tmp_path / "model")):
        assert type(loaded) is type(fitted) and loaded.params == fitted.params
        np.testing.assert_array_equal(loaded.score_histories(histories, users), expected)
        assert loaded.recommend("u4", k=5) == fitted.recommend("u4", k=5)
        assert loaded.similar_items("a3", k=5) == fitted.similar_items("a3", k=5)


def test_tampered_arrays_are_refused(fitted, tmp_path):
    directory = fitted.save(tmp_path / "model")
    with np.load(directory / ARRAYS_FILE, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    arrays["item_ids"] = arrays["item_ids"][::-1].copy()
    with open(directory / ARRAYS_FILE, "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.raises(InvalidInput, match="digest"):
        Recommender.load(directory)


def test_saved_config_names_the_model_and_params(fitted, tmp_path):
    config = json.loads((fitted.save(tmp_path / "model") / CONFIG_FILE).read_text())
    assert config["model"] == fitted.name and config["params"] == fitted.params


def test_same_params_and_data_give_the_same_scores(fitted, blocks):
    again = make_model(fitted.name).fit(blocks[0])
    histories, users = _probe_histories(fitted)
    np.testing.assert_array_equal(again.score_histories(histories, users), fitted.score_histories(histories, users))


# ---- batched scoring --------------------------------------------------------------------
def test_score_histories_shape_dtype_and_batch_consistency(fitted):
    histories, users = _probe_histories(fitted)
    batch = fitted.score_histories(histories, users)
    assert batch.shape == (len(histories), len(fitted.item_ids)) and batch.dtype == np.float32
    assert np.isfinite(batch).all()
    one_at_a_time = np.vstack([fitted.score_histories([h], users[i : i + 1]) for i, h in enumerate(histories)])
    np.testing.assert_allclose(batch, one_at_a_time, rtol=1e-5, atol=1e-6)
    assert fitted.score_histories([], np.array([], dtype=np.int64)).shape == (0, len(fitted.item_ids))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_refit_on_other_data_answers_with_the_new_ids(name, blocks):
    model = make_model(name).fit(blocks[0])
    model.recommend("u0", k=3)  # fills the id lookups
    model.fit(Interactions.from_sequences([["p", "q"], ["q", "r"], ["p", "r", "s"]], user_ids=["x", "y", "u0"]))
    assert {item for item, _ in model.recommend("u0", k=10)} == {"q"}
    assert {item for item, _ in model.recommend_for_items(["p"], k=10)} == {"p", "q", "r", "s"}
