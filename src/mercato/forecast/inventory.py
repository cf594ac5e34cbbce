"""Inventory advice from a quantile forecast: safety stock and reorder point per SKU.

The textbook continuous-review policy (Silver, Pyke & Thomas, "Inventory and Production
Management", ch. 6) with a cycle service level ``service_level`` (the probability of not
running out before a replenishment arrives):

- lead-time demand ``μ_L`` = the sum of the median forecasts over the ``lead_time`` periods;
- its spread ``σ_L`` = sqrt(Σ σ_h² + (d̄ · σ_LT)²), where σ_h is read off each period's P10–P90
  band as (P90 − P10) / (2 · z₀.₉) — the normal band that would have the same width —,
  periods are taken as independent, d̄ is the mean demand per period over the lead time,
  and σ_LT the standard deviation of the lead time in periods (0: a fixed lead time);
- safety stock = z_α · σ_L, reorder point = μ_L + safety stock.

Reorder when the inventory position (on hand + on order − backorders) falls to the reorder point.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import norm

from mercato.errors import InvalidInput

# z of the 90th percentile: a P10–P90 band of a normal is 2·z₀.₉·σ wide.
Z_P90 = float(norm.ppf(0.9))


@dataclass(frozen=True)
class InventoryAdvice:
    lead_time_demand: float
    demand_std: float
    safety_stock: float
    reorder_point: float
    service_level: float
    lead_time: int
    reorder_now: bool | None = None  # None when no inventory position was given

    def to_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def spread_from_band(p10: np.ndarray, p90: np.ndarray) -> np.ndarray:
    """The standard deviation of a normal whose P10–P90 band is ``[p10, p90]``."""
    return (np.asarray(p90, dtype=float) - np.asarray(p10, dtype=float)) / (2.0 * Z_P90)


def reorder_advice(
    p10: np.ndarray,
    p50: np.ndarray,
    p90: np.ndarray,
    *,
    lead_time: int,
    service_level: float = 0.95,
    lead_time_std: float = 0.0,
    inventory_position: float | None = None,
) -> InventoryAdvice:
    """Advice for one SKU from its per-period quantile forecasts (each of length ≥ ``lead_time``)."""
    if not 0.5 <= service_level < 1.0:
        raise InvalidInput(f"service_level must be in [0.5, 1), got {service_level}")
    if not isinstance(lead_time, int) or lead_time < 1:
        raise InvalidInput(f"lead_time must be a positive whole number of periods, got {lead_time!r}")
    if lead_time_std < 0:
        raise InvalidInput(f"lead_time_std must not be negative, got {lead_time_std}")
    p10, p50, p90 = (np.asarray(q, dtype=float)[:lead_time] for q in (p10, p50, p90))
    if len(p50) < lead_time:
        raise InvalidInput(f"the forecast covers {len(p50)} periods; the lead time needs {lead_time}")
    lead_time_demand = float(p50.sum())
    per_period_std = spread_from_band(p10, p90)
    mean_demand = lead_time_demand / lead_time
    demand_std = float(np.sqrt(np.sum(per_period_std**2) + (mean_demand * lead_time_std) ** 2))
    safety_stock = float(norm.ppf(service_level)) * demand_std
    reorder_point = lead_time_demand + safety_stock
    return InventoryAdvice(
        lead_time_demand=lead_time_demand,
        demand_std=demand_std,
        safety_stock=safety_stock,
        reorder_point=reorder_point,
        service_level=service_level,
        lead_time=lead_time,
        reorder_now=None if inventory_position is None else bool(inventory_position <= reorder_point),
    )
