"""Rolling-origin backtests: refit at each origin, forecast, score against what happened.

For a test window of the last ``test_periods`` periods, the origins are each of those
periods in turn; from origin ``o`` the model (fitted on ``demand[:, :o]`` only, with
covariates known up to ``o + horizon``) forecasts horizons 1..``horizon`` that fall inside
the data. So each test period is forecast from several origins at several lead times, as
a shop re-planning every period would see it (Tashman 2000, "out-of-sample tests").

Series not launched at an origin are left out from it: every model gives them the same
cold-start zero. MASE divides by the in-sample naive MAE at each origin (seasonal when
the history allows ``season_length + 1`` periods).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from mercato.forecast import metrics
from mercato.forecast.intervals import QUANTILES, ConformalForecaster
from mercato.forecast.models.base import Forecaster
from mercato.forecast.series import DemandPanel


def _silent(_: str) -> None:
    pass


def backtest(
    panel: DemandPanel,
    forecaster: Forecaster,
    *,
    horizon: int,
    test_periods: int,
    mase_season: int | None = None,
    calibrate_median: bool = False,
    progress: Callable[[str], None] = _silent,
) -> dict:
    """Scores of ``forecaster`` over a rolling-origin backtest; see the module docstring.

    Returns ``{"model", "params", "metrics": {...}, "per_horizon": {...}, "per_series": {...}, "fit_s"}``.
    """
    season = mase_season if mase_season is not None else panel.season_length
    actuals, quantiles, scales, series_rows = [], {q: [] for q in QUANTILES}, [], []
    started = time.perf_counter()
    for origin in range(panel.n_periods - test_periods, panel.n_periods):
        steps = min(horizon, panel.n_periods - origin)
        model = ConformalForecaster(forecaster.clone(), horizon=horizon, calibrate_median=calibrate_median)
        model.fit(panel.truncate(origin, horizon).with_carried_covariates(horizon))
        forecast = model.predict(horizon)
        launched = ~np.isnan(panel.demand[:, origin - 1])
        actual = np.full((panel.n_series, horizon), np.nan)
        actual[:, :steps] = panel.demand[:, origin : origin + steps]
        history = panel.demand[:, :origin]
        scale = metrics.naive_scale(history, season if origin > season + 1 else 1)
        actuals.append(actual[launched])
        scales.append(scale[launched])
        series_rows.append(np.flatnonzero(launched))
        for q in QUANTILES:
            quantiles[q].append(forecast.quantiles[q][launched])
        progress(f"  {forecaster.name}: origin {origin}/{panel.n_periods} done ({time.perf_counter() - started:.0f} s)")
    actual = np.vstack(actuals)  # (rows, H): one row per (origin, launched series)
    scale = np.concatenate(scales)
    stacked = {q: np.vstack(values) for q, values in quantiles.items()}
    report = {
        "model": forecaster.name,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in forecaster.get_params().items()},
        "horizon": horizon,
        "test_periods": test_periods,
        "mase_season": season,
        "metrics": score(actual, stacked, scale),
        "per_horizon": {
            str(step + 1): score(actual[:, step : step + 1], {q: v[:, step : step + 1] for q, v in stacked.items()}, scale)
            for step in range(horizon)
        },
        "per_series": _per_series(panel, np.concatenate(series_rows), actual, stacked[0.5], scale),
        "backtest_s": round(time.perf_counter() - started, 2),
    }
    return report


def score(actual: np.ndarray, quantiles: dict[float, np.ndarray], scale: np.ndarray) -> dict:
    median = quantiles[0.5]
    return {
        "mase": round(metrics.mase(actual, median, scale), 4),
        "wape": round(metrics.wape(actual, median), 4),
        "bias": round(metrics.bias(actual, median), 4),
        **{f"pinball_p{round(q * 100)}": round(metrics.pinball(actual, v, q), 4) for q, v in quantiles.items()},
        "coverage_p10_p90": round(metrics.coverage(actual, quantiles[0.1], quantiles[0.9]), 4),
        "n_forecasts": int((~np.isnan(actual)).sum()),
    }


def _per_series(panel: DemandPanel, rows: np.ndarray, actual: np.ndarray, median: np.ndarray, scale: np.ndarray) -> dict:
    """MASE and WAPE per series over all its origins (MASE: mean of its per-origin values)."""
    per_origin = metrics.mase_per_series(actual, median, scale)
    result = {}
    for row in np.unique(rows):
        mine = rows == row
        values = per_origin[mine]
        values = values[~np.isnan(values)]
        result[str(panel.series_ids[row])] = {
            "mase": round(float(values.mean()), 4) if values.size else None,
            "wape": round(metrics.wape(actual[mine], median[mine]), 4),
        }
    return result
