"""Safety stock and reorder point against hand computation."""

import math

import pytest

from mercato.errors import InvalidInput
from mercato.forecast.inventory import Z_P90, reorder_advice

Z_95 = 1.6448536269514722


def test_fixed_lead_time_matches_hand_computation():
    # Two periods; each P10–P90 band is 2·z₀.₉·σ wide with σ = 10 and 20.
    p50 = [100.0, 120.0]
    p10 = [100 - Z_P90 * 10, 120 - Z_P90 * 20]
    p90 = [100 + Z_P90 * 10, 120 + Z_P90 * 20]
    advice = reorder_advice(p10, p50, p90, lead_time=2, service_level=0.95)
    sigma = math.sqrt(10**2 + 20**2)
    assert advice.lead_time_demand == pytest.approx(220.0)
    assert advice.demand_std == pytest.approx(sigma)
    assert advice.safety_stock == pytest.approx(Z_95 * sigma)
    assert advice.reorder_point == pytest.approx(220.0 + Z_95 * sigma)


def test_lead_time_variability_adds_demand_times_its_spread():
    p50 = [50.0, 50.0, 50.0, 99.0]  # the period beyond the lead time is ignored
    p10 = [50 - Z_P90 * 5] * 3 + [0.0]
    p90 = [50 + Z_P90 * 5] * 3 + [500.0]
    advice = reorder_advice(p10, p50, p90, lead_time=3, service_level=0.95, lead_time_std=1.0)
    sigma = math.sqrt(3 * 5**2 + (50.0 * 1.0) ** 2)
    assert advice.demand_std == pytest.approx(sigma)
    assert advice.reorder_point == pytest.approx(150.0 + Z_95 * sigma)


def test_reorder_now_compares_inventory_position_with_reorder_point():
    flat = dict(p10=[10.0], p50=[10.0], p90=[10.0], lead_time=1)
    assert reorder_advice(**flat, inventory_position=10.0).reorder_now is True
    assert reorder_advice(**flat, inventory_position=10.5).reorder_now is False
    assert reorder_advice(**flat).reorder_now is None
    assert reorder_advice(**flat).safety_stock == 0.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"lead_time": 0}, "lead_time"),
        ({"lead_time": 3}, "covers 2 periods"),
        ({"lead_time": 1, "service_level": 1.0}, "service_level"),
        ({"lead_time": 1, "lead_time_std": -1.0}, "lead_time_std"),
    ],
)
def test_bad_arguments_say_what_to_fix(kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        reorder_advice([1.0, 1.0], [2.0, 2.0], [3.0, 3.0], **kwargs)
