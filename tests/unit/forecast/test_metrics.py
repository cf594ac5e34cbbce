"""Forecast metrics on arrays small enough to check by hand."""

import numpy as np
import pytest

from mercato.forecast import metrics

ACTUAL = np.array([[10.0, 20.0], [0.0, 10.0], [np.nan, 5.0]])
FORECAST = np.array([[12.0, 18.0], [1.0, 10.0], [3.0, 5.0]])


def test_wape_bias_and_coverage_skip_unobserved_cells():
    assert metrics.wape(ACTUAL, FORECAST) == pytest.approx((2 + 2 + 1 + 0 + 0) / 45)
    assert metrics.bias(ACTUAL, FORECAST) == pytest.approx((2 - 2 + 1 + 0 + 0) / 45)
    assert metrics.coverage(ACTUAL, FORECAST - 1.5, FORECAST + 1.5) == pytest.approx(3 / 5)


def test_mase_divides_each_series_by_its_naive_error_and_skips_constant_ones():
    history = np.array([[1.0, 3.0, 5.0], [4.0, 4.0, 4.0], [np.nan, 2.0, 3.0]])
    scale = metrics.naive_scale(history)
    assert scale.tolist() == [2.0, 0.0, 1.0]
    per_series = metrics.mase_per_series(ACTUAL, FORECAST, scale)
    assert per_series[0] == pytest.approx(1.0) and np.isnan(per_series[1]) and per_series[2] == 0.0
    assert metrics.mase(ACTUAL, FORECAST, scale) == pytest.approx(0.5)
    assert np.isnan(metrics.naive_scale(history, season_length=3)).all()


def test_pinball_weights_under_and_over_forecasts_by_the_quantile():
    actual = np.array([[10.0, 10.0]])
    forecast = np.array([[8.0, 14.0]])
    # under by 2 at q=0.9 costs 0.9·2; over by 4 costs 0.1·4; mean over cells, over mean actual.
    assert metrics.pinball(actual, forecast, 0.9) == pytest.approx((1.8 + 0.4) / 2 / 10)
