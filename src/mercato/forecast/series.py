"""Demand series: one row per SKU, one column per period, built from the event log.

A ``DemandPanel`` holds every series on one shared period grid as a dense ``(S, T)`` array,
which is what makes fitting thousands of SKUs a handful of vectorized numpy operations:

- demand is purchases minus returns per SKU per period, floored at zero (a week with more
  returns than sales sold nothing; it does not create negative future demand);
- a series starts at its SKU's first sale: the periods before it are NaN ("not launched"),
  not zeros, so a new SKU's short history is not read as months of no demand;
- after the first sale every period is zero-filled, so a discontinued SKU keeps its
  trailing zeros and models see it fade;
- only complete periods are kept: a week cut in half by the end of the data would read as a
  collapse in demand.

Covariates are arrays of shape ``(S, T_cov)`` with ``T_cov >= T``: the columns beyond ``T``
are known future values (planned prices, discounts, holidays) for the periods after the
last observed one. ``truncate`` cuts the demand at an origin and keeps the covariates for
the following ``horizon`` periods, which is all a backtest needs to stay honest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput

# Frequency name -> (pandas period alias, season length used by seasonal models and MASE).
FREQUENCIES: dict[str, tuple[str, int]] = {"D": ("D", 7), "W": ("W-SUN", 52), "M": ("M", 12)}


@dataclass
class DemandPanel:
    series_ids: np.ndarray  # (S,) object: SKU or agency×SKU ids
    periods: pd.DatetimeIndex  # (T_cov,) period start times; the first T are observed
    freq: str  # a key of FREQUENCIES
    demand: np.ndarray  # (S, T) float64, NaN before a series' first sale
    covariates: dict[str, np.ndarray] = field(default_factory=dict)  # name -> (S, T_cov)
    # Covariates only observed, never planned (a price realized by the sales themselves): cut at
    # an origin, they are carried forward, since their later values would leak the demand.
    observed_only: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.freq not in FREQUENCIES:
            raise InvalidInput(f"unknown frequency {self.freq!r}; choose one of {sorted(FREQUENCIES)}")
        n_series, n_periods = self.demand.shape
        if len(self.series_ids) != n_series:
            raise InvalidInput(f"{len(self.series_ids)} series ids for {n_series} demand rows")
        if len(self.periods) < n_periods:
            raise InvalidInput(f"{len(self.periods)} periods for {n_periods} demand columns")
        for name, values in self.covariates.items():
            if values.shape != (n_series, len(self.periods)):
                raise InvalidInput(
                    f"covariate {name!r} has shape {values.shape}; expected {(n_series, len(self.periods))}"
                )

    @property
    def n_series(self) -> int:
        return self.demand.shape[0]

    @property
    def n_periods(self) -> int:
        return self.demand.shape[1]

    @property
    def season_length(self) -> int:
        return FREQUENCIES[self.freq][1]

    @property
    def first_observed(self) -> np.ndarray:
        """(S,) index of each series' first non-NaN period; ``n_periods`` for a series never sold."""
        observed = ~np.isnan(self.demand)
        return np.where(observed.any(axis=1), observed.argmax(axis=1), self.n_periods)

    def future_periods(self, horizon: int) -> pd.DatetimeIndex:
        """Start times of the ``horizon`` periods after the last observed one."""
        alias = FREQUENCIES[self.freq][0]
        last = pd.Period(self.periods[self.n_periods - 1], freq=alias)
        return pd.DatetimeIndex([(last + step).start_time for step in range(1, horizon + 1)])

    def covariates_cover(self, horizon: int) -> bool:
        return len(self.periods) >= self.n_periods + horizon

    def truncate(self, n_periods: int, horizon: int = 0) -> DemandPanel:
        """The first ``n_periods`` of demand, with covariates up to ``horizon`` periods beyond."""
        if not 0 < n_periods <= self.n_periods:
            raise InvalidInput(f"cannot truncate a {self.n_periods}-period panel to {n_periods} periods")
        end = min(n_periods + horizon, len(self.periods))
        covariates = {}
        for name, values in self.covariates.items():
            if name in self.observed_only:
                known = values[:, :n_periods]
                values = np.concatenate([known, np.repeat(known[:, -1:], end - n_periods, axis=1)], axis=1)
            covariates[name] = values[:, :end]
        return DemandPanel(
            series_ids=self.series_ids,
            periods=self.periods[:end],
            freq=self.freq,
            demand=self.demand[:, :n_periods],
            covariates=covariates,
            observed_only=self.observed_only,
        )

    def select(self, series_ids: list[str] | np.ndarray) -> DemandPanel:
        """The named series only, in the given order; an unknown id raises ``InvalidInput``."""
        position = {sid: i for i, sid in enumerate(self.series_ids)}
        missing = [sid for sid in series_ids if sid not in position]
        if missing:
            raise InvalidInput(f"unknown series {missing[:5]}")
        rows = np.array([position[sid] for sid in series_ids], dtype=np.int64)
        return DemandPanel(
            series_ids=self.series_ids[rows],
            periods=self.periods,
            freq=self.freq,
            demand=self.demand[rows],
            covariates={name: values[rows] for name, values in self.covariates.items()},
            observed_only=self.observed_only,
        )

    def with_carried_covariates(self, horizon: int) -> DemandPanel:
        """Extend every covariate ``horizon`` periods past the data by repeating its last known value.

        The plan a shop without a price calendar implicitly has: prices stay where they are.
        """
        extra = self.n_periods + horizon - len(self.periods)
        if extra <= 0:
            return self
        periods = self.periods.append(self.future_periods(horizon)[horizon - extra :])
        covariates = {
            name: np.concatenate([values, np.repeat(values[:, -1:], extra, axis=1)], axis=1)
            for name, values in self.covariates.items()
        }
        return DemandPanel(self.series_ids, periods, self.freq, self.demand, covariates, self.observed_only)


