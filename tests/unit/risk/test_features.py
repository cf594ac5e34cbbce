"""Features of a transaction come only from strictly earlier events (point in time)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.errors import InvalidInput
from mercato.risk.features import BASE_FEATURES, FeatureState, Transaction, replay_features
from mercato.risk.simulator import simulate


def _tx(i: int, t: float, user: str = "u1", card: str = "c1", device: str = "d1", amount: int = 1000, **kw) -> Transaction:
    return Transaction(f"t{i}", t, user, amount, card_id=card, device_id=device, ip="ip1", email="e1",
                       shipping_address="a1", billing_address="a1", **kw)


def _col(name: str) -> int:
    return BASE_FEATURES.index(name)


def test_known_answers_for_a_small_history():
    txs = [_tx(0, 0.0), _tx(1, 100.0, card="c2", amount=3000), _tx(2, 200.0, user="u2", card="c2", amount=500)]
    X, _ = replay_features(txs)
    assert X[0, _col("user_count_10m")] == 0 and X[0, _col("first_tx_of_user")] == 1
    assert X[1, _col("user_count_10m")] == 1 and X[1, _col("user_sum_10m")] == 10.0
    assert X[1, _col("new_card_for_user")] == 1 and X[1, _col("cards_per_user_24h")] == 1
    assert X[1, _col("amount_vs_user_mean_30d")] == 3.0
    assert X[2, _col("users_per_card_30d")] == 1 and X[2, _col("card_count_1h")] == 1
    assert X[2, _col("device_count_10m")] == 2 and X[2, _col("first_tx_of_user")] == 1
    assert X[1, _col("hours_since_user_last")] == pytest.approx(100 / 3600)
    assert math.isnan(X[0, _col("hours_since_user_last")])


@given(st.lists(st.tuples(st.integers(0, 5000), st.sampled_from(["u1", "u2", "u3"]), st.sampled_from(["c1", "c2"]),
                          st.integers(100, 10_000)), min_size=2, max_size=40),
       st.integers(0, 5000), st.integers(1, 10**6))
@settings(max_examples=60, deadline=None)
def test_a_row_never_sees_later_events(events, cut, new_amount):
    """Changing or adding events at or after a row's time leaves that row unchanged."""
    txs = [_tx(i, float(t), user=u, card=c, amount=a) for i, (t, u, c, a) in enumerate(events)]
    X, _ = replay_features(txs)
    changed = [_tx(i, tx.occurred_at_s, user="u9" if tx.occurred_at_s >= cut else tx.user_id, card=tx.card_id,
                   amount=new_amount if tx.occurred_at_s >= cut else tx.amount_minor) for i, tx in enumerate(txs)]
    changed.append(_tx(len(txs), float(cut), user="u1", card="c1"))
    Y, _ = replay_features(changed)
    before = np.array([tx.occurred_at_s < cut for tx in txs])
    np.testing.assert_array_equal(X[before], Y[: len(txs)][before])


def test_simultaneous_events_do_not_see_each_other_whatever_their_order():
    a, b = _tx(0, 50.0, card="c1"), _tx(1, 50.0, card="c2")
    X1, _ = replay_features([a, b])
    X2, _ = replay_features([b, a])
    np.testing.assert_array_equal(X1, X2[::-1])
    assert X1[1, _col("user_count_10m")] == 0


def test_card_testing_burst_raises_cards_per_device():
    state = FeatureState()
    rows = [state.features_then_update(_tx(k, 10.0 * k, user="bot", card=f"stolen{k}", device="botdev", amount=100))
            for k in range(12)]
    assert [r[_col("cards_per_device_1h")] for r in rows] == list(range(12))


def test_state_holds_exactly_the_keys_seen_within_the_longest_window():
    stream = simulate(n_users=300, days=120, seed=1, card_testing_bursts=5, takeovers=5, rings=2, friendly_frauds=5)
    state = FeatureState()
    for tx in stream.transactions:
        state.features_then_update(tx)
    last = stream.transactions[-1].occurred_at_s
    recent_users = {tx.user_id for tx in stream.transactions if tx.occurred_at_s > last - 30 * 86_400}
    all_users = {tx.user_id for tx in stream.transactions}
    assert len(state.relations[0]) == len(recent_users) < len(all_users)


def test_transaction_from_mapping_names_the_bad_field():
    with pytest.raises(InvalidInput) as missing:
        Transaction.from_mapping({"transaction_id": "t", "occurred_at_s": 1.0, "user_id": "u"})
    assert missing.value.field == "amount_minor"
    with pytest.raises(InvalidInput) as unknown:
        Transaction.from_mapping({"transaction_id": "t", "occurred_at_s": 1.0, "user_id": "u", "amount_minor": 5, "colour": 1})
    assert unknown.value.field == "colour"
