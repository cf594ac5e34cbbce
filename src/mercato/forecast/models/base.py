"""The contract every forecaster follows, and the shape of a forecast.

A forecaster is configured by keyword arguments stored as given (scikit-learn style),
``fit(panel)`` learns from a ``DemandPanel`` and returns ``self``, and ``predict(horizon)``
returns a ``(S, H)`` array of point forecasts (the median where the model has a choice)
for the ``horizon`` periods after the panel's last one, one row per series, never NaN and
never negative. A series with no sales yet gets zeros: the defined cold-start answer.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from typing import Self

import numpy as np

from mercato.errors import InvalidInput, NotReady
from mercato.forecast.series import DemandPanel


class Forecaster(ABC):
    name: str = "forecaster"
    #: True when predict needs the covariates for the forecast periods (known-future values).
    needs_future_covariates: bool = False

    def get_params(self) -> dict:
        parameters = inspect.signature(type(self).__init__).parameters.values()
        named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        return {p.name: getattr(self, p.name) for p in parameters if p.kind in named and p.name != "self"}

    def clone(self) -> Self:
        """A fresh, unfitted forecaster with the same hyper-parameters."""
        return type(self)(**self.get_params())

    def fit(self, panel: DemandPanel) -> Self:
        if panel.n_periods < 1:
            raise InvalidInput(f"{self.name} needs at least one period of demand to fit")
        self.panel_ = panel
        self._fit(panel)
        return self

    def predict(self, horizon: int) -> np.ndarray:
        if not hasattr(self, "panel_"):
            raise NotReady(f"this {self.name} forecaster is not fitted yet; call 'fit' with a DemandPanel first")
        if not isinstance(horizon, int) or horizon < 1:
            raise InvalidInput(f"horizon must be a positive number of periods, got {horizon!r}")
        if self.needs_future_covariates and not self.panel_.covariates_cover(horizon):
            known = len(self.panel_.periods) - self.panel_.n_periods
            raise InvalidInput(
                f"{self.name} uses covariates {sorted(self.panel_.covariates)} and needs their values for the "
                f"{horizon} forecast periods; the panel has {known}. Give the planned values, or extend them "
                "with DemandPanel.with_carried_covariates"
            )
        forecast = np.asarray(self._predict(horizon), dtype=np.float64)  # (S, H)
        return np.clip(np.nan_to_num(forecast, nan=0.0), 0.0, None)

    def _fit(self, panel: DemandPanel) -> None:
        """Learn from ``panel``; the default keeps nothing beyond the panel itself."""

    @abstractmethod
    def _predict(self, horizon: int) -> np.ndarray: ...


def last_observed(demand: np.ndarray) -> np.ndarray:
    """(S,) the last period's demand; 0 for a series with no sales yet."""
    return np.nan_to_num(demand[:, -1], nan=0.0)
