"""Operations: the model registry over HTTP, health, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from mercato.errors import NotReady
from mercato.serving.routes import EngineDep

models_router = APIRouter(prefix="/v1/models", tags=["models"])
health_router = APIRouter(tags=["operations"])


def _described(engine, record) -> dict[str, Any]:
    live = engine.registry.live_version()
    return {**record.as_dict(), "live": record.version == live}


@models_router.get("")
def list_models(engine: EngineDep) -> Any:
    """Every registered version with its params, metrics, training window and digest."""
    live = engine.slot.current
    return {
        "live": engine.registry.live_version(),
        "serving": live.version.version if live else None,
        "versions": [_described(engine, r) for r in engine.registry.versions()],
    }


@models_router.get("/{version}")
def get_model(version: int, engine: EngineDep) -> Any:
    return _described(engine, engine.registry.get(version))


@models_router.post("/{version}/promote")
def promote(version: int, engine: EngineDep) -> Any:
    """Make ``version`` live (refused with 409 when its artifact fails the digest check)."""
    engine.registry.promote(version)
    engine.slot.sync(engine.registry)
    return _described(engine, engine.registry.get(version))


@models_router.post("/rollback")
def rollback(engine: EngineDep) -> Any:
    """Make the previously live version live again."""
    record = engine.registry.rollback()
    engine.slot.sync(engine.registry)
    return _described(engine, record)


@models_router.post("/refit")
async def refit(engine: EngineDep) -> Any:
    """Refit the served model on the store now, publish it as a new version and swap it in."""
    version = await run_in_threadpool(engine.learner.refit)
    if version is None:
        raise NotReady("nothing to train on: the store has no interactions yet")
    return _described(engine, engine.registry.get(version))


@health_router.get("/healthz")
def healthz() -> Any:
    return {"status": "ok"}


@health_router.get("/readyz")
def readyz(engine: EngineDep) -> Any:
    ready, reason = engine.readiness()
    return JSONResponse({"status": "ready" if ready else "not_ready", "reason": reason}, status_code=200 if ready else 503)


@health_router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, engine: EngineDep) -> Any:
    live = engine.slot.current
    c = engine.counters
    gauges = [
        ("mercato_model_version", "live model version served (0: none)", live.version.version if live else 0),
        ("mercato_model_swaps_total", "model hot swaps since start", engine.slot.swaps),
        ("mercato_events_inserted_total", "events durably stored", c.events_inserted),
        ("mercato_events_duplicate_total", "events skipped as already stored", c.events_duplicate),
        ("mercato_events_rejected_total", "invalid events reported back", c.events_rejected),
        ("mercato_learner_events_learned_total", "events learned online", engine.learner.learned),
        ("mercato_learner_backlog_batches", "batches waiting for the learner", engine.learner.backlog),
        ("mercato_learner_refits_total", "batch refits published", engine.learner.refits),
        ("mercato_learner_fine_tunes_total", "fine-tuned versions published", engine.learner.fine_tunes),
        ("mercato_online_pairs", "co-occurrence pairs learned since the last refit", engine.stats.n_pairs),
        ("mercato_cached_users", "users whose recent history is in memory", len(engine.histories)),
        ("mercato_catalog_items", "items in the catalog", len(engine.service.catalog)),
    ]
    return PlainTextResponse(request.app.state.metrics.render(gauges), media_type="text/plain; version=0.0.4")
