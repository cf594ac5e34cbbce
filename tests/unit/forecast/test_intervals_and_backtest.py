"""Conformal P10/P50/P90 and the rolling-origin backtest on series with known behaviour."""

import numpy as np
import pandas as pd
import pytest

from mercato.forecast.backtest import backtest
from mercato.forecast.intervals import ConformalForecaster
from mercato.forecast.models.baselines import MovingAverageForecaster, NaiveForecaster, SeasonalNaiveForecaster
from mercato.forecast.series import DemandPanel


def weekly_panel(demand):
    ids = np.array([f"s{i}" for i in range(demand.shape[0])], dtype=object)
    return DemandPanel(ids, pd.date_range("2023-01-02", periods=demand.shape[1], freq="7D"), "W", demand)


def test_conformal_band_covers_about_eighty_percent_of_new_noise():
    rng = np.random.default_rng(0)
    level = rng.uniform(20, 200, size=(400, 1))
    demand = level + rng.normal(0, 1, size=(400, 40)) * level * 0.2  # noise proportional to the level
    model = ConformalForecaster(MovingAverageForecaster(window=12), horizon=2).fit(weekly_panel(demand[:, :38]))
    forecast = model.predict()
    low, mid, high = (forecast.quantiles[q] for q in (0.1, 0.5, 0.9))
    assert (low <= mid).all() and (mid <= high).all()
    inside = (demand[:, 38:] >= low) & (demand[:, 38:] <= high)
    assert inside.mean() == pytest.approx(0.8, abs=0.06)
    frame = forecast.to_frame()
    assert list(frame.columns) == ["series_id", "period_start", "p10", "p50", "p90"] and len(frame) == 800


def test_backtest_scores_a_seasonal_naive_on_a_pure_season_as_perfect():
    season = np.array([5.0, 9.0, 2.0, 7.0])
    demand = np.tile(season, (3, 6))  # 24 weeks
    report = backtest(weekly_panel(demand), SeasonalNaiveForecaster(season_length=4), horizon=3, test_periods=4)
    metrics = report["metrics"]
    assert metrics["wape"] == 0.0 and metrics["bias"] == 0.0 and metrics["coverage_p10_p90"] == 1.0
    # Origins 20..23 forecast 3, 3, 2 and 1 periods inside the data, for 3 series.
    assert metrics["n_forecasts"] == 3 * (3 + 3 + 2 + 1)
    assert set(report["per_horizon"]) == {"1", "2", "3"} and report["per_series"]["s0"]["wape"] == 0.0


def test_backtest_leaves_out_series_not_launched_at_an_origin():
    demand = np.ones((2, 20))
    demand[1, :19] = np.nan  # launched in the very last period
    report = backtest(weekly_panel(demand), MovingAverageForecaster(), horizon=1, test_periods=2)
    assert report["metrics"]["n_forecasts"] == 2 and set(report["per_series"]) == {"s0"}


class DoubleLastForecaster(NaiveForecaster):
    """Over-forecasts by design: twice the last value."""

    name = "double_last"

    def _predict(self, horizon):
        return 2 * super()._predict(horizon)


def test_calibrated_median_removes_a_systematic_bias_and_plain_median_keeps_it():
    demand = np.full((5, 30), 10.0)
    plain = ConformalForecaster(DoubleLastForecaster(), horizon=2).fit(weekly_panel(demand)).predict()
    assert np.allclose(plain.median, 20.0)
    calibrated = ConformalForecaster(DoubleLastForecaster(), horizon=2, calibrate_median=True)
    forecast = calibrated.fit(weekly_panel(demand)).predict()
    assert np.allclose(forecast.median, 10.0) and np.allclose(forecast.quantiles[0.1], 10.0)
