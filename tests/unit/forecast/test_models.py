"""Every forecaster on small series whose right answer is known in advance."""

import numpy as np
import pandas as pd
import pytest

from mercato.errors import InvalidInput, NotReady
from mercato.forecast.features import aggregated_rate, exponential_smoothing, feature_matrix, intermittency_features
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


def test_exponential_smoothing_and_aggregated_rate_by_hand():
    history = np.array([[np.nan, 2.0, 4.0, np.nan, 0.0], [np.nan] * 5])
    # Starts at the first observed value (2), skips the NaN: 2 -> 3 -> 1.5 with alpha 0.5.
    assert exponential_smoothing(history, 0.5)[0] == pytest.approx(1.5)
    assert np.isnan(exponential_smoothing(history, 0.5)[1])
    # Buckets of 2 aligned at the origin: [2, 4] -> 3 and [NaN, 0] -> 0 (the leading NaN period is dropped).
    assert aggregated_rate(history, 2, 1.0)[0] == pytest.approx(0.0)
    assert aggregated_rate(history, 2, 0.5)[0] == pytest.approx(1.5)
    assert np.isnan(aggregated_rate(history, 6, 0.5)).all()


def test_intermittency_features_of_a_series_that_sells_every_other_period():
    history = np.array([[0.0, 4.0, 0.0, 4.0, 0.0, 4.0, 0.0, 4.0], [np.nan] * 8])
    features = intermittency_features(history, scale=np.array([2.0, 1.0]))
    assert features["adi"][0] == 2.0 and np.isnan(features["adi"][1])
    assert features["zero_share_all"][0] == 0.5
    assert features["sold_last_4"][0] == 2.0
    assert features["size_mean"][0] == 2.0  # 4 units per sale over a scale of 2
    assert features["median_4"][0] == 1.0  # median of 0, 4, 0, 4 is 2, over the scale
    # Croston: size 4 every 2 periods -> rate 2, deflated by SBA's (1 - 0.1/2), over the scale of 2.
    assert features["croston_sba"][0] == pytest.approx(0.95)
    # Two-period buckets hold exactly one sale each: the aggregated rate is the true rate, 2, over the scale.
    assert features["adida_2"][0] == pytest.approx(1.0)
    assert features["imapa"][0] == pytest.approx((features["adida_1"][0] + features["adida_2"][0]) / 2)


def test_global_model_with_full_ensemble_weight_is_imapa():
    rng = np.random.default_rng(3)
    panel = monthly_panel(rng.poisson(0.8, size=(8, 30)).astype(float))
    blended = GlobalBoostedForecaster(max_horizon=2, n_estimators=5, ensemble=1.0, features="intermittent").fit(panel)
    imapa = forecaster_for("imapa", freq="M").fit(panel)
    assert blended.predict(2) == pytest.approx(imapa.predict(2))
    assert "adi" in blended.feature_names_ and "imapa" in blended.feature_names_
    with pytest.raises(InvalidInput, match="feature set"):
        GlobalBoostedForecaster(features="fancy")
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        GlobalBoostedForecaster(ensemble=1.5)


def test_observed_only_covariates_are_read_at_the_origin_even_for_training_examples():
    # A realized price changes only in weeks with sales: read at a training example's target
    # period it would reveal the sale, which no forecast can see.
    demand = np.array([[1.0, 0.0, 3.0, 0.0, 5.0, 0.0, 2.0, 0.0]])
    price = np.array([[10.0, 10.0, 12.0, 12.0, 9.0, 9.0, 11.0, 11.0]])
    planned = monthly_panel(demand, {"price": price})
    observed = DemandPanel(planned.series_ids, planned.periods, "M", demand, {"price": price}, frozenset({"price"}))
    origin, horizons = 4, range(1, 4)  # targets are periods 4, 5 and 6 (0-based), prices 9, 9, 11
    rows, names, _ = feature_matrix(observed, origin, horizons, lags=2, windows=(2,), scale_window=2)
    planned_rows, _, _ = feature_matrix(planned, origin, horizons, lags=2, windows=(2,), scale_window=2)
    column = names.index("price")
    assert rows[:, column].tolist() == [12.0, 12.0, 12.0]  # the last price known at the origin
    assert rows[:, names.index("price_change")].tolist() == [0.0, 0.0, 0.0]
    assert planned_rows[:, column].tolist() == [9.0, 9.0, 11.0]  # a planned price is read at its own period
