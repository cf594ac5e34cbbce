"""A global LightGBM model over all series: the approach that won the M5 competition.

One model learns from every (series, origin, horizon) example of the panel — direct
multi-horizon forecasting, with the horizon as a feature — so a SKU with ten weeks of
history borrows the shape of demand from thousands of others. Features are in
``mercato.forecast.features``; known-future covariates enter at the target period.

The target is demand divided by the series' recent mean. With ``loss="l1"`` the model
learns the conditional median (the point forecast that minimizes MASE/WAPE); with
``"tweedie"`` the mean, the M5 winners' choice for intermittent sales. ``weighting``
says whose errors count: ``"volume"`` weights each example by its series' scale, so the
loss is the absolute error in units (WAPE); ``"equal"`` gives every series the same say
(closer to MASE, which averages series); ``"mase"`` weights each example by its
series' scale over its in-sample naive error, so the loss is exactly a sum of MASE terms.
``features="intermittent"`` adds what characterises intermittent demand (ADI, share of
zero periods, recent medians, Croston/SBA and ADIDA/IMAPA-style smoothed rates); with
``ensemble`` > 0 the forecast is that share IMAPA (statsforecast) and the rest the booster.
"""

from __future__ import annotations

import numpy as np

from mercato.errors import InvalidInput
from mercato.forecast.features import feature_matrix
from mercato.forecast.metrics import naive_scale
from mercato.forecast.models.base import Forecaster
from mercato.forecast.models.statistical import StatisticalForecaster
from mercato.forecast.series import DemandPanel

WEIGHTINGS = ("volume", "equal", "mase")
FEATURE_SETS = ("basic", "intermittent")
LOSSES = {"l1": {"objective": "l1"}, "tweedie": {"objective": "tweedie", "tweedie_variance_power": 1.2}}


class GlobalBoostedForecaster(Forecaster):
    name = "lightgbm"
    needs_future_covariates = True

    def __init__(
        self,
        max_horizon: int = 6,
        lags: int = 12,
        windows: tuple[int, ...] = (3, 6, 12),
        scale_window: int = 12,
        loss: str = "tweedie",
        weighting: str = "volume",
        max_origins: int = 48,
        features: str = "basic",
        ensemble: float = 0.0,
        n_estimators: int = 150,
        learning_rate: float = 0.1,
        num_leaves: int = 31,
        min_child_samples: int = 40,
        n_threads: int = 1,
        seed: int = 0,
    ):
        self.max_horizon = max_horizon
        self.lags = lags
        self.windows = tuple(windows)
        self.scale_window = scale_window
        self.loss = loss
        self.weighting = weighting
        self.max_origins = max_origins
        self.features = features
        self.ensemble = ensemble
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.n_threads = n_threads
        self.seed = seed
        if loss not in LOSSES:
            raise InvalidInput(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
        if weighting not in WEIGHTINGS:
            raise InvalidInput(f"unknown weighting {weighting!r}; choose one of {WEIGHTINGS}")
        if features not in FEATURE_SETS:
            raise InvalidInput(f"unknown feature set {features!r}; choose one of {FEATURE_SETS}")
        if not 0.0 <= ensemble <= 1.0:
            raise InvalidInput(f"ensemble is the weight of IMAPA in the forecast, between 0 and 1; got {ensemble}")

    def _rows(self, panel: DemandPanel, origin: int, horizons: range):
        return feature_matrix(
            panel,
            origin,
            horizons,
            lags=self.lags,
            windows=self.windows,
            scale_window=self.scale_window,
            intermittent=self.features == "intermittent",
        )

    def training_rows(self, panel: DemandPanel) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Every (series, origin, horizon) example of ``panel``: features, scaled targets, weights, names."""
        features, targets, weights = [], [], []
        first_origin = max(2, panel.n_periods - self.max_origins)
        for origin in range(first_origin, panel.n_periods):
            horizons = range(1, min(self.max_horizon, panel.n_periods - origin) + 1)
            rows, names, scale = self._rows(panel, origin, horizons)
            target = np.concatenate([panel.demand[:, origin + h - 1] for h in horizons])  # (S·H,)
            scale_rows = np.tile(scale, len(horizons))
            launched = np.tile(~np.isnan(panel.demand[:, origin - 1]), len(horizons))
            keep = launched & ~np.isnan(target)
            features.append(rows[keep])
            targets.append(target[keep] / scale_rows[keep])
            weights.append(self._weights(panel.demand[:, :origin], scale, len(horizons))[keep])
        if not features or sum(len(t) for t in targets) == 0:
            raise InvalidInput("the panel is too short to train the global model: it needs at least 3 periods")
        return np.vstack(features), np.concatenate(targets), np.concatenate(weights), names

    def _weights(self, history: np.ndarray, scale: np.ndarray, n_horizons: int) -> np.ndarray:
        """(S·H,) example weights; the loss is on demand divided by ``scale``."""
        if self.weighting == "volume":
            weight = scale
        elif self.weighting == "mase":
            # Absolute error in units over the naive in-sample MAE: each example's MASE term.
            naive = naive_scale(history)
            weight = np.ones_like(scale)
            np.divide(scale, naive, out=weight, where=naive > 0)
            weight = np.clip(weight, 0.0, 10.0)
        else:
            weight = np.ones_like(scale)
        return np.tile(weight, n_horizons)

    def _fit(self, panel: DemandPanel) -> None:
        import lightgbm

        self.needs_future_covariates = bool(panel.covariates)
        features, targets, weights, self.feature_names_ = self.training_rows(panel)
        params = {
            **LOSSES[self.loss],
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.8,
            "num_threads": self.n_threads,
            "seed": self.seed,
            "deterministic": True,
            "verbose": -1,
        }
        dataset = lightgbm.Dataset(features, targets, weight=weights, feature_name=self.feature_names_)
        self.booster_ = lightgbm.train(params, dataset, num_boost_round=self.n_estimators)
        if self.ensemble > 0:
            self.imapa_ = StatisticalForecaster(kind="imapa").fit(panel)

    def _predict(self, horizon: int) -> np.ndarray:
        panel = self.panel_
        rows, _, scale = self._rows(panel, panel.n_periods, range(1, horizon + 1))
        scaled = self.booster_.predict(rows, num_threads=self.n_threads).reshape(horizon, panel.n_series)  # (H, S)
        forecast = (scaled * scale[None, :]).T  # (S, H)
        never_sold = np.isnan(panel.demand).all(axis=1)
        forecast[never_sold] = 0.0
        if self.ensemble > 0:
            forecast = (1.0 - self.ensemble) * np.clip(forecast, 0.0, None) + self.ensemble * self.imapa_.predict(horizon)
        return forecast
