"""A PNG of one SKU: its demand history and the forecast's median with the P10–P90 band."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mercato.errors import InvalidInput
from mercato.forecast.intervals import Forecast
from mercato.forecast.series import DemandPanel

HISTORY_PERIODS_SHOWN = 104


def plot_forecast(panel: DemandPanel, forecast: Forecast, series_id: str, path: str | Path) -> Path:
    """Write the plot for ``series_id`` to ``path`` (PNG) and return the path."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    from matplotlib import pyplot

    rows = np.flatnonzero(panel.series_ids == series_id)
    if rows.size == 0:
        raise InvalidInput(f"no series {series_id!r} in the panel")
    row = int(rows[0])
    start = max(0, panel.n_periods - HISTORY_PERIODS_SHOWN)
    history_at = panel.periods[start : panel.n_periods]
    history = panel.demand[row, start:]
    figure, axes = pyplot.subplots(figsize=(9, 4), dpi=100)
    try:
        axes.plot(history_at, history, color="#333333", linewidth=1.2, label="demand")
        axes.fill_between(
            forecast.periods,
            forecast.quantiles[0.1][row],
            forecast.quantiles[0.9][row],
            color="#4c8bf5",
            alpha=0.25,
            label="P10–P90",
        )
        axes.plot(forecast.periods, forecast.median[row], color="#4c8bf5", linewidth=1.8, label=f"P50 ({forecast.model})")
        axes.set_title(f"{series_id}: demand per {panel.freq} period and forecast")
        axes.set_ylabel("units")
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper left")
        figure.autofmt_xdate()
        figure.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="png")
    finally:
        pyplot.close(figure)
    return path
