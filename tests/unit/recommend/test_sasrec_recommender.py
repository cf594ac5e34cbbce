"""The sequential transformer on tasks whose right answer is known in advance."""

import copy
import json
import time

import numpy as np
import pandas as pd
import pytest
import torch

from mercato.errors import InvalidInput
from mercato.recommend.base import Recommender
from mercato.recommend.checkpoint import load_checkpoint
from mercato.recommend.interactions import Interactions
from mercato.recommend.sasrec import SASRecRecommender, recent_clicks
from mercato.recommend.sasrec_data import attribute_csr, left_pad, split_validation, training_windows
from mercato.recommend.sasrec_net import SASRecNet

N_ITEMS = 30
FAST = {"threads": 1, "dim": 32, "layers": 1, "heads": 2, "dropout": 0.0, "lr": 0.01, "batch_size": 32, "eval_every": 5}


def cycle_data(n_sequences: int = 200, length: int = 8, seed: int = 0):
    """Sequences that walk a fixed random permutation: the next item is always perm[current]."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(N_ITEMS)
    sequences = []
    for _ in range(n_sequences):
        item = int(rng.integers(N_ITEMS))
        seq = []
        for _ in range(length):
            seq.append(f"i{item}")
            item = int(perm[item])
        sequences.append(seq)
    return Interactions.from_sequences(sequences), perm


def test_learns_deterministic_item_cycles():
    data, perm = cycle_data()
    model = SASRecRecommender(**FAST, max_epochs=60, valid_mode="last_item", valid_exclude_seen=False).fit(data)
    correct = sum(model.recommend_for_items([f"i{i}"], k=1)[0][0] == f"i{perm[i]}" for i in range(N_ITEMS))
    assert correct >= 0.9 * N_ITEMS
    assert model.best_valid_ndcg > 0.9  # validation (held-out last items) sees it too


def test_uses_order_not_just_the_last_item():
    # Two interleaved rules: after "a x" comes "p", after "b x" comes "q". The last item alone
    # ("x") cannot tell them apart; attention over the sequence can.
    sequences = [["a", "x", "p"], ["b", "x", "q"]] * 100
    model = SASRecRecommender(**FAST, max_epochs=40, valid_mode="none").fit(Interactions.from_sequences(sequences))
    assert model.recommend_for_items(["a", "x"], k=1)[0][0] == "p"
    assert model.recommend_for_items(["b", "x"], k=1)[0][0] == "q"


def test_sampled_softmax_also_learns_cycles():
    data, perm = cycle_data()
    model = SASRecRecommender(**FAST, max_epochs=60, valid_mode="none", loss="sampled", negatives=10).fit(data)
    correct = sum(model.recommend_for_items([f"i{i}"], k=1)[0][0] == f"i{perm[i]}" for i in range(N_ITEMS))
    assert correct >= 0.8 * N_ITEMS


def test_weight_averaging_serves_the_average_not_the_last_step():
    data, perm = cycle_data()

    def correct(model):
        return sum(model.recommend_for_items([f"i{i}"], k=1)[0][0] == f"i{perm[i]}" for i in range(N_ITEMS))

    # A short-memory average follows the trained weights, so it learns the cycles ...
    assert correct(SASRecRecommender(**FAST, max_epochs=60, valid_mode="none", ema_decay=0.9).fit(data)) >= 0.9 * N_ITEMS
    # ... while one that barely moves stays near the weights after the first step: if the last
    # step's weights were served, this one would score like the model above.
    frozen = SASRecRecommender(**FAST, max_epochs=60, valid_mode="none", ema_decay=1 - 1e-9).fit(data)
    assert correct(frozen) <= 0.3 * N_ITEMS
    # With validation, the kept best state and its score are the average's as well.
    averaged = SASRecRecommender(**FAST, max_epochs=60, valid_mode="last_item", valid_exclude_seen=False, ema_decay=0.9).fit(data)
    assert averaged.best_valid_ndcg > 0.9


def test_mixed_negatives_follow_half_uniform_half_frequency_and_still_learn_cycles():
    data, perm = cycle_data()
    model = SASRecRecommender(**FAST, max_epochs=60, valid_mode="none", loss="sampled", negatives=10, sampling="mixed").fit(data)
    correct = sum(model.recommend_for_items([f"i{i}"], k=1)[0][0] == f"i{perm[i]}" for i in range(N_ITEMS))
    assert correct >= 0.8 * N_ITEMS
    # A skewed catalog: item 0 holds half of all training events.
    model._popularity = np.array([10.0] + [10.0 / 9] * 9, dtype=np.float32)
    model._sampler = None
    cdf, log_q = model._negative_sampler(10, torch.device("cpu"))
    q = np.array([0.5 * 0.1 + 0.5 * 0.5] + [0.5 * 0.1 + 0.5 * 0.5 / 9] * 9)
    np.testing.assert_allclose(np.exp(log_q.numpy()) / 10, q, rtol=1e-5)  # log(negatives * q)
    draws = np.searchsorted(cdf, np.random.default_rng(1).random(100_000))
    assert abs(np.mean(draws == 0) - q[0]) < 0.01


@pytest.mark.parametrize("loss", ["ce", "sampled"])
def test_cosine_scores_learn_cycles_and_are_bounded_by_the_temperature(loss, tmp_path):
    data, perm = cycle_data()
    model = SASRecRecommender(**FAST, max_epochs=60, valid_mode="none", loss=loss, negatives=10, temperature=0.1).fit(data)
    correct = sum(model.recommend_for_items([f"i{i}"], k=1)[0][0] == f"i{perm[i]}" for i in range(N_ITEMS))
    assert correct >= 0.8 * N_ITEMS
    histories = [np.array([1, 2, 3]), np.array([4])]
    scores = model.score_histories(histories)
    assert np.abs(scores).max() <= 1 / 0.1 + 1e-4  # cosines over a temperature of 0.1
    loaded = Recommender.load(model.save(tmp_path / "m"))  # the temperature is part of the config
    np.testing.assert_allclose(loaded.score_histories(histories), scores, atol=1e-5)
    assert np.allclose(model.score_histories([histories[0]])[0], scores[0], atol=1e-4)  # traced == eager


def test_refit_learns_the_transitions_validation_held_out(tmp_path, caplog):
    # "y" is followed by "z" only at the very end of sequences: last-item validation holds every
    # such "z" out, so the validated model never trains on "y -> z"; the refit does.
    cycles, perm = cycle_data()
    sequences = [list(cycles.item_ids[s]) for s in cycles.sequences()] + [["x", "y", "z"]] * 60
    data = Interactions.from_sequences(sequences)
    params = {**FAST, "max_epochs": 30, "valid_mode": "last_item", "valid_exclude_seen": False}
    validated = SASRecRecommender(**params).fit(data)
    assert validated.recommend_for_items(["x", "y"], k=1)[0][0] != "z"
    with caplog.at_level("INFO", logger="mercato.train"):
        refitted = SASRecRecommender(**params, refit=True, checkpoint_dir=str(tmp_path)).fit(data)
    assert refitted.recommend_for_items(["x", "y"], k=1)[0][0] == "z"
    correct = sum(refitted.recommend_for_items([f"i{i}"], k=1)[0][0] == f"i{perm[i]}" for i in range(N_ITEMS))
    assert correct >= 0.9 * N_ITEMS  # and it still knows what the validated run knew
    # As many refit epochs as validation chose; the validated weights stay inspectable.
    refit_epochs = [r for r in caplog.records if r.getMessage().startswith("refit epoch")]
    assert len(refit_epochs) == refitted.best_epoch > 0
    assert refitted.validated_state is not None and validated.validated_state is None
    assert load_checkpoint(tmp_path / "refit.safetensors", SASRecNet(N_ITEMS + 3, max_len=50, dim=32, layers=1, heads=2, dropout=0.0))["epoch"] == refitted.best_epoch
    # The refit depends on the epoch validation chose, not on how long the validated run went on.
    impatient = SASRecRecommender(**params, refit=True, patience=1).fit(data)
    assert impatient.best_epoch == refitted.best_epoch
    np.testing.assert_array_equal(impatient.score_histories([np.array([0, 1])]), refitted.score_histories([np.array([0, 1])]))


def test_a_complete_schedule_refit_is_training_without_validation_for_the_chosen_epochs():
    data, _ = cycle_data()
    params = {**FAST, "max_epochs": 30, "valid_mode": "last_item", "valid_exclude_seen": False, "dropout": 0.1}
    complete = SASRecRecommender(**params, refit=True, refit_schedule="complete").fit(data)
    replayed = SASRecRecommender(**params, refit=True).fit(data)
    assert 0 < complete.best_epoch == replayed.best_epoch < 30  # so the replayed schedule had not reached zero
    plain = SASRecRecommender(**{**params, "valid_mode": "none", "max_epochs": complete.best_epoch}).fit(data)
    history = [np.array([0, 1, 2])]
    np.testing.assert_allclose(complete.score_histories(history), plain.score_histories(history), rtol=1e-5, atol=1e-5)
    assert not np.allclose(replayed.score_histories(history), plain.score_histories(history), atol=1e-3)


def test_recent_sessions_oversampled_tilt_the_model_towards_the_newest_rule():
    # The same number of sessions say "x -> y" (older) and "x -> z" (newer). Seen as often, the
    # two are a tie; with the newest half trained on three times an epoch, "z" wins after "x".
    old = [["w", "x", "y"]] * 30
    new = [["w", "x", "z"]] * 30
    data = Interactions.from_sequences(old + new)
    params = {**FAST, "valid_mode": "none", "max_epochs": 15}
    plain = SASRecRecommender(**params).fit(data)
    tilted = SASRecRecommender(**params, recent_fraction=0.5, recent_copies=3).fit(data)

    def margin(model):  # score of z minus score of y after the history [w, x]
        scores = model.score_histories([data.item_positions(["w", "x"])])[0]
        z, y = data.item_positions(["z", "y"])
        return scores[z] - scores[y]

    assert tilted.recommend_for_items(["w", "x"], k=1)[0][0] == "z"
    assert margin(tilted) > margin(plain) + 0.5
    assert abs(margin(plain)) < margin(tilted)


def test_recent_copies_repeat_the_newest_sequences_windows():
    sequences = [np.array([0, 1]), np.array([2, 3]), np.array([4, 5]), np.array([6, 7])]
    model = SASRecRecommender(max_len=2, recent_fraction=0.5, recent_copies=3)
    inputs, targets = model._training_windows(sequences)
    # Every sequence once, then the newest two twice more: (input, target) token pairs.
    assert [(int(i[-1]), int(t[-1])) for i, t in zip(inputs, targets)] == [(1, 2), (3, 4), (5, 6), (7, 8)] + [(5, 6), (7, 8)] * 2


def test_save_load_identical_scores_and_checkpoint_restores_weights(tmp_path):
    data, _ = cycle_data(n_sequences=40)
    model = SASRecRecommender(**{**FAST, "eval_every": 1}, max_epochs=5, checkpoint_dir=str(tmp_path / "ckpt")).fit(data)
    histories = [np.array([1, 2, 3]), np.array([], dtype=np.int32), np.arange(20) % N_ITEMS]
    loaded = Recommender.load(model.save(tmp_path / "model"))
    np.testing.assert_array_equal(model.score_histories(histories), loaded.score_histories(histories))
    # The checkpoint holds the best weights, the optimizer state and the config.
    net = SASRecNet(N_ITEMS, max_len=50, dim=32, layers=1, heads=2, dropout=0.0)
    optimizer = torch.optim.AdamW(net.parameters())
    meta = load_checkpoint(tmp_path / "ckpt" / "best.safetensors", net, optimizer)
    assert meta["params"]["dim"] == 32 and meta["epoch"] >= 1
    assert optimizer.state_dict()["state"], "optimizer moments restored"
    for name, tensor in net.state_dict().items():
        torch.testing.assert_close(tensor, model._net.state_dict()[name])


def test_item_attributes_are_used_and_survive_save_load(tmp_path):
    data, _ = cycle_data(n_sequences=40)
    attributes = {f"i{i}": [f"colour{i % 3}", "brand"] for i in range(N_ITEMS)}
    model = SASRecRecommender(**FAST, max_epochs=2, item_attributes=attributes).fit(data)
    assert model._net.attr_emb is not None and model._net.attr_emb.num_embeddings == 4
    loaded = Recommender.load(model.save(tmp_path / "m"))
    np.testing.assert_array_equal(model.score_histories([np.array([0, 1])]), loaded.score_histories([np.array([0, 1])]))
    assert json.loads((tmp_path / "m" / "config.json").read_text())["params"]["item_attributes"]["i0"] == ["colour0", "brand"]


@pytest.mark.parametrize(
    "bad", [{"loss": "bce"}, {"valid_mode": "random"}, {"dim": 30, "heads": 4}, {"dropout": 1.0}, {"temperature": 0}, {"temperature": "warm"}, {"sampling": "hard"}, {"repeat_bias": "yes"}, {"precision": "fp16"}, {"positions": "middle"}, {"ema_decay": 1.0}, {"ema_decay": "slow"}, {"refit": "yes"}, {"refit": True, "valid_mode": "none"}, {"recent_fraction": 1.0}, {"refit_schedule": "cosine"}, {"recent_fraction": "new"}, {"recent_copies": 0}, {"repeat_boost": -1.0}, {"repeat_boost": "high"}, {"repeat_boost": "auto", "valid_mode": "none"}, {"trend_weight": -0.1}, {"trend_weight": "auto", "valid_mode": "none"}, {"trend_fraction": 0.0}, {"readout": "mean"}]
)
def test_bad_params_are_named(bad):
    data, _ = cycle_data(n_sequences=5)
    with pytest.raises(InvalidInput, match="sasrec"):
        SASRecRecommender(**{**FAST, **bad}).fit(data)


def test_left_pad_keeps_newest_items_right_aligned():
    tokens = left_pad([np.array([4, 5, 6]), np.array([7])], max_len=2)
    assert tokens.tolist() == [[6, 7], [0, 8]]  # token = index + 1, 0 = padding


def test_training_windows_cover_every_transition_once():
    inputs, targets = training_windows([np.arange(7)], max_len=3)
    pairs = {(int(i) - 1, int(t) - 1) for row_i, row_t in zip(inputs, targets) for i, t in zip(row_i, row_t) if t}
    assert pairs == {(k, k + 1) for k in range(6)}
    assert len(inputs) == 2  # windows of items 3..6 and 0..3
    assert sum(int((row > 0).sum()) for row in targets) == 6


def test_split_validation_last_item_and_tail():
    rng = np.random.default_rng(0)
    seqs = [np.array([1, 2, 3]), np.array([4, 5])]
    train, hist, targets = split_validation(seqs, "last_item", 0.1, 100, rng)
    assert [t.tolist() for t in train] == [[1, 2], [4, 5]]
    assert [h.tolist() for h in hist] == [[1, 2]] and targets.tolist() == [3]
    train, hist, targets = split_validation(seqs, "tail", 0.5, 100, rng)
    assert [t.tolist() for t in train] == [[1, 2, 3]]
    assert [h.tolist() for h in hist] == [[4]] and targets.tolist() == [5]


def test_attribute_csr_layout():
    index, offsets, n = attribute_csr(np.array(["x", "y", "z"]), {"x": ["red"], "z": ["red", "big"]})
    assert n == 2
    assert offsets.tolist() == [0, 0, 1, 1]  # padding, x, y (empty), z
    assert index.tolist() == [0, 0, 1]


def test_time_budget_stops_training():
    data, _ = cycle_data(n_sequences=400, length=12)
    started = time.perf_counter()
    model = SASRecRecommender(**FAST, max_epochs=10_000, valid_mode="none", max_minutes=0.05).fit(data)
    elapsed = time.perf_counter() - started
    assert elapsed < 30  # 3 s budget: it stops when the next epoch would cross it, not after 10,000 epochs
    assert model.is_fitted


def test_time_budget_is_not_overrun_by_a_last_epoch(monkeypatch, caplog):
    # A clock on which every epoch takes exactly one second, and a 6-second budget: six epochs
    # fit, and a seventh would end past it.
    import mercato.recommend.sasrec as sasrec_module

    ticks = iter(range(1000))
    monkeypatch.setattr(sasrec_module, "time", type("Clock", (), {"perf_counter": staticmethod(lambda: float(next(ticks)))}))
    data, _ = cycle_data(n_sequences=50)
    with caplog.at_level("INFO", logger="mercato.train"):
        SASRecRecommender(**FAST, max_epochs=100, valid_mode="none", max_minutes=0.1).fit(data)
    seconds = [float(r.getMessage().split()[-2]) for r in caplog.records if r.getMessage().startswith("epoch")]
    assert seconds == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_partial_fit_moves_the_model_towards_a_new_rule_and_skips_unknown_items():
    # Offline: after "x" comes "p". Live: the shop changed and now after "x" comes "q".
    offline = [["a", "x", "p"], ["b", "x", "p"], ["c", "q", "a"]] * 60
    model = SASRecRecommender(**FAST, max_epochs=30, valid_mode="none", fine_tune_lr=0.01, fine_tune_epochs=5)
    model.fit(Interactions.from_sequences(offline))
    assert model.recommend_for_items(["x"], k=1)[0][0] == "p"
    before = model.score_histories([np.array([model.item_ids.tolist().index("x")])])[0].copy()
    live = Interactions.from_sequences([["a", "x", "q", "new-item"], ["new-item", "b", "x", "q"]] * 40)
    tuned = model.partial_fit(live)
    assert tuned is model  # in place, like fit (the online learner tunes a copy)
    after = tuned.score_histories([np.array([tuned.item_ids.tolist().index("x")])])[0]
    q, p = tuned.item_ids.tolist().index("q"), tuned.item_ids.tolist().index("p")
    assert after[q] - after[p] > before[q] - before[p]  # "q" gained on "p" after "x"
    assert tuned.recommend_for_items(["x"], k=1)[0][0] == "q"
    assert "new-item" not in tuned.item_ids  # unseen items are skipped, not added


def test_partial_fit_with_nothing_known_changes_nothing():
    data, _ = cycle_data(n_sequences=50)
    model = SASRecRecommender(**FAST, max_epochs=2, valid_mode="none").fit(data)
    before = model.score_histories([np.array([0, 1])])
    model.partial_fit(Interactions.from_sequences([["unknown-1", "unknown-2", "unknown-3"]]))
    assert np.array_equal(model.score_histories([np.array([0, 1])]), before)


def test_similar_items_are_cosine_neighbours_of_the_learned_vectors():
    data, perm = cycle_data()
    model = SASRecRecommender(**FAST, max_epochs=20, valid_mode="none").fit(data)
    sims = model.similar_item_scores(3)
    table = torch.nn.functional.normalize(model._net.item_table()[1:].detach(), dim=1)
    assert np.allclose(sims, (table @ table[3]).numpy(), atol=1e-5)
    assert sims.argmax() == 3 and np.isclose(sims[3], 1.0, atol=1e-5)


def test_the_traced_one_sequence_path_scores_like_the_eager_batch_path():
    data, _ = cycle_data(n_sequences=80)
    model = SASRecRecommender(**FAST, max_epochs=3, valid_mode="none", max_len=24).fit(data)
    assert [width for width, _ in model._scorer] == [16, 24]  # traced once the weights are final
    long = np.arange(30) % N_ITEMS  # longer than max_len: the newest 24 count
    histories = [np.array([3]), np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), np.array([], dtype=np.int64), long[:20], long]
    together = model.score_histories(histories)  # batched: the eager network
    for row, history in enumerate(histories):
        assert np.allclose(model.score_histories([history])[0], together[row], atol=1e-4)
    clone = copy.deepcopy(model)  # what the online learner fine-tunes
    assert clone._scorer is None and model._scorer is not None
    assert np.allclose(clone.score_histories(histories), together)
    clone.partial_fit(data)
    assert clone._scorer is not None
    assert np.allclose(clone.score_histories([histories[1]])[0], clone.score_histories(histories)[1], atol=1e-4)


def test_a_long_max_len_gets_a_middle_serving_width_that_scores_like_the_batch_path():
    data, _ = cycle_data(n_sequences=40)
    model = SASRecRecommender(**FAST, max_epochs=1, valid_mode="none", max_len=80).fit(data)
    assert [width for width, _ in model._scorer] == [16, 64, 80]
    histories = [np.arange(n) % N_ITEMS for n in (10, 16, 17, 40, 64, 65, 100)]  # each side of each width
    together = model.score_histories(histories)
    for row, history in enumerate(histories):
        assert np.allclose(model.score_histories([history])[0], together[row], atol=1e-4)


def go_back_data(n_sequences: int, n_items: int, seed: int):
    """Sessions a b c a of random items: the fourth item is always the first one again, while
    b and c are unpredictable. A fresh triple is answered only by going back in the session."""
    rng = np.random.default_rng(seed)
    triples = [rng.choice(n_items, size=3, replace=False) for _ in range(n_sequences)]
    return [[f"i{a}", f"i{b}", f"i{c}", f"i{a}"] for a, b, c in triples]


@pytest.mark.parametrize("loss", ["ce", "sampled"])
def test_repeat_term_learns_to_go_back_to_an_earlier_item(loss, tmp_path):
    sequences = go_back_data(600, n_items=200, seed=0)
    data = Interactions.from_sequences(sequences)
    params = {**FAST, "max_epochs": 20, "valid_mode": "none", "loss": loss, "negatives": 20, "repeat_bias": True, "temperature": 0.1}
    model = SASRecRecommender(**params).fit(data)
    fresh = go_back_data(50, n_items=200, seed=1)
    right = sum(model.recommend_for_items(seq[:3], k=1)[0][0] == seq[3] for seq in fresh)
    assert right >= 45
    weights = model._net.repeat.recency_weight.detach().numpy()
    assert weights[2] > max(weights[0], weights[1])  # two steps back is where the answer is
    history = pd.Index(data.item_ids).get_indexer(fresh[0][:3])
    loaded = Recommender.load(model.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.score_histories([history, history[:2]]), model.score_histories([history, history[:2]]), atol=1e-5)
    assert np.allclose(model.score_histories([history])[0], model.score_histories([history, history[:2]])[0], atol=1e-4)  # traced == eager


def test_auto_repeat_boost_is_chosen_on_held_out_sessions_and_puts_going_back_first(tmp_path):
    # A short run has not learned to copy: the held-out sessions (a b c -> a) are answered by
    # going back, so validation picks a boost, and the boosted model puts the session's items first.
    data = Interactions.from_sequences(go_back_data(600, n_items=200, seed=0))
    params = {**FAST, "max_epochs": 2, "eval_every": 1, "valid_mode": "tail", "valid_fraction": 0.2,
              "valid_exclude_seen": False, "repeat_boost": "auto"}
    model = SASRecRecommender(**params).fit(data)
    assert model.repeat_boost_ > 0
    held_out = go_back_data(600, n_items=200, seed=0)[-120:]
    histories = [pd.Index(data.item_ids).get_indexer(seq[:3]) for seq in held_out]
    targets = pd.Index(data.item_ids).get_indexer([seq[3] for seq in held_out])
    grid = model._ndcg_by_priors(histories, targets, [(0.0, 0.0), (model.repeat_boost_, 0.0)])
    assert grid[1] > grid[0]  # the chosen boost beats none on the cases it was chosen on
    top3 = [set(model.score_histories([h])[0].argsort()[-3:]) for h in histories]
    assert sum(t in top for t, top in zip(targets, top3)) == len(targets)
    loaded = Recommender.load(model.save(tmp_path / "m"))
    assert loaded.repeat_boost_ == model.repeat_boost_
    np.testing.assert_allclose(loaded.score_histories(histories[:4]), model.score_histories(histories[:4]), atol=1e-5)


def test_a_fixed_repeat_boost_adds_once_to_each_item_in_the_history_on_both_scoring_paths():
    data, _ = cycle_data()
    model = SASRecRecommender(**{**FAST, "max_epochs": 2, "valid_mode": "none", "repeat_boost": 2.5}).fit(data)
    history = np.array([3, 7, 3, 9])
    boosted = model.score_histories([history, history[:1]])  # batch path
    model.repeat_boost_ = 0.0
    plain = model.score_histories([history, history[:1]])
    np.testing.assert_allclose(boosted[0] - plain[0], np.isin(np.arange(N_ITEMS), history) * 2.5, atol=1e-5)
    model.repeat_boost_ = 2.5
    np.testing.assert_allclose(model.score_histories([history])[0], boosted[0], atol=1e-4)  # traced path
    # Where validation excludes the history's items, no boost can change its ranking: none is chosen.
    auto = SASRecRecommender(**{**FAST, "max_epochs": 2, "valid_mode": "last_item", "repeat_boost": "auto"}).fit(data)
    assert auto.repeat_boost_ == 0.0


def test_auto_trend_weight_lifts_what_the_newest_sessions_click_and_serves_the_newest_counts(tmp_path):
    # Pairs a -> b of random items; in the newest third of the sessions b is one of ten trending items.
    rng = np.random.default_rng(0)
    sequences = [[f"i{rng.integers(200)}", f"i{rng.integers(190, 200) if k >= 400 else rng.integers(200)}"] for k in range(600)]
    data = Interactions.from_sequences(sequences)
    params = {**FAST, "max_epochs": 2, "eval_every": 1, "valid_mode": "tail", "valid_exclude_seen": False,
              "temperature": 0.1, "trend_weight": "auto", "trend_fraction": 0.2}
    model = SASRecRecommender(**params).fit(data)
    assert model.trend_weight_ > 0 and model.repeat_boost_ == 0.0
    np.testing.assert_array_equal(model._trend, recent_clicks(data.sequences(), data.n_items, 0.2))
    history, chosen = np.array([0]), model.trend_weight_
    with_trend = model.score_histories([history])[0]
    model.trend_weight_ = 0.0
    np.testing.assert_allclose(with_trend - model.score_histories([history])[0], chosen * model._trend, atol=1e-4)
    model.trend_weight_ = chosen
    loaded = Recommender.load(model.save(tmp_path / "m"))
    assert loaded.trend_weight_ == model.trend_weight_
    np.testing.assert_allclose(loaded.score_histories([history, history]), model.score_histories([history, history]), atol=1e-5)


@pytest.mark.parametrize("exclude_seen", [False, True])
def test_the_priors_grid_scores_each_setting_like_ranking_the_whole_catalog(exclude_seen):
    from mercato.recommend.base import top_k_indices

    data, _ = cycle_data()
    model = SASRecRecommender(**{**FAST, "max_epochs": 1, "valid_mode": "none", "valid_exclude_seen": exclude_seen}).fit(data)
    rng = np.random.default_rng(1)
    model._trend = rng.random(N_ITEMS).astype(np.float32) * 3
    histories = [rng.choice(N_ITEMS, size=rng.integers(1, 6)) for _ in range(300)]
    targets = np.array([rng.choice(h) if rng.random() < 0.4 else rng.integers(N_ITEMS) for h in histories])
    grid = [(0.0, 0.0), (2.0, 0.0), (0.0, 0.5), (5.0, 0.3)]
    for (boost, trend), fast in zip(grid, model._ndcg_by_priors(histories, targets, grid)):
        model.repeat_boost_, model.trend_weight_ = boost, trend
        scores = model.score_histories(histories)
        if exclude_seen:
            for row, hist in enumerate(histories):
                scores[row, hist] = -np.inf
        hit = top_k_indices(scores, 10) == targets[:, None]
        assert fast == pytest.approx((hit / np.log2(np.arange(2, 12))).sum(1).mean(), abs=1e-9)


def test_recent_clicks_count_the_newest_fraction_of_the_sequences():
    sequences = [np.array([0, 1]), np.array([1, 2]), np.array([2, 2, 3]), np.array([3])]
    np.testing.assert_allclose(recent_clicks(sequences, 5, 0.5), np.log1p([0, 0, 2, 2, 0]))


def test_item_mix_states_are_weighted_means_of_the_items_seen_so_far():
    net = SASRecNet(7, max_len=4, dim=8, layers=1, heads=1, dropout=0.0, readout="item_mix").eval()
    with torch.no_grad():
        net.item_emb.weight.copy_(torch.eye(8))  # token k's vector is the k-th unit vector
    tokens = torch.tensor([[0, 3, 5, 3], [2, 4, 6, 7]])
    with torch.no_grad():
        states = net(tokens)  # (2, 4, 8): each row the weights the state gives each token
        changed = net(torch.tensor([[0, 3, 5, 1]]))
    assert torch.all(states >= 0)
    torch.testing.assert_close(states[0, 1:].sum(-1), torch.ones(3))
    assert states[0, 1, 3] == pytest.approx(1.0) and states[1, 0, 2] == pytest.approx(1.0)  # one item seen: itself
    assert states[1, 2, 7] == 0 and states[1, 2, 6] > 0  # nothing from later steps
    torch.testing.assert_close(changed[0, :3], states[0, :3])


def test_item_mix_readout_learns_to_go_back_and_scores_alike_on_both_paths(tmp_path):
    sequences = go_back_data(600, n_items=200, seed=0)
    data = Interactions.from_sequences(sequences)
    params = {**FAST, "max_epochs": 20, "valid_mode": "none", "readout": "item_mix", "temperature": 0.1}
    model = SASRecRecommender(**params).fit(data)
    fresh = go_back_data(50, n_items=200, seed=1)
    assert sum(model.recommend_for_items(seq[:3], k=1)[0][0] == seq[3] for seq in fresh) >= 45
    history = pd.Index(data.item_ids).get_indexer(fresh[0][:3])
    assert np.allclose(model.score_histories([history])[0], model.score_histories([history, history[:2]])[0], atol=1e-4)
    loaded = Recommender.load(model.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.score_histories([history]), model.score_histories([history]), atol=1e-5)


def test_repeat_scores_sum_recency_weights_per_occurrence_plus_a_gate_once():
    from mercato.recommend.sasrec import _prefixes
    from mercato.recommend.sasrec_net import RepeatScores, sequence_recency

    repeat = RepeatScores(max_len=4, dim=2)
    with torch.no_grad():
        repeat.recency_weight.copy_(torch.tensor([10.0, 20.0, 30.0, 40.0]))
        repeat.gate.bias.fill_(0.5)
    tokens = torch.tensor([[0, 5, 3, 5]])  # left-padded; item token 5 twice (2 and 0 steps back)
    states = torch.zeros(1, 2)
    dense = repeat.dense(tokens, sequence_recency(tokens), states, n_tokens=8)
    assert dense[0, 5] == 30 + 10 + 0.5 and dense[0, 3] == 20 + 0.5 and dense[0, 4] == 0 and dense[0, 7] == 0
    at = repeat.at(tokens, sequence_recency(tokens), states, torch.tensor([[5, 3, 4]]))
    torch.testing.assert_close(at, dense[:, [5, 3, 4]])
    # Training rows see only their own prefix: position 2 (token 3) has not seen the last 5.
    session, recency = _prefixes(tokens, torch.tensor([[False, True, True, False]]))
    assert session.tolist() == [[0, 5, 0, 0], [0, 5, 3, 0]] and recency.tolist() == [[1, 0, 0, 0], [2, 1, 0, 0]]


@pytest.mark.parametrize("loss", ["ce", "sampled"])
def test_bf16_training_learns_cycles_and_serves_float32_scores(loss):
    data, perm = cycle_data()
    model = SASRecRecommender(**FAST, max_epochs=60, valid_mode="none", loss=loss, negatives=10, precision="bf16").fit(data)
    correct = sum(model.recommend_for_items([f"i{i}"], k=1)[0][0] == f"i{perm[i]}" for i in range(N_ITEMS))
    assert correct >= 0.8 * N_ITEMS
    assert model._net.item_emb.weight.dtype == torch.float32  # weights stay float32
    assert model.score_histories([np.array([1, 2])]).dtype == np.float32


def test_a_training_step_sees_what_a_request_with_that_prefix_sees():
    # A window a b c d: the state after b must not depend on c and d coming later (from_start),
    # which is what a live request holding only a b gets. The original layout (from_end)
    # numbers positions from the window's end, so that state knows two more items follow.
    torch.manual_seed(0)
    window = torch.tensor([[0, 0, 4, 7, 2, 9]])
    prefix = torch.tensor([[0, 0, 0, 0, 4, 7]])
    for positions, same in (("from_start", True), ("from_end", False)):
        net = SASRecNet(N_ITEMS, max_len=6, dim=16, layers=1, heads=1, dropout=0.0, positions=positions).eval()
        with torch.no_grad():
            at_b_in_training, at_b_in_a_request = net(window)[0, 3], net(prefix)[0, -1]
        assert torch.allclose(at_b_in_training, at_b_in_a_request, atol=1e-5) is same


def test_drawn_in_session_matches_pairwise_comparison_even_for_repeated_draws():
    from mercato.recommend.sasrec import _drawn_in_session

    rng = np.random.default_rng(0)
    session = torch.from_numpy(rng.integers(0, 12, size=(40, 6)))  # 0 = padding
    drawn = torch.from_numpy(rng.integers(1, 12, size=25))  # repeats among 11 tokens
    expected = ((session[:, :, None] == drawn[None, None, :]) & (session[:, :, None] != 0)).any(1)
    assert torch.equal(_drawn_in_session(session, drawn, n_items=11), expected)


def test_a_model_saved_before_positions_existed_loads_with_the_layout_it_was_trained_with(tmp_path):
    data, _ = cycle_data(n_sequences=40)
    model = SASRecRecommender(**FAST, max_epochs=2, valid_mode="none", positions="from_end").fit(data)
    config_path = model.save(tmp_path / "m") / "config.json"
    config = json.loads(config_path.read_text())
    del config["params"]["positions"]  # as an older version wrote it
    config_path.write_text(json.dumps(config))
    loaded = Recommender.load(tmp_path / "m")
    assert loaded.params["positions"] == "from_end"
    histories = [np.array([1, 2, 3]), np.array([4])]
    np.testing.assert_array_equal(loaded.score_histories(histories), model.score_histories(histories))
