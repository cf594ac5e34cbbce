"""P10/P50/P90 for any forecaster by split conformal prediction over the most recent periods.

Before the final fit, the forecaster is fitted once more on the panel minus its last
``horizon`` periods and asked to forecast them. The errors it makes there, divided by each
series' recent mean demand so that big and small SKUs can be pooled, give one empirical
error distribution per horizon step; its 10th and 90th percentiles, scaled back per
series, bound the final forecast (Vovk et al. 2005; Stankeviciute et al. 2021 for
multi-step series). With ``calibrate_median`` the P50 is moved by the median error too:
a mean forecast (Tweedie) of intermittent demand then becomes a median one, which is
what MASE and WAPE reward. The band is honest about the model actually used, costs one extra fit,
and needs no distributional assumption, which intermittent demand would break. Quantiles
are floored at zero (no negative demand) and kept in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.forecast.features import series_scale
from mercato.forecast.models.base import Forecaster
from mercato.forecast.series import DemandPanel

QUANTILES = (0.1, 0.5, 0.9)


@dataclass
class Forecast:
    """Quantile forecasts for every series of a panel over the periods after its last one."""

    model: str
    series_ids: np.ndarray  # (S,)
    periods: pd.DatetimeIndex  # (H,) start of each forecast period
    quantiles: dict[float, np.ndarray]  # q -> (S, H)

    @property
    def median(self) -> np.ndarray:
        return self.quantiles[0.5]

    def to_frame(self) -> pd.DataFrame:
        """Long frame: series_id, period_start, p10, p50, p90."""
        n_series, horizon = self.median.shape
        frame = pd.DataFrame(
            {
                "series_id": np.repeat(self.series_ids, horizon),
                "period_start": np.tile(self.periods, n_series),
            }
        )
        for q, values in self.quantiles.items():
            frame[f"p{round(q * 100)}"] = values.reshape(-1)
        return frame


class ConformalForecaster:
    """Wraps a point forecaster: ``fit`` calibrates and fits, ``predict`` returns a ``Forecast``."""

    def __init__(self, forecaster: Forecaster, horizon: int, scale_window: int = 12, calibrate_median: bool = False):
        if horizon < 1:
            raise InvalidInput(f"horizon must be at least 1, got {horizon}")
        self.forecaster = forecaster
        self.horizon = horizon
        self.scale_window = scale_window
        self.calibrate_median = calibrate_median

    @property
    def name(self) -> str:
        return self.forecaster.name

    def fit(self, panel: DemandPanel) -> ConformalForecaster:
        self.error_quantiles_ = self._calibrate(panel)  # (n_quantiles, H)
        self.forecaster.fit(panel)
        self.panel_ = panel
        return self

    def _calibrate(self, panel: DemandPanel) -> np.ndarray:
        horizon = min(self.horizon, panel.n_periods - 2)
        if horizon < 1:
            raise InvalidInput(f"{panel.n_periods} periods are too few to calibrate intervals; give at least 3")
        cut = panel.n_periods - horizon
        held_out = panel.truncate(cut, horizon)
        point = self.forecaster.clone().fit(held_out).predict(horizon)  # (S, h)
        actual = panel.demand[:, cut : cut + horizon]
        scale = series_scale(panel.demand[:, :cut], self.scale_window)
        errors = (actual - point) / scale[:, None]  # (S, h), NaN where not launched
        launched = ~np.isnan(panel.demand[:, cut - 1])
        quantiles = np.zeros((len(QUANTILES), self.horizon))
        for step in range(self.horizon):
            column = errors[launched, min(step, horizon - 1)]
            column = column[~np.isnan(column)]
            if column.size:
                quantiles[:, step] = np.quantile(column, QUANTILES)
        if not self.calibrate_median:
            # The point forecast is taken as the median; only the outer quantiles use errors.
            quantiles[QUANTILES.index(0.5)] = 0.0
        return quantiles

    def predict(self, horizon: int | None = None) -> Forecast:
        horizon = horizon or self.horizon
        point = self.forecaster.predict(horizon)  # (S, H)
        scale = series_scale(self.panel_.demand, self.scale_window)
        steps = np.minimum(np.arange(horizon), self.horizon - 1)
        bands = {}
        for i, q in enumerate(QUANTILES):
            bands[q] = np.clip(point + self.error_quantiles_[i, steps][None, :] * scale[:, None], 0.0, None)
        if not self.calibrate_median:
            bands[0.5] = point
        point = bands[0.5]
        bands[QUANTILES[0]] = np.minimum(bands[QUANTILES[0]], point)
        bands[QUANTILES[-1]] = np.maximum(bands[QUANTILES[-1]], point)
        never_sold = np.isnan(self.panel_.demand).all(axis=1)
        for values in bands.values():
            values[never_sold] = 0.0
        return Forecast(self.name, self.panel_.series_ids, self.panel_.future_periods(horizon), bands)
