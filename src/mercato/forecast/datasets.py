"""Benchmark datasets that are not event logs: read straight into a ``DemandPanel``.

Stallion (the beverage data of pytorch-forecasting's Temporal Fusion Transformer tutorial):
350 agency×SKU series of monthly volume, 2013-01..2017-12, with regular and actual prices,
discounts and holiday flags. Prices, discounts and holidays are things a distributor plans
ahead, so they are known-future covariates; industry volume, soda volume and temperature
are only known after the fact and are left out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput, NotFound
from mercato.forecast.series import DemandPanel
from mercato.importers import bundled_online_retail_path, read
from mercato.forecast.series import demand_from_events

STALLION_COVARIATES = (
    "price_regular",
    "price_actual",
    "discount_in_percent",
    "easter_day",
    "christmas",
    "football_gold_cup",
    "beer_capital",
    "music_fest",
)
ONLINE_RETAIL_TIMEZONE = "Europe/London"


def stallion_panel(data_dir: Path) -> DemandPanel:
    """``<data_dir>/stallion/stallion.parquet`` as a monthly panel with its known-future covariates."""
    path = Path(data_dir) / "stallion" / "stallion.parquet"
    if not path.is_file():
        raise NotFound(f"{path} not found; pass the datasets folder that holds stallion/stallion.parquet")
    frame = pd.read_parquet(path)
    missing = {"agency", "sku", "date", "volume", *STALLION_COVARIATES} - set(frame.columns)
    if missing:
        raise InvalidInput(f"{path} lacks column(s) {sorted(missing)}")
    frame["series_id"] = frame["agency"].astype(str) + "|" + frame["sku"].astype(str)
    wide = frame.pivot_table(index="series_id", columns="date", values="volume", aggfunc="sum", observed=True)
    covariates = {
        name: frame.pivot_table(index="series_id", columns="date", values=name, aggfunc="mean", observed=True)
        .reindex(index=wide.index, columns=wide.columns)
        .to_numpy(dtype=np.float64)
        for name in STALLION_COVARIATES
    }
    return DemandPanel(
        series_ids=wide.index.to_numpy(dtype=object),
        periods=pd.DatetimeIndex(wide.columns),
        freq="M",
        demand=wide.to_numpy(dtype=np.float64),
        covariates=covariates,
    )


def online_retail_panel(data_dir: Path | None = None, *, freq: str = "W") -> DemandPanel:
    """Online Retail demand per StockCode (the shared copy under ``data_dir``, else the bundled one)."""
    path = Path(data_dir) / "online-retail" / "online_retail.csv.gz" if data_dir else None
    if path is None or not path.is_file():
        path = bundled_online_retail_path()
    events = read("online-retail", path).events
    return demand_from_events(events, freq=freq, timezone=ONLINE_RETAIL_TIMEZONE)


DATASETS = {"stallion": stallion_panel, "online-retail": online_retail_panel}
