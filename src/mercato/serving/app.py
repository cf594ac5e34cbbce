"""``create_app(settings)``: the FastAPI application of ``mercato serve``.

Heavy resources (the store, the registry, the models, the learner thread) are opened in the
lifespan, not at import, and reach routes through the ``get_engine`` dependency, which tests
replace with ``app.dependency_overrides``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from mercato import __version__
from mercato.serving.admin_routes import health_router, models_router
from mercato.serving.assist_routes import assist_router
from mercato.serving.engine import Engine, open_engine
from mercato.serving.errors import install_error_handlers
from mercato.serving.forecast_routes import forecast_router
from mercato.serving.metrics import MetricsMiddleware, RequestMetrics
from mercato.serving.risk_routes import risk_router
from mercato.serving.routes import router
from mercato.settings import Settings


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """The app; with ``engine`` given, it serves that engine and leaves closing it to the caller."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            app.state.engine = engine
            yield
            assist.holder.close()
            risk.holder.close()
            return
        opened = await run_in_threadpool(open_engine, settings)
        app.state.engine = opened
        try:
            yield
        finally:
            assist.holder.close()
            risk.holder.close()
            await run_in_threadpool(opened.close)

    app = FastAPI(
        title="mercato",
        version=__version__,
        description="Self-hostable AI engine for e-commerce: events in, recommendations out.",
        lifespan=lifespan,
    )
    app.state.metrics = RequestMetrics()
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(models_router)
    app.include_router(health_router)
    app.include_router(forecast_router(settings.model_dir))
    assist = assist_router(settings)
    app.include_router(assist)
    risk = risk_router(settings)
    app.include_router(risk)
    return app
