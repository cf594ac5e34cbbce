"""``POST /v1/risk/score`` and the review queue ``GET /v1/risk/reviews``, ``POST /v1/risk/reviews/{id}``.

The model is trained offline (``mercato risk train``) into ``<model_dir>/risk``; it is loaded
on the first request and again when its file changes (the velocity state carries over). On
first load the velocity state is warmed with the store's payment events of the last 30 days.
Reviews live in ``<model_dir>/risk/reviews.db``. Scoring runs on the event loop itself: it
is a fraction of a millisecond of CPU, less than a hop to the thread pool would cost.
"""

from __future__ import annotations

import gc
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from mercato.errors import NotReady
from mercato.risk.features import WINDOWS_S, Transaction
from mercato.risk.model import MODEL_FILE
from mercato.risk.service import RiskService
from mercato.serving.lazy import Lazy
from mercato.settings import Settings
from mercato.storage.risk_reviews import ReviewStore

Id = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(max_length=500)]
Country = Annotated[str, Field(min_length=2, max_length=3)]


class ScoreRequest(BaseModel):
    """An order/payment attempt; identifiers are opaque (hash card numbers into ``card_id``)."""

    model_config = ConfigDict(extra="forbid")
    transaction_id: Id
    user_id: Id
    amount_minor: int = Field(ge=0, le=10**12, description="amount in minor units (cents)")
    occurred_at: AwareDatetime | None = Field(None, description="ISO time with zone; default: now")
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    card_id: Id | None = None
    device_id: Id | None = None
    ip: Id | None = None
    email: Text | None = None
    billing_address: Text | None = None
    shipping_address: Text | None = None
    billing_country: Country | None = None
    shipping_country: Country | None = None
    ip_country: Country | None = None
    account_created_at: AwareDatetime | None = None
    numeric: dict[Annotated[str, Field(max_length=100)], float] = Field(default_factory=dict, max_length=200)

    def transaction(self, now_s: float) -> Transaction:
        fields = self.model_dump(exclude={"occurred_at", "account_created_at"})
        return Transaction(occurred_at_s=self.occurred_at.timestamp() if self.occurred_at else now_s,
                           account_created_at_s=self.account_created_at.timestamp() if self.account_created_at else None,
                           **fields)


class ReviewVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Literal["fraud", "legit"]
    reviewer: Annotated[str, Field(max_length=200)] | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class RiskHolder:
    """The loaded service (re-read when the model file changes) and the review store."""

    def __init__(self, settings: Settings) -> None:
        self.folder = Path(settings.model_dir) / "risk"
        self.rules_file = settings.risk_rules_file
        self.store_url = settings.store_url
        self._lock = threading.Lock()
        self._reviews = Lazy(lambda: ReviewStore(self.folder / "reviews.db"))
        self._loaded: tuple[float, RiskService] | None = None

    def reviews(self) -> ReviewStore:
        return self._reviews.get()

    def current(self) -> RiskService | None:
        """The service if it is loaded and its model file unchanged; cheap enough per request."""
        path = self.folder / MODEL_FILE
        mtime = path.stat().st_mtime if path.is_file() else -1.0
        loaded = self._loaded
        return loaded[1] if loaded is not None and loaded[0] == mtime else None

    def load(self) -> RiskService:
        reviews = self.reviews()
        with self._lock:
            path = self.folder / MODEL_FILE
            if not path.is_file():
                raise NotReady(f"no risk model in {self.folder}; run 'mercato risk train' first")
            mtime = path.stat().st_mtime
            if self._loaded is not None and self._loaded[0] == mtime:
                return self._loaded[1]
            service = RiskService.open(self.folder, self.rules_file, reviews)
            previous = self._loaded[1] if self._loaded else None
            if previous is not None and previous.state.numeric_fields == service.state.numeric_fields:
                service.state = previous.state  # a retrained model keeps the velocity it has seen
            else:
                self._warm(service)
            self._loaded = (mtime, service)
        # Move what start-up created (modules, the model) out of the collector's reach: a full
        # collection over it paused scoring for tens of milliseconds; the velocity state itself
        # is made of untracked buffers (mercato.risk.velocity).
        gc.collect()
        gc.freeze()
        return service

    def _warm(self, service: RiskService) -> None:
        from mercato.risk.labels import transactions_from_events
        from mercato.storage import open_store

        now = datetime.now(UTC)
        with open_store(self.store_url) as store:
            payments = store.read_events(types=["payment"], since=now - timedelta(seconds=max(WINDOWS_S.values())))
        if len(payments):
            service.warm(transactions_from_events(payments), now.timestamp())

    def close(self) -> None:
        self._reviews.close()


def risk_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/v1/risk", tags=["risk"])
    holder = RiskHolder(settings)
    router.holder = holder  # type: ignore[attr-defined]  # create_app closes it at shutdown

    @router.post("/score")
    async def score(
        request: ScoreRequest,
        explain: Annotated[bool, Query(description="feature reasons for approvals too (review/decline always)")] = False,
    ) -> dict:
        service = holder.current() or await run_in_threadpool(holder.load)
        return service.score(request.transaction(time.time()), explain=explain)

    @router.get("/reviews")
    async def list_reviews(
        status: Annotated[Literal["open", "fraud", "legit"], Query()] = "open",
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> dict:
        reviews = await run_in_threadpool(lambda: holder.reviews().list(status, limit))
        return {"status": status, "reviews": reviews}

    @router.post("/reviews/{review_id}")
    async def resolve_review(review_id: Annotated[str, PathParam(max_length=100)], verdict: ReviewVerdict) -> dict:
        return await run_in_threadpool(
            lambda: holder.reviews().resolve(review_id, verdict.label, time.time(), verdict.reviewer, verdict.note))

    return router
