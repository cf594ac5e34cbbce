"""The /v1 routes: thin functions that turn HTTP into engine calls and back.

Routes are plain ``def`` functions: FastAPI runs them on its thread pool, and the engine's
store forwards database calls to the one thread that owns the connection.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from mercato.errors import InvalidInput
from mercato.recommend.rules import ListRequest
from mercato.serving import schemas
from mercato.serving.engine import MAX_BATCH, Engine

router = APIRouter(prefix="/v1")
IdPath = Annotated[str, Path(min_length=1, max_length=200)]


# Dependencies are async so FastAPI calls them on the event loop: a sync one would cost a
# thread-pool round trip per request for a function that only reads an attribute.
async def get_engine(request: Request) -> Engine:
    """The engine the lifespan opened; tests override this dependency."""
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]


async def list_request(
    k: Annotated[int, Query(ge=1, le=100, description="items per page")] = 10,
    offset: Annotated[int, Query(ge=0, le=999, description="items to skip: page n starts at n·k")] = 0,
    category: Annotated[str | None, Query(max_length=200, description="only items in this category")] = None,
    min_price: Annotated[int | None, Query(ge=0, description="minor units")] = None,
    max_price: Annotated[int | None, Query(ge=0, description="minor units")] = None,
    exclude_purchased: Annotated[bool, Query(description="leave out what the user bought")] = True,
    diversity: Annotated[float, Query(ge=0.0, le=1.0, description="0: relevance only; 1: spread categories")] = 0.0,
    exclude: Annotated[str | None, Query(max_length=20_000, description="comma-separated item ids to leave out")] = None,
) -> ListRequest:
    excluded = tuple(i for i in exclude.split(",") if i) if exclude else ()
    return ListRequest(k, offset, category, min_price, max_price, exclude_purchased, diversity, excluded)


ListDep = Annotated[ListRequest, Depends(list_request)]


def _answer(engine: Engine, recommendations) -> schemas.RecommendationList:
    live = engine.slot.current
    return schemas.RecommendationList(
        model_version=live.version.version if live else None,
        items=[
            schemas.RecommendedItem(item_id=r.item_id, title=r.title, score=round(r.score, 6), reason=r.reason)
            for r in recommendations
        ],
    )


# ---- events, catalog, users ---------------------------------------------------------------


@router.post("/events", response_model=schemas.IngestResponse, openapi_extra=schemas.EVENTS_BODY, tags=["events"])
async def post_events(request: Request, engine: EngineDep) -> Any:
    """One event, a list, or ``{"events": [...]}`` (up to 10,000). Idempotent on ``event_id``.

    Answers after the good events are durably committed; bad ones are listed by index,
    field and reason and never keep the good ones out. 422 when no event is valid.
    """
    body = await request.body()
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInput("the body is not valid JSON", field="body") from None
    if isinstance(payload, dict) and "events" in payload:
        records = payload["events"]
        if not isinstance(records, list):
            raise InvalidInput("'events' must be a list of event objects", field="events")
    elif isinstance(payload, list):
        records = payload
    elif isinstance(payload, dict):
        records = [payload]
    else:
        raise InvalidInput("send an event object, a list of events, or {\"events\": [...]}", field="body")
    if len(records) > MAX_BATCH:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH:,} events, got {len(records):,}", field="events")
    report = await run_in_threadpool(engine.ingest, records)
    errors = [e.as_dict() for e in report.errors]
    if errors and report.inserted == 0 and report.duplicates == 0:
        first = report.errors[0]
        raise _BatchRejected(f"no valid event; event {first.index}: {first.field}: {first.reason}", errors)
    return schemas.IngestResponse(
        inserted=report.inserted, duplicates=report.duplicates, rejected=len(errors), errors=errors
    )


class _BatchRejected(InvalidInput):
    def __init__(self, message: str, errors: list[dict]) -> None:
        first = errors[0]
        super().__init__(message, field=f"events[{first['index']}].{first['field']}")
        self.details = errors


@router.put("/items/{item_id}", response_model=schemas.Stored, tags=["catalog"])
def put_item(item_id: IdPath, item: schemas.ItemFields, engine: EngineDep) -> Any:
    return schemas.Stored(stored=engine.put_items([item.to_item(item_id)]))


@router.put("/items", response_model=schemas.Stored, tags=["catalog"])
def put_items(batch: schemas.ItemBatch, engine: EngineDep) -> Any:
    items = [i.to_item(i.item_id) for i in batch.items]
    return schemas.Stored(stored=engine.put_items(items))


@router.put("/users/{user_id}", response_model=schemas.Stored, tags=["users"])
def put_user(user_id: IdPath, user: schemas.UserFields, engine: EngineDep) -> Any:
    return schemas.Stored(stored=engine.put_users([user.to_user(user_id)]))


@router.put("/users", response_model=schemas.Stored, tags=["users"])
def put_users(batch: schemas.UserBatch, engine: EngineDep) -> Any:
    return schemas.Stored(stored=engine.put_users([u.to_user(u.user_id) for u in batch.users]))


# ---- recommendations ----------------------------------------------------------------------


# The recommendation routes are async: scoring takes about a millisecond of CPU and never
# waits on I/O, so running it on the event loop saves the thread-pool round trip. The one
# exception, a user whose history is not in memory yet, is read on the thread pool.


@router.get("/users/{user_id}/recommendations", response_model=schemas.RecommendationList, tags=["recommendations"])
async def user_recommendations(user_id: IdPath, request: ListDep, engine: EngineDep) -> Any:
    """Personalized, from the user's latest events (including one acknowledged a moment ago)."""
    if engine.histories.is_cached(user_id):
        return _answer(engine, engine.service.for_user(user_id, request))
    return _answer(engine, await run_in_threadpool(engine.service.for_user, user_id, request))


@router.post("/sessions/recommendations", response_model=schemas.RecommendationList, tags=["recommendations"])
async def session_recommendations(body: schemas.SessionRequest, engine: EngineDep) -> Any:
    """For an anonymous session, given its recent item ids."""
    request = ListRequest(
        body.k, body.offset, body.category, body.min_price, body.max_price, False, body.diversity, tuple(body.exclude)
    )
    return _answer(engine, engine.service.for_session(body.item_ids, request))


@router.get("/items/{item_id}/similar", response_model=schemas.RecommendationList, tags=["recommendations"])
async def similar_items(item_id: IdPath, request: ListDep, engine: EngineDep) -> Any:
    return _answer(engine, engine.service.similar(item_id, request))


@router.get("/items/{item_id}/bought-together", response_model=schemas.RecommendationList, tags=["recommendations"])
async def bought_together(item_id: IdPath, request: ListDep, engine: EngineDep) -> Any:
    """Items that share real orders with this one."""
    return _answer(engine, engine.service.bought_together(item_id, request))
