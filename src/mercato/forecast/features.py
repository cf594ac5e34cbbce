"""Features for the global model: what is known at a forecast origin about one target period.

A training example is (series, origin ``o``, horizon ``h``): the history is ``demand[:, :o]``
and the target is ``demand[:, o + h − 1]``. Everything about the history (lags, window
means, intermittency, age) is computed at the origin; everything about the target period
(calendar, horizon, planned covariates) is read at ``o + h − 1`` itself. That last part is the
one global forecasting libraries most often get wrong: a price cut planned for month 3 must
move the month-3 forecast, not the month-1 one (covariates "shifted" by the horizon).
Covariates that are only observed (``DemandPanel.observed_only``: a price realized by the
sales) are read at the origin for training examples as well as forecasts.

Demand features are divided by a per-series scale (the recent mean), so one model serves
SKUs that sell 2 a week and SKUs that sell 2,000.
"""

from __future__ import annotations

import numpy as np

from mercato.forecast.metrics import naive_scale
from mercato.forecast.series import DemandPanel


def window_mean(history: np.ndarray, window: int) -> np.ndarray:
    """(S,) mean of the last ``window`` observed periods (NaN periods ignored; NaN when none)."""
    recent = history[:, -window:]
    observed = ~np.isnan(recent)
    counts = observed.sum(axis=1)
    mean = np.full(history.shape[0], np.nan)
    np.divide(np.where(observed, recent, 0.0).sum(axis=1), counts, out=mean, where=counts > 0)
    return mean


def series_scale(history: np.ndarray, window: int) -> np.ndarray:
    """(S,) the recent mean demand, else the mean of all history, else 1: never 0 or NaN."""
    scale = window_mean(history, window)
    whole = window_mean(history, history.shape[1])
    scale = np.where(np.isnan(scale) | (scale <= 0), whole, scale)
    return np.where(np.isnan(scale) | (scale <= 0), 1.0, scale)


def exponential_smoothing(history: np.ndarray, alpha: float) -> np.ndarray:
    """(S,) simple exponential smoothing level after the last period; starts at the first observed
    value, skips NaN periods, NaN for a series never observed."""
    level = np.full(history.shape[0], np.nan)
    for t in range(history.shape[1]):
        value = history[:, t]
        update = np.where(np.isnan(level), value, level + alpha * (value - level))
        level = np.where(np.isnan(value), level, update)
    return level


def aggregated_rate(history: np.ndarray, bucket: int, alpha: float) -> np.ndarray:
    """(S,) ADIDA's per-period rate: the history cut into buckets of ``bucket`` periods (aligned at
    the origin), the mean of each, smoothed exponentially over buckets (Nikolopoulos et al. 2011)."""
    n_buckets = history.shape[1] // bucket
    if n_buckets == 0:
        return np.full(history.shape[0], np.nan)
    recent = history[:, history.shape[1] - n_buckets * bucket :].reshape(history.shape[0], n_buckets, bucket)
    observed = (~np.isnan(recent)).sum(axis=2)
    means = np.full(observed.shape, np.nan)
    np.divide(np.nansum(recent, axis=2), observed, out=means, where=observed > 0)
    return exponential_smoothing(means, alpha)


def intermittency_features(history: np.ndarray, scale: np.ndarray) -> dict:
    """What characterises intermittent demand at the origin: how often a series sells (ADI, share of
    zero periods, sales among the last few), how much when it does, Croston/SBA and ADIDA/IMAPA-style
    smoothed rates, and recent medians (the target of an L1 loss), all relative to ``scale``."""
    n_series, n_periods = history.shape
    observed = ~np.isnan(history)
    sold = np.nan_to_num(history, nan=0.0) > 0
    n_observed = observed.sum(axis=1)
    n_sold = sold.sum(axis=1)
    features = {}
    features["adi"] = np.where(n_sold > 0, n_observed / np.maximum(n_sold, 1), np.nan)
    features["zero_share_all"] = np.where(n_observed > 0, 1.0 - n_sold / np.maximum(n_observed, 1), np.nan)
    for window in (4, 8):
        features[f"sold_last_{window}"] = sold[:, -window:].sum(axis=1).astype(np.float64)
    sizes = np.where(sold, history, np.nan)
    size_mean = np.full(n_series, np.nan)
    np.divide(np.nansum(sizes, axis=1), n_sold, out=size_mean, where=n_sold > 0)
    features["size_mean"] = size_mean / scale
    for window in (4, 8, 13):
        recent = history[:, -window:]
        median = np.full(n_series, np.nan)
        has = (~np.isnan(recent)).any(axis=1)
        median[has] = np.nanmedian(recent[has], axis=1)
        features[f"median_{window}"] = median / scale
    for alpha in (0.1, 0.3):
        features[f"ses_{alpha}"] = exponential_smoothing(history, alpha) / scale
    # Croston with the SBA correction: smoothed size over smoothed interval between sales.
    size_level = exponential_smoothing(sizes, 0.1)
    last_sale = np.full(n_series, -1)
    intervals = np.full((n_series, n_periods), np.nan)
    for t in range(n_periods):
        first = np.flatnonzero(observed[:, t] & (last_sale < 0) & sold[:, t])
        since = np.flatnonzero(sold[:, t] & (last_sale >= 0))
        intervals[since, t] = t - last_sale[since]
        intervals[first, t] = (t + 1 - np.argmax(observed[first], axis=1)).astype(np.float64)
        last_sale = np.where(sold[:, t], t, last_sale)
    interval_level = exponential_smoothing(intervals, 0.1)
    croston = np.full(n_series, np.nan)
    np.divide(size_level, interval_level, out=croston, where=np.nan_to_num(interval_level) > 0)
    features["croston_sba"] = 0.95 * croston / scale
    rates = []
    for bucket in (1, 2, 4, 8):
        rate = aggregated_rate(history, bucket, 0.2) / scale
        features[f"adida_{bucket}"] = rate
        rates.append(rate)
    # IMAPA: the mean of the aggregated rates over buckets up to the series' ADI.
    rates = np.column_stack(rates)
    usable = np.array([1, 2, 4, 8])[None, :] <= np.maximum(np.nan_to_num(features["adi"], nan=1.0), 1.0)[:, None]
    usable &= ~np.isnan(rates)
    counts = usable.sum(axis=1)
    imapa = np.full(n_series, np.nan)
    np.divide(np.where(usable, rates, 0.0).sum(axis=1), counts, out=imapa, where=counts > 0)
    features["imapa"] = imapa
    naive = naive_scale(history)
    features["naive_mae"] = naive / scale
    return features


