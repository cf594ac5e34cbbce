"""``GET /v1/forecasts/{sku}``: per-SKU demand quantiles and inventory advice.

The forecasts are trained offline (``mercato forecast train``) into ``<model_dir>/forecast``.
The artifact is read on the first request and again whenever its file changes, so a
retrain shows up without restarting the server; a missing or tampered artifact answers
404 / 409 through the common error mapping, never 500.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from mercato.forecast.service import ARTIFACT, forecast_for_sku, load_forecasts


class ForecastCache:
    """The loaded artifact, keyed by the file's modification time."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self._lock = threading.Lock()
        self._loaded: tuple[float, dict] | None = None

    def get(self) -> dict:
        path = self.model_dir / ARTIFACT
        mtime = path.stat().st_mtime if path.is_file() else -1.0
        with self._lock:
            if self._loaded is None or self._loaded[0] != mtime:
                self._loaded = (mtime, load_forecasts(self.model_dir))  # NotFound / Conflict propagate
            return self._loaded[1]


def forecast_router(model_dir: Path) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["forecasts"])
    cache = ForecastCache(Path(model_dir) / "forecast")

    @router.get("/forecasts/{sku}")
    async def get_forecast(
        sku: str,
        horizon: Annotated[int | None, Query(ge=1, description="periods ahead (default: the trained horizon)")] = None,
        lead_time: Annotated[int, Query(ge=1, description="replenishment lead time in periods")] = 1,
        service_level: Annotated[float, Query(gt=0.5, lt=1.0, description="target probability of no stock-out")] = 0.95,
        stock: Annotated[float | None, Query(ge=0, description="current inventory position, for reorder advice")] = None,
    ) -> dict:
        def answer() -> dict:
            return forecast_for_sku(
                cache.get(), sku, horizon=horizon, lead_time=lead_time, service_level=service_level,
                inventory_position=stock,
            )

        return await run_in_threadpool(answer)

    return router
