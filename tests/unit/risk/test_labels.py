"""The delayed-label join: chargebacks and reviews label earlier payments, when they arrive."""

import math

import numpy as np

from mercato.risk.features import Transaction
from mercato.risk.labels import Chargeback, ReviewLabel, chargebacks_from_events, join_labels, transactions_from_events, transactions_to_events

DAY = 86_400.0


def test_labels_become_known_only_when_they_arrive():
    ids, times, orders = ["p0", "p1", "p2", "p3"], [0.0, 10 * DAY, 20 * DAY, 30 * DAY], ["o0", "o1", "o1", None]
    labels = join_labels(
        ids, times, orders,
        chargebacks=[Chargeback("p0", None, 40 * DAY), Chargeback(None, "o1", 15 * DAY), Chargeback(None, "nope", 5 * DAY)],
        reviews=[ReviewLabel("p3", False, 31 * DAY), ReviewLabel("p2", True, 25 * DAY)],
        maturity_s=60 * DAY,
    )
    assert labels.unmatched_chargebacks == 1
    # The order-level chargeback at day 15 labels only the attempt made before it (p1), not p2.
    assert labels.fraud_at_s[1] == 15 * DAY and labels.fraud_at_s[2] == 25 * DAY
    known, label = labels.known_at(12 * DAY)
    assert not known.any()  # nothing has matured, no chargeback yet
    known, label = labels.known_at(32 * DAY)
    assert list(known) == [False, True, True, True] and list(label) == [0, 1, 1, 0]
    known, label = labels.known_at(41 * DAY)
    assert list(label) == [1, 1, 1, 0]
    known, label = labels.known_at(61 * DAY)  # p0 would have matured, but its chargeback came first
    assert list(known) == [True, True, True, True] and list(label) == [1, 1, 1, 0]
    assert list(labels.eventual) == [1, 1, 1, 0]


def test_a_late_chargeback_overrides_maturity_once_it_arrives():
    labels = join_labels(["p"], [0.0], [None], [Chargeback("p", None, 100 * DAY)], maturity_s=60 * DAY)
    assert labels.known_at(70 * DAY) == (np.array([True]), np.array([0], dtype=np.int8))
    assert labels.known_at(100 * DAY)[1][0] == 1
    assert math.isinf(join_labels(["q"], [0.0], [None]).fraud_at_s[0])


def test_events_round_trip_into_transactions_and_chargebacks():
    txs = [Transaction("p1", 1_700_000_000.0, "u1", 1234, "EUR", card_id="c1", device_id="d1", ip="1.2.3.4",
                       account_created_at_s=1_690_000_000.0),
           Transaction("p2", 1_700_000_100.0, "u2", 99, "EUR")]
    events = transactions_to_events(txs, chargeback_at_s=np.array([1_700_500_000.0, np.nan]))
    payments = events[events["type"] == "payment"]
    back = transactions_from_events(payments)
    assert [(t.transaction_id, t.user_id, t.amount_minor, t.card_id, t.ip) for t in back] == \
        [("p1", "u1", 1234, "c1", "1.2.3.4"), ("p2", "u2", 99, None, None)]
    assert back[0].account_created_at_s == 1_690_000_000.0 and back[0].occurred_at_s == 1_700_000_000.0
    chargebacks = chargebacks_from_events(events[events["type"] == "chargeback"])
    assert chargebacks == [Chargeback("p1", "order-p1", 1_700_500_000.0)]
