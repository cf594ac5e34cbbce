"""Every forecaster on small series whose right answer is known in advance."""

import numpy as np
import pandas as pd
import pytest

from mercato.errors import InvalidInput, NotReady
from mercato.forecast.models import MODEL_NAMES, forecaster_for
from mercato.forecast.models.baselines import MovingAverageForecaster, NaiveForecaster, SeasonalNaiveForecaster
from mercato.forecast.models.gbm import GlobalBoostedForecaster
from mercato.forecast.series import DemandPanel

SEASON = np.array([10.0, 12.0, 15.0, 30.0, 12.0, 8.0, 5.0, 5.0, 7.0, 9.0, 11.0, 20.0])


def monthly_panel(demand, covariates=None, n_periods=None):
    demand = np.atleast_2d(np.asarray(demand, dtype=float))
    periods = pd.date_range("2015-01-01", periods=n_periods or demand.shape[1], freq="MS")
    ids = np.array([f"s{i}" for i in range(demand.shape[0])], dtype=object)
    return DemandPanel(ids, periods, "M", demand, covariates or {})


def test_seasonal_naive_repeats_a_pure_seasonal_pattern_exactly():
    panel = monthly_panel(np.tile(SEASON, 3))
    forecast = SeasonalNaiveForecaster().fit(panel).predict(18)
    assert np.array_equal(forecast[0], np.concatenate([SEASON, SEASON[:6]]))


def test_seasonal_naive_falls_back_to_naive_before_one_full_season():
    launched_late = np.concatenate([np.full(30, np.nan), np.tile(SEASON, 1)[:6]])
    forecast = SeasonalNaiveForecaster().fit(monthly_panel(launched_late)).predict(3)
    assert forecast.tolist() == [[SEASON[5]] * 3]


def test_naive_and_moving_average_and_cold_start():
    panel = monthly_panel([[1.0, 2.0, 3.0, 6.0], [np.nan] * 4])
    assert NaiveForecaster().fit(panel).predict(2).tolist() == [[6.0, 6.0], [0.0, 0.0]]
    assert MovingAverageForecaster(window=3).fit(panel).predict(1).tolist() == [[11 / 3], [0.0]]


@pytest.mark.parametrize("name", ["auto_ets", "auto_arima", "croston", "croston_sba", "tsb", "adida", "imapa"])
def test_statistical_models_forecast_a_constant_series_as_that_constant(name):
    panel = monthly_panel(np.full((2, 30), 4.0))
    forecast = forecaster_for(name, freq="M").fit(panel).predict(3)
    # SBA deflates Croston by (1 − α/2) on purpose; TSB starts from its smoothed level.
    expected = 4.0 * (1 - 0.1 / 2) if name == "croston_sba" else 4.0
    assert forecast == pytest.approx(np.full((2, 3), expected), rel=0.02)


def test_statistical_model_learns_the_season_and_leaves_unlaunched_series_at_zero():
    demand = np.vstack([np.tile(SEASON, 4), np.full(48, np.nan)])
    forecast = forecaster_for("auto_ets", freq="M").fit(monthly_panel(demand)).predict(12)
    assert np.corrcoef(forecast[0], SEASON)[0, 1] > 0.99
    assert forecast[1].tolist() == [0.0] * 12


def price_driven_panel(n_series=40, n_periods=48, horizon=3, seed=0):
    """Demand = 100 · level / price, with prices drawn independently every period (known in advance)."""
    rng = np.random.default_rng(seed)
    price = rng.uniform(1.0, 4.0, size=(n_series, n_periods + horizon))
    level = rng.uniform(0.5, 2.0, size=(n_series, 1))
    demand = 100.0 * level / price
    return monthly_panel(demand[:, :n_periods], {"price": price}, n_periods=n_periods + horizon), demand, price


def test_global_model_applies_each_future_price_at_its_own_horizon_step():
    panel, demand, price = price_driven_panel()
    model = GlobalBoostedForecaster(max_horizon=3, n_estimators=200, min_child_samples=10, n_threads=1)
    forecast = model.fit(panel).predict(3)  # (S, 3)
    truth = demand[:, 48:51]
    assert np.median(np.abs(forecast - truth) / truth) < 0.12
    for step in range(3):
        # Each step follows its own period's price, not the first forecast period's or the last observed one.
        assert np.corrcoef(forecast[:, step], truth[:, step])[0, 1] > 0.9
        other = (step + 1) % 3
        assert np.abs(forecast[:, step] - truth[:, step]).mean() < np.abs(forecast[:, step] - truth[:, other]).mean()


def test_global_model_needs_the_future_covariates_it_was_trained_with():
    panel, _, _ = price_driven_panel(n_series=10, n_periods=24)
    model = GlobalBoostedForecaster(max_horizon=3, n_estimators=5, n_threads=1).fit(panel)
    with pytest.raises(InvalidInput, match="needs their values for the 5 forecast periods"):
        model.predict(5)


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if n != "auto_arima"])
def test_contract_unfitted_bad_horizon_clone_and_non_negative(name):
    model = forecaster_for(name, freq="M", horizon=2, **({"n_estimators": 5} if name == "lightgbm" else {}))
    with pytest.raises(NotReady, match="call 'fit'"):
        model.predict(2)
    rng = np.random.default_rng(1)
    demand = rng.poisson(0.7, size=(6, 30)).astype(float)
    demand[5, :20] = np.nan  # a series launched late
    model.fit(monthly_panel(demand))
    with pytest.raises(InvalidInput, match="horizon"):
        model.predict(0)
    forecast = model.predict(2)
    assert forecast.shape == (6, 2) and (forecast >= 0).all() and not np.isnan(forecast).any()
    assert model.clone().get_params() == model.get_params()
