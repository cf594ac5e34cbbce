"""Statistical models from Nixtla's statsforecast, fitted per series, behind the forecaster contract.

AutoETS and AutoARIMA (seasonal where the history holds two full seasons), and the
intermittent-demand family for SKUs that sell in some periods and not others: Croston
(optimized and SBA), TSB and the aggregation methods ADIDA and IMAPA (Syntetos & Boylan
2005; Teunter, Syntetos & Babai 2011; Kourentzes et al. 2014). statsforecast compiles
its kernels with numba on first use, so the first fit in a process is slow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.forecast.models.base import Forecaster


def _build(kind: str, season_length: int):
    from statsforecast import models

    builders = {
        "auto_ets": lambda: models.AutoETS(season_length=season_length),
        "auto_arima": lambda: models.AutoARIMA(season_length=season_length),
        "croston": lambda: models.CrostonOptimized(),
        "croston_sba": lambda: models.CrostonSBA(),
        "tsb": lambda: models.TSB(alpha_d=0.1, alpha_p=0.1),
        "adida": lambda: models.ADIDA(),
        "imapa": lambda: models.IMAPA(),
    }
    if kind not in builders:
        raise InvalidInput(f"unknown statistical model {kind!r}; choose one of {sorted(builders)}")
    return builders[kind]()


STATISTICAL_KINDS = ("auto_ets", "auto_arima", "croston", "croston_sba", "tsb", "adida", "imapa")
INTERMITTENT_KINDS = ("croston", "croston_sba", "tsb", "adida", "imapa")


class StatisticalForecaster(Forecaster):
    """One statsforecast model (``kind``) fitted to every series that has sold.

    ``season_length`` defaults to the panel's (12 monthly, 52 weekly) and is reduced to 1
    when the history is shorter than two seasons, as AutoETS/AutoARIMA cannot estimate a
    seasonal component from less.
    """

    def __init__(self, kind: str = "auto_ets", season_length: int | None = None):
        self.kind = kind
        self.season_length = season_length
        if kind not in STATISTICAL_KINDS:
            raise InvalidInput(f"unknown statistical model {kind!r}; choose one of {list(STATISTICAL_KINDS)}")

    @property
    def name(self) -> str:
        return self.kind

    def _predict(self, horizon: int) -> np.ndarray:
        from statsforecast import StatsForecast
        from statsforecast.models import Naive

        panel = self.panel_
        season = self.season_length or panel.season_length
        if panel.n_periods < 2 * season:
            season = 1
        rows, cols = np.nonzero(~np.isnan(panel.demand))
        forecast = np.zeros((panel.n_series, horizon))
        if rows.size == 0:
            return forecast
        long = pd.DataFrame(
            {
                "unique_id": rows,
                "ds": cols + 1,  # integer time index: statsforecast then needs no calendar
                "y": panel.demand[rows, cols],
            }
        )
        engine = StatsForecast(models=[_build(self.kind, season)], freq=1, n_jobs=1, fallback_model=Naive())
        result = engine.forecast(h=horizon, df=long)
        values = result.drop(columns=["unique_id", "ds"]).iloc[:, 0].to_numpy(dtype=np.float64)
        series = result["unique_id"].to_numpy(dtype=np.int64)
        step = result["ds"].to_numpy(dtype=np.int64) - panel.n_periods - 1
        forecast[series, step] = values
        return forecast