def demand_from_events(
    events: pd.DataFrame,
    *,
    freq: str = "W",
    timezone: str = "UTC",
    until: pd.Timestamp | None = None,
) -> DemandPanel:
    """Net demand per SKU (``item_id``) per period from purchase and return events.

    A purchase counts ``quantity`` units (1 when missing), a return subtracts its quantity.
    The grid runs from the first to the last complete period of the events' time span
    (``until``, exclusive, overrides the span's end: the store's "now"). When purchases carry
    ``attrs["unit_price_minor"]`` the panel has a ``price_minor`` covariate: the
    quantity-weighted unit price per period, carried forward over periods without sales. It is
    realized by the sales themselves, so it is marked ``observed_only``: backtests never see it
    past their origin.
    """
    if freq not in FREQUENCIES:
        raise InvalidInput(f"unknown frequency {freq!r}; choose one of {sorted(FREQUENCIES)}")
    alias = FREQUENCIES[freq][0]
    sales = events[events["type"].isin(["purchase", "return"]) & events["item_id"].notna()]
    if sales.empty:
        raise InvalidInput("no purchase or return events with an item_id to build demand from")
    local = sales["occurred_at"].dt.tz_convert(timezone)
    period = local.dt.tz_localize(None).dt.to_period(alias)
    end_at = (until if until is not None else sales["occurred_at"].max()).tz_convert(timezone).tz_localize(None)
    start_at = local.min().tz_localize(None)
    first_period, last_period = period.min(), period.max()
    # Complete periods only: drop a first period that started before the data did, and a
    # last one that had not ended when the data stops.
    if first_period.start_time < start_at.normalize():
        first_period += 1
    if last_period.end_time >= end_at:
        last_period -= 1
    if last_period < first_period:
        raise InvalidInput(f"the events span less than one complete {freq} period")
    grid = pd.period_range(first_period, last_period, freq=alias)

    ordinal = pd.PeriodIndex(period).asi8 - first_period.ordinal  # period offset from the grid start
    in_grid = (ordinal >= 0) & (ordinal < len(grid))
    sales, ordinal = sales[in_grid], ordinal[in_grid]
    series_ids, series_index = np.unique(sales["item_id"].to_numpy(dtype=str), return_inverse=True)
    quantity = sales["quantity"].astype("float64").fillna(1.0).to_numpy()
    is_purchase = sales["type"].to_numpy() == "purchase"

    shape = (len(series_ids), len(grid))
    net = np.zeros(shape)
    np.add.at(net, (series_index, ordinal), np.where(is_purchase, quantity, -quantity))
    purchased = np.zeros(shape)
    np.add.at(purchased, (series_index[is_purchase], ordinal[is_purchase]), quantity[is_purchase])

    launched = np.cumsum(purchased > 0, axis=1) > 0
    demand = np.where(launched, np.maximum(net, 0.0), np.nan)
    covariates = {}
    attrs = sales["attrs"].to_numpy()[is_purchase]
    price = _weighted_price(attrs, series_index[is_purchase], ordinal[is_purchase], quantity[is_purchase], shape)
    if price is not None:
        covariates["price_minor"] = price
    periods = pd.DatetimeIndex([p.start_time for p in grid])
    return DemandPanel(series_ids.astype(object), periods, freq, demand, covariates, frozenset(covariates))


def _weighted_price(
    attrs: np.ndarray, rows: np.ndarray, cols: np.ndarray, quantity: np.ndarray, shape: tuple[int, int]
) -> np.ndarray | None:
    unit_price = np.array(
        [a.get("unit_price_minor", np.nan) if isinstance(a, dict) else np.nan for a in attrs], dtype=np.float64
    )
    known = ~np.isnan(unit_price)
    if not known.any():
        return None
    revenue = np.zeros(shape)
    priced_units = np.zeros(shape)
    np.add.at(revenue, (rows[known], cols[known]), unit_price[known] * quantity[known])
    np.add.at(priced_units, (rows[known], cols[known]), quantity[known])
    price = np.full(shape, np.nan)
    np.divide(revenue, priced_units, out=price, where=priced_units > 0)
    return carry_forward(price)


def carry_forward(values: np.ndarray) -> np.ndarray:
    """Fill each NaN with the last non-NaN value to its left in the same row (leading NaNs stay)."""
    index = np.where(~np.isnan(values), np.arange(values.shape[1]), 0)
    np.maximum.accumulate(index, axis=1, out=index)
    filled = np.take_along_axis(values, index, axis=1)
    return filled
