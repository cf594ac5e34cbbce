"""Everything one server process holds: the store, the registry, the live model, the learner.

``open_engine`` builds it from the settings (the app's lifespan calls it); routes receive it
as a dependency. Nothing here knows about HTTP: the same engine runs the replay and tests.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mercato.errors import InvalidInput
from mercato.events import Item, User
from mercato.events.validation import EventError
from mercato.models.registry import ModelRegistry
from mercato.models.slot import ModelSlot
from mercato.online.baskets import BasketNeighbours
from mercato.online.histories import HISTORY_TYPES, RecentHistories, store_loader
from mercato.online.learner import STREAM_FIELDS, OnlineLearner
from mercato.online.service import RecommendationService
from mercato.online.stats import OnlineItemStats
from mercato.online.training import StoreReader, fit_model
from mercato.recommend.rules import Catalog
from mercato.settings import Settings
from mercato.storage import open_store
from mercato.storage.confined import ThreadConfinedStore
from mercato.storage.group_commit import GroupCommitter

MAX_BATCH = 10_000  # events, items or users per request


@dataclass
class IngestReport:
    inserted: int
    duplicates: int
    errors: list[EventError]


@dataclass
class Counters:
    events_inserted: int = 0
    events_duplicate: int = 0
    events_rejected: int = 0
    items_stored: int = 0
    users_stored: int = 0


@dataclass
class Engine:
    settings: Settings
    store: ThreadConfinedStore
    registry: ModelRegistry
    slot: ModelSlot
    stats: OnlineItemStats
    histories: RecentHistories
    service: RecommendationService
    learner: OnlineLearner
    writer: GroupCommitter
    counters: Counters = field(default_factory=Counters)
    started_at: float = field(default_factory=time.time)

    # ---- writes -----------------------------------------------------------------------------

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> IngestReport:
        """Store the good events (one durable commit), then make them visible; report the bad.

        Returns only after the commit, and after the user history cache holds the events,
        so a recommendation requested after the acknowledgment reflects them.
        """
        if len(records) > MAX_BATCH:
            raise InvalidInput(f"a batch holds at most {MAX_BATCH:,} events, got {len(records):,}", field="events")
        result = self.writer.ingest(records)
        self.counters.events_inserted += result.inserted
        self.counters.events_duplicate += result.duplicates
        self.counters.events_rejected += len(result.errors)
        stream = result.events[list(STREAM_FIELDS)]
        self.histories.observe_frame(stream)
        # A retried batch (its first attempt committed, the answer was lost) is all duplicates:
        # the learner skips it, so statistics count each event once. A batch mixing new and
        # already-stored events is forwarded whole; its old events count twice in popularity.
        if result.inserted:
            self.learner.submit(stream)
        return IngestReport(result.inserted, result.duplicates, result.errors)

    def put_items(self, items: Sequence[Item]) -> int:
        if len(items) > MAX_BATCH:
            raise InvalidInput(f"a batch holds at most {MAX_BATCH:,} items, got {len(items):,}", field="items")
        stored = self.store.put_items(items)
        # Swap in a new catalog snapshot; the store is the source of truth if two writers race.
        self.service.catalog = self.service.catalog.updated(items)
        self.counters.items_stored += stored
        return stored

    def put_users(self, users: Sequence[User]) -> int:
        if len(users) > MAX_BATCH:
            raise InvalidInput(f"a batch holds at most {MAX_BATCH:,} users, got {len(users):,}", field="users")
        stored = self.store.put_users(users)
        self.counters.users_stored += stored
        return stored

    # ---- state ------------------------------------------------------------------------------

    def readiness(self) -> tuple[bool, str]:
        live = self.slot.current
        if live is not None:
            return True, f"serving model version {live.version.version} ({live.version.model})"
        if not self.learner.started.is_set():
            return False, "loading: reading the store and training the first model"
        if self.learner.last_error:
            return False, f"no live model: {self.learner.last_error}"
        return False, (
            "no live model: the store has no interactions to train on yet; POST /v1/events, "
            "then POST /v1/models/refit (or wait for the scheduled refit)"
        )

    def close(self) -> None:
        self.learner.stop()
        self.store.close()


def open_engine(settings: Settings, *, start_learner: bool = True) -> Engine:
    store = ThreadConfinedStore(lambda: open_store(settings.store_url))
    try:
        catalog = Catalog.build(store.read_items())
        registry = ModelRegistry(settings.model_dir / "registry")
        slot = ModelSlot()
        stats = OnlineItemStats()
        histories = RecentHistories(store_loader(store), length=settings.history_length)
        service = RecommendationService(catalog=catalog, slot=slot, stats=stats, histories=histories)

        def use_baskets(events: pd.DataFrame) -> None:
            service.baskets = BasketNeighbours.from_purchases(events) if len(events) else BasketNeighbours.empty()

        learner = OnlineLearner(
            stats=stats,
            slot=slot,
            registry=registry,
            read_events=StoreReader(settings.store_url, sorted({*settings.interaction_types, "purchase"})),
            fit=lambda events: fit_model(
                events[events["type"].isin(settings.interaction_types)], settings.serve_model, settings.serve_model_params
            ),
            on_events_read=use_baskets,
            refit_interval_s=settings.refit_interval_s,
            refit_min_events=settings.refit_min_events,
            fine_tune_events=settings.fine_tune_events,
            interaction_types=settings.interaction_types,
            recent_items=lambda user: histories.get(user).of_types(settings.interaction_types),
        )
    except BaseException:
        store.close()
        raise
    engine = Engine(settings, store, registry, slot, stats, histories, service, learner, GroupCommitter(store))
    # Before the first request: active users' histories in memory, so their first request
    # needs no store read (a cold read costs milliseconds on the one store thread).
    histories.preload(store.read_events(types=list(HISTORY_TYPES)))
    if start_learner:
        learner.start()
    return engine