def origin_features(
    history: np.ndarray, *, lags: int, windows: tuple[int, ...], scale: np.ndarray, intermittent: bool = False
) -> dict:
    """Features of each series' history at one origin; ``history`` is (S, o). ``intermittent`` adds
    ``intermittency_features``."""
    n_series, n_periods = history.shape
    features = {}
    for lag in range(1, lags + 1):
        features[f"lag_{lag}"] = history[:, n_periods - lag] / scale if lag <= n_periods else np.full(n_series, np.nan)
    for window in windows:
        features[f"mean_{window}"] = window_mean(history, window) / scale
    recent = history[:, -max(windows) :]
    observed = ~np.isnan(recent)
    counts = np.maximum(observed.sum(axis=1), 1)
    features["zero_share"] = ((recent == 0) & observed).sum(axis=1) / counts
    mean = window_mean(recent, recent.shape[1])
    spread = np.where(observed, (recent - mean[:, None]) ** 2, 0.0).sum(axis=1) / counts
    features["std"] = np.sqrt(spread) / scale
    sold = np.where(np.nan_to_num(history, nan=0.0) > 0, np.arange(n_periods), -1).max(axis=1)
    features["periods_since_sale"] = np.where(sold >= 0, n_periods - sold, np.nan)
    launched = ~np.isnan(history)
    features["age"] = launched.sum(axis=1).astype(np.float64)
    features["log_scale"] = np.log1p(scale)
    if intermittent:
        features.update(intermittency_features(history, scale))
    return features


def target_features(panel: DemandPanel, origin: int, horizon: int, scale: np.ndarray) -> dict:
    """Features of the target period ``origin + horizon − 1``: calendar, horizon, covariates, last season."""
    target = origin + horizon - 1
    n_series = panel.n_series
    period_start = panel.future_periods(target - panel.n_periods + 1)[-1] if target >= len(panel.periods) else panel.periods[target]
    features = {
        "horizon": np.full(n_series, float(horizon)),
        "season_position": np.full(n_series, float(_season_position(period_start, panel.freq))),
    }
    season = panel.season_length
    same_period_last_season = target - season
    if 0 <= same_period_last_season < origin:
        features["last_season"] = panel.demand[:, same_period_last_season] / scale
    else:
        features["last_season"] = np.full(n_series, np.nan)
    # Last season's move from the origin to the target period, relative to the level then: the
    # seasonal shape without last year's level, for the series and (less noisy) for all series summed.
    base_end = origin - season
    if base_end >= 3 and 0 <= same_period_last_season < origin:
        total = np.nansum(panel.demand[:, :origin], axis=0)[None, :]  # (1, o)
        for name, values in (("season_shape", panel.demand[:, :origin]), ("season_shape_all", total)):
            base = window_mean(values[:, :base_end], 3)
            shape = np.full(values.shape[0], np.nan)
            np.divide(values[:, same_period_last_season], base, out=shape, where=np.nan_to_num(base) > 0)
            features[name] = np.broadcast_to(shape, (n_series,)).copy()
    else:
        features["season_shape"] = np.full(n_series, np.nan)
        features["season_shape_all"] = np.full(n_series, np.nan)
    for name, values in panel.covariates.items():
        at_origin = values[:, origin - 1]
        # An observed-only covariate (a realized price) is not known past the origin, so every
        # example reads it there. Reading a training example's realized target-period value taught
        # the model that a price change means a sale, a signal forecasts never have (they see the
        # carried price): online-retail validation MASE 1.326 -> 1.304.
        at_target = at_origin if name in panel.observed_only else values[:, target]
        history_mean = window_mean(values[:, :origin], 12)
        features[f"{name}"] = at_target
        features[f"{name}_change"] = at_target - at_origin
        relative = np.full(n_series, np.nan)
        np.divide(at_target, history_mean, out=relative, where=np.abs(np.nan_to_num(history_mean)) > 0)
        features[f"{name}_relative"] = relative
    return features


def _season_position(period_start, freq: str) -> int:
    if freq == "M":
        return period_start.month
    if freq == "W":
        return int(period_start.isocalendar().week)
    return period_start.dayofweek


def feature_matrix(
    panel: DemandPanel,
    origin: int,
    horizons: range,
    *,
    lags: int,
    windows: tuple[int, ...],
    scale_window: int,
    intermittent: bool = False,
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Rows for every series × horizon at one origin: ``(S·H, F)`` features, names, and the (S,) scale."""
    history = panel.demand[:, :origin]
    scale = series_scale(history, scale_window)
    shared = origin_features(history, lags=lags, windows=windows, scale=scale, intermittent=intermittent)
    blocks = []
    names: list[str] = []
    for horizon in horizons:
        columns = {**shared, **target_features(panel, origin, horizon, scale)}
        names = list(columns)
        blocks.append(np.column_stack([columns[name] for name in names]))
    return np.vstack(blocks), names, scale
