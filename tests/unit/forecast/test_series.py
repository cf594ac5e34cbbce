"""Demand series from events: returns, gaps, new and discontinued SKUs, complete periods only."""

import numpy as np
import pandas as pd
import pytest

from mercato.errors import InvalidInput
from mercato.events.schema import conform
from mercato.forecast.series import DemandPanel, carry_forward, demand_from_events


def events(rows):
    """rows: (type, item, 'YYYY-MM-DD', quantity, unit_price_minor or None)."""
    frame = pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "type": [r[0] for r in rows],
            "occurred_at": pd.to_datetime([r[2] + " 12:00" for r in rows]).tz_localize("UTC"),
            "user_id": "u",
            "item_id": [r[1] for r in rows],
            "quantity": [r[3] for r in rows],
            "attrs": [None if r[4] is None else {"unit_price_minor": r[4]} for r in rows],
        }
    )
    return conform(frame)


# Mondays: 2024-01-01, 01-08, 01-15, 01-22, 01-29; the data spans 2024-01-01 .. 2024-02-05.
ROWS = [
    ("purchase", "A", "2024-01-01", 5, 100),
    ("purchase", "A", "2024-01-03", 3, 200),
    ("return", "A", "2024-01-04", 2, None),  # returns net out within the week
    ("purchase", "A", "2024-01-22", 4, 100),  # weeks 2 and 3 without sales: a gap
    ("purchase", "NEW", "2024-01-24", 7, 50),  # launched in week 4
    ("purchase", "OLD", "2024-01-02", 6, 10),  # discontinued after week 1
    ("return", "OLD", "2024-01-09", 9, None),  # more returned than sold that week
    ("purchase", "A", "2024-02-05", 1, 100),  # a lone event in an incomplete last week
]


def test_weekly_demand_nets_returns_fills_gaps_and_marks_launches():
    panel = demand_from_events(events(ROWS), freq="W", until=pd.Timestamp("2024-02-06", tz="UTC"))
    assert list(panel.periods) == list(pd.date_range("2024-01-01", periods=5, freq="7D"))
    rows = {sid: i for i, sid in enumerate(panel.series_ids)}
    assert panel.demand[rows["A"]].tolist() == [6.0, 0.0, 0.0, 4.0, 0.0]
    new = panel.demand[rows["NEW"]]
    assert np.isnan(new[:3]).all() and new[3:].tolist() == [7.0, 0.0]
    assert panel.demand[rows["OLD"]].tolist() == [6.0, 0.0, 0.0, 0.0, 0.0]
    assert panel.first_observed.tolist() == [0, 3, 0]


def test_price_covariate_is_quantity_weighted_and_carried_over_gaps():
    panel = demand_from_events(events(ROWS), freq="W", until=pd.Timestamp("2024-02-06", tz="UTC"))
    price = panel.covariates["price_minor"][list(panel.series_ids).index("A")]
    assert price[0] == pytest.approx((5 * 100 + 3 * 200) / 8)
    assert price[1] == price[2] == price[0]
    assert price[3] == 100


def test_incomplete_last_period_is_dropped():
    panel = demand_from_events(events(ROWS), freq="W")  # ends at the 2024-02-05 event: that week is not over
    assert panel.periods[panel.n_periods - 1] == pd.Timestamp("2024-01-29")


def test_monthly_grid_and_errors():
    panel = demand_from_events(events(ROWS[:4]), freq="M", until=pd.Timestamp("2024-02-01", tz="UTC"))
    assert panel.demand.tolist() == [[10.0]]
    with pytest.raises(InvalidInput, match="frequency"):
        demand_from_events(events(ROWS), freq="Y")
    with pytest.raises(InvalidInput, match="no purchase"):
        demand_from_events(events([("view", "A", "2024-01-01", 1, None)]))


def test_truncate_keeps_known_future_covariates_and_carry_extends_them():
    periods = pd.date_range("2024-01-01", periods=6, freq="MS")
    panel = DemandPanel(np.array(["x"], dtype=object), periods, "M", np.ones((1, 4)), {"price": np.arange(6.0)[None]})
    cut = panel.truncate(2, horizon=3)
    assert cut.demand.shape == (1, 2) and cut.covariates["price"].tolist() == [[0.0, 1.0, 2.0, 3.0, 4.0]]
    extended = panel.truncate(3).with_carried_covariates(2)
    assert extended.covariates["price"].tolist() == [[0.0, 1.0, 2.0, 2.0, 2.0]]
    assert list(extended.periods[3:]) == list(periods[3:5])


def test_carry_forward_fills_from_the_left_only():
    values = np.array([[np.nan, 1.0, np.nan, 3.0, np.nan]])
    assert np.array_equal(carry_forward(values), np.array([[np.nan, 1.0, 1.0, 3.0, 3.0]]), equal_nan=True)


def test_observed_only_covariates_never_reach_past_the_origin():
    panel = demand_from_events(events(ROWS), freq="W", until=pd.Timestamp("2024-02-06", tz="UTC"))
    assert panel.observed_only == frozenset({"price_minor"})
    row = list(panel.series_ids).index("A")
    cut = panel.truncate(1, horizon=3)
    # Week 4's realized price (100) would reveal a sale; the cut panel repeats week 1's price.
    assert cut.covariates["price_minor"][row].tolist() == [137.5] * 4
