"""Train once, answer per SKU: the forecast artifact and the function an HTTP route calls.

``train_forecasts`` fits a forecaster with conformal intervals on a panel and writes
``forecasts.json`` into a folder: the P10/P50/P90 of every series for the trained horizon,
the recent history (for plots), the configuration, and a SHA-256 digest of the content.
``forecast_for_sku`` reads it back — refusing an artifact whose digest does not match —
and answers for one SKU with its inventory advice. Serving never fits a model: a request
costs a file read (cached by the caller) and a dictionary lookup.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import Conflict, InvalidInput, NotFound
from mercato.forecast.intervals import QUANTILES, ConformalForecaster, Forecast
from mercato.forecast.inventory import reorder_advice
from mercato.forecast.models.base import Forecaster
from mercato.forecast.series import DemandPanel

ARTIFACT = "forecasts.json"
HISTORY_KEPT = 104


def train_forecasts(
    panel: DemandPanel, forecaster: Forecaster, horizon: int, out_dir: str | Path, *, calibrate_median: bool = False
) -> dict:
    """Fit on all of ``panel``, forecast ``horizon`` periods, write the artifact; returns its summary."""
    if not panel.covariates_cover(horizon):
        panel = panel.with_carried_covariates(horizon)
    model = ConformalForecaster(forecaster, horizon=horizon, calibrate_median=calibrate_median).fit(panel)
    forecast = model.predict(horizon)
    start = max(0, panel.n_periods - HISTORY_KEPT)
    content = {
        "model": forecaster.name,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in forecaster.get_params().items()},
        "freq": panel.freq,
        "horizon": horizon,
        "calibrate_median": calibrate_median,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "history_periods": [p.date().isoformat() for p in panel.periods[start : panel.n_periods]],
        "forecast_periods": [p.date().isoformat() for p in forecast.periods],
        "series": {
            str(sid): {
                "history": [None if np.isnan(v) else float(v) for v in panel.demand[row, start:]],
                **{f"p{round(q * 100)}": [round(float(v), 4) for v in forecast.quantiles[q][row]] for q in QUANTILES},
            }
            for row, sid in enumerate(panel.series_ids)
        },
    }
    body = json.dumps(content, sort_keys=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(body.encode()).hexdigest()
    (out / ARTIFACT).write_text(json.dumps({"digest": digest, "content": content}, sort_keys=True))
    return {"artifact": str(out / ARTIFACT), "model": forecaster.name, "series": panel.n_series, "horizon": horizon}


def load_forecasts(model_dir: str | Path) -> dict:
    """The artifact's content; ``NotFound`` when absent, ``Conflict`` when its digest does not match."""
    path = Path(model_dir) / ARTIFACT
    if not path.is_file():
        raise NotFound(f"no forecasts at {path}; run 'mercato forecast train' first")
    try:
        stored = json.loads(path.read_text())
        content, digest = stored["content"], stored["digest"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise Conflict(f"{path} is not a forecast artifact ({exc}); retrain it") from None
    if hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest() != digest:
        raise Conflict(f"{path} does not match its digest (edited or corrupted); retrain it")
    return content


def forecast_for_sku(
    forecasts: dict,
    sku: str,
    *,
    horizon: int | None = None,
    lead_time: int = 1,
    service_level: float = 0.95,
    inventory_position: float | None = None,
) -> dict:
    """The answer for ``GET /v1/forecasts/{sku}?horizon=``: quantiles per period plus inventory advice.

    ``forecasts`` is ``load_forecasts(model_dir)`` (load once, answer many). An unknown SKU
    raises ``NotFound``; a horizon or lead time beyond the trained horizon ``InvalidInput``.
    """
    trained = forecasts["horizon"]
    horizon = trained if horizon is None else horizon
    if not isinstance(horizon, int) or not 1 <= horizon <= trained:
        raise InvalidInput(f"horizon must be between 1 and {trained} periods (the trained horizon), got {horizon!r}")
    if lead_time > trained:
        raise InvalidInput(f"lead_time {lead_time} exceeds the {trained} forecast periods; retrain with a longer horizon")
    series = forecasts["series"].get(sku)
    if series is None:
        raise NotFound(f"no forecast for SKU {sku!r}: it has no sales in the training data")
    advice = reorder_advice(
        series["p10"], series["p50"], series["p90"],
        lead_time=lead_time, service_level=service_level, inventory_position=inventory_position,
    )
    return {
        "sku": sku,
        "model": forecasts["model"],
        "freq": forecasts["freq"],
        "forecast": [
            {"period_start": period, "p10": series["p10"][i], "p50": series["p50"][i], "p90": series["p90"][i]}
            for i, period in enumerate(forecasts["forecast_periods"][:horizon])
        ],
        "inventory": advice.to_dict(),
    }


def artifact_panel_and_forecast(forecasts: dict, sku: str) -> tuple[DemandPanel, Forecast]:
    """One SKU's stored history and forecast as objects, for ``plot_forecast``."""
    series = forecasts["series"].get(sku)
    if series is None:
        raise NotFound(f"no forecast for SKU {sku!r}")
    history = np.array([np.nan if v is None else v for v in series["history"]], dtype=np.float64)[None, :]
    panel = DemandPanel(
        np.array([sku], dtype=object), pd.DatetimeIndex(forecasts["history_periods"]), forecasts["freq"], history
    )
    quantiles = {q: np.array([series[f"p{round(q * 100)}"]]) for q in QUANTILES}
    return panel, Forecast(forecasts["model"], panel.series_ids, pd.DatetimeIndex(forecasts["forecast_periods"]), quantiles)
