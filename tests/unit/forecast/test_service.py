"""The forecast artifact and the per-SKU answer an HTTP route serves."""

import json

import numpy as np
import pandas as pd
import pytest

from mercato.errors import Conflict, InvalidInput, NotFound
from mercato.forecast.models.baselines import SeasonalNaiveForecaster
from mercato.forecast.plot import plot_forecast
from mercato.forecast.series import DemandPanel
from mercato.forecast.service import artifact_panel_and_forecast, forecast_for_sku, load_forecasts, train_forecasts


@pytest.fixture
def trained(tmp_path):
    demand = np.vstack([np.tile([4.0, 8.0], 20), np.full(40, np.nan)])
    demand[1, 30:] = 3.0
    panel = DemandPanel(
        np.array(["MUG", "NEW"], dtype=object), pd.date_range("2024-01-01", periods=40, freq="7D"), "W", demand
    )
    train_forecasts(panel, SeasonalNaiveForecaster(season_length=2), horizon=4, out_dir=tmp_path)
    return tmp_path


def test_forecast_for_sku_returns_quantiles_and_inventory_advice(trained):
    answer = forecast_for_sku(load_forecasts(trained), "MUG", horizon=2, lead_time=2, inventory_position=5)
    assert [row["p50"] for row in answer["forecast"]] == [4.0, 8.0]
    assert [row["period_start"] for row in answer["forecast"]] == ["2024-10-07", "2024-10-14"]
    assert answer["inventory"]["lead_time_demand"] == 12.0 and answer["inventory"]["reorder_now"] is True
    assert answer["inventory"]["safety_stock"] == 0.0  # a perfectly seasonal history leaves no error


def test_unknown_sku_bad_horizon_and_tampered_artifact(trained):
    forecasts = load_forecasts(trained)
    with pytest.raises(NotFound, match="NOPE"):
        forecast_for_sku(forecasts, "NOPE")
    with pytest.raises(InvalidInput, match="between 1 and 4"):
        forecast_for_sku(forecasts, "MUG", horizon=5)
    path = trained / "forecasts.json"
    stored = json.loads(path.read_text())
    stored["content"]["series"]["MUG"]["p50"][0] = 1e6
    path.write_text(json.dumps(stored))
    with pytest.raises(Conflict, match="digest"):
        load_forecasts(trained)
    with pytest.raises(NotFound, match="forecast train"):
        load_forecasts(trained / "missing")


def test_plot_writes_a_png(trained, tmp_path):
    panel, forecast = artifact_panel_and_forecast(load_forecasts(trained), "NEW")
    path = plot_forecast(panel, forecast, "NEW", tmp_path / "plots" / "new.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
