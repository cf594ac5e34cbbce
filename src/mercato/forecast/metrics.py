"""Forecast accuracy: MASE, WAPE, bias, pinball loss and interval coverage.

All functions take aligned arrays of actuals and forecasts where NaN actuals (a series not
yet launched at that period) are left out. Definitions follow Hyndman & Koehler (2006) for
MASE — mean absolute error over the in-sample MAE of the (seasonal) naive forecast, one
value per series, averaged — and the M5 competition for pinball loss on quantiles.
"""

from __future__ import annotations

import numpy as np


def naive_scale(history: np.ndarray, season_length: int = 1) -> np.ndarray:
    """(S,) in-sample MAE of the naive forecast that repeats the value ``season_length`` back.

    NaN where a series has fewer than ``season_length + 1`` observed periods; 0 for a
    constant series, which MASE cannot score (those are left out of the mean).
    """
    if history.shape[1] <= season_length:
        return np.full(history.shape[0], np.nan)
    diffs = np.abs(history[:, season_length:] - history[:, :-season_length])
    counts = (~np.isnan(diffs)).sum(axis=1)
    totals = np.nansum(diffs, axis=1)
    scale = np.full(history.shape[0], np.nan)
    np.divide(totals, counts, out=scale, where=counts > 0)
    return scale


def absolute_errors(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float))


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> float:
    """Mean over series of MAE / scale; ``actual`` and ``forecast`` are (S, H), ``scale`` is (S,)."""
    per_series = mase_per_series(actual, forecast, scale)
    return float(np.mean(per_series[~np.isnan(per_series)])) if (~np.isnan(per_series)).any() else float("nan")


def mase_per_series(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> np.ndarray:
    errors = absolute_errors(actual, forecast)
    counts = (~np.isnan(errors)).sum(axis=1)
    mae = np.full(errors.shape[0], np.nan)
    np.divide(np.nansum(errors, axis=1), counts, out=mae, where=counts > 0)
    usable = (scale > 0) & ~np.isnan(mae)
    result = np.full(errors.shape[0], np.nan)
    np.divide(mae, scale, out=result, where=usable)
    return result


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Sum of absolute errors over the sum of actual demand (volume-weighted error)."""
    observed = ~np.isnan(actual)
    total = np.sum(actual[observed])
    return float(np.sum(absolute_errors(actual, forecast)[observed]) / total) if total > 0 else float("nan")


def bias(actual: np.ndarray, forecast: np.ndarray) -> float:
    """(forecast − actual) summed, over actual summed: +0.1 means 10% over-forecast."""
    observed = ~np.isnan(actual)
    total = np.sum(actual[observed])
    return float(np.sum(forecast[observed] - actual[observed]) / total) if total > 0 else float("nan")


def pinball(actual: np.ndarray, quantile_forecast: np.ndarray, quantile: float) -> float:
    """Mean pinball (quantile) loss over observed cells, divided by mean actual demand (scale-free)."""
    observed = ~np.isnan(actual)
    diff = actual[observed] - quantile_forecast[observed]
    loss = np.maximum(quantile * diff, (quantile - 1.0) * diff)
    level = np.mean(actual[observed])
    return float(np.mean(loss) / level) if level > 0 else float("nan")


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of observed cells with ``lower <= actual <= upper``."""
    observed = ~np.isnan(actual)
    inside = (actual[observed] >= lower[observed]) & (actual[observed] <= upper[observed])
    return float(np.mean(inside)) if inside.size else float("nan")
