"""The floors every other model must beat: naive, seasonal naive and a moving average.

They are exact, fast (pure numpy over the whole panel) and always shipped, so a backtest
can say how much a fancier model buys.
"""

from __future__ import annotations

import numpy as np

from mercato.errors import InvalidInput
from mercato.forecast.models.base import Forecaster, last_observed


class NaiveForecaster(Forecaster):
    """Every future period repeats the last observed one."""

    name = "naive"

    def _predict(self, horizon: int) -> np.ndarray:
        return np.repeat(last_observed(self.panel_.demand)[:, None], horizon, axis=1)


class SeasonalNaiveForecaster(Forecaster):
    """Period ``T + h`` repeats period ``T + h − m`` of the last full season (``m`` = season length).

    A series with less than one season of history falls back to naive, which is all that
    can be said about it.
    """

    name = "seasonal_naive"

    def __init__(self, season_length: int | None = None):
        self.season_length = season_length

    def _predict(self, horizon: int) -> np.ndarray:
        demand = self.panel_.demand
        season = self.season_length or self.panel_.season_length
        if season < 1:
            raise InvalidInput(f"season_length must be at least 1, got {season}")
        naive = np.repeat(last_observed(demand)[:, None], horizon, axis=1)
        if demand.shape[1] < season:
            return naive
        last_season = demand[:, demand.shape[1] - season :]  # (S, m)
        steps = np.arange(horizon) % season
        seasonal = last_season[:, steps]  # (S, H)
        return np.where(np.isnan(seasonal), naive, seasonal)


class MovingAverageForecaster(Forecaster):
    """The mean of the last ``window`` observed periods, flat over the horizon."""

    name = "moving_average"

    def __init__(self, window: int = 4):
        self.window = window

    def _predict(self, horizon: int) -> np.ndarray:
        recent = self.panel_.demand[:, -self.window :]
        counts = (~np.isnan(recent)).sum(axis=1)
        mean = np.zeros(recent.shape[0])
        np.divide(np.nansum(recent, axis=1), counts, out=mean, where=counts > 0)
        return np.repeat(mean[:, None], horizon, axis=1)
