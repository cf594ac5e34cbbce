"""The online learner: consumes the acknowledged event stream and keeps the served models fresh.

It runs as one background thread in the server process (the embedded default):

- every event is learned at once by ``OnlineItemStats`` (popularity, co-occurrence);
- a batch model is refitted every ``refit_interval_s`` when enough new events arrived,
  published to the registry as a new version, promoted to ``live`` and hot-swapped;
- a model that implements ``partial_fit`` (the incremental seam of the ``Recommender``
  contract, meant for the sequential model) is instead fine-tuned on each micro-batch of
  ``fine_tune_events`` new interactions: a copy of the live model is updated, published,
  and swapped in, so requests never see a model mid-update;
- a ``live`` alias moved by someone else (``POST /v1/models/{v}/promote``, another process)
  is picked up within one tick.

The learner reads the store through its own connection, so a refit's large read never
queues behind request traffic on the server's connection.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from mercato.errors import MercatoError
from mercato.models.registry import ModelRegistry
from mercato.models.slot import ModelSlot
from mercato.online.stats import OnlineItemStats
from mercato.online.training import TrainedModel
from mercato.recommend.base import Recommender
from mercato.recommend.interactions import Interactions

log = logging.getLogger(__name__)

TICK_S = 0.5  # how often the thread looks at the clock and the registry when no events arrive
MAX_LEARN_ROWS = 100_000  # queued events learned in one pass, at most
_NOTHING = pd.DataFrame()  # what the thread learns on a tick with no events
# The fields of a committed event the learner (and the engine's history cache) reads.
STREAM_FIELDS = ("event_id", "type", "occurred_at", "user_id", "item_id", "order_id")


def supports_partial_fit(model: Recommender) -> bool:
    return type(model).partial_fit is not Recommender.partial_fit


class OnlineLearner:
    def __init__(
        self,
        *,
        stats: OnlineItemStats,
        slot: ModelSlot,
        registry: ModelRegistry,
        read_events: Callable[[], pd.DataFrame],
        fit: Callable[[pd.DataFrame], TrainedModel | None],
        on_events_read: Callable[[pd.DataFrame], None] = lambda _: None,
        refit_interval_s: float = 300.0,
        refit_min_events: int = 1000,
        fine_tune_events: int = 256,
        interaction_types: Sequence[str] = ("view", "add_to_cart", "purchase"),
        recent_items: Callable[[str], Sequence[str]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stats = stats
        self.slot = slot
        self.registry = registry
        self._read_events = read_events
        self._fit = fit
        self._on_events_read = on_events_read
        self.refit_interval_s = refit_interval_s
        self.refit_min_events = refit_min_events
        self.fine_tune_events = fine_tune_events
        self.interaction_types = frozenset(interaction_types)
        # A user's latest interactions (oldest first, new events included): a sequence model
        # fine-tunes on each new event *with its context*, not on the micro-batch's fragments.
        self._recent_items = recent_items
        self._clock = clock
        self._queue: queue.Queue[pd.DataFrame | None] = queue.Queue()
        self._learned = 0
        self._learned_changed = threading.Condition()
        self._since_refit = 0
        self._last_refit_at = clock()
        self._fine_tune_buffer: list[pd.DataFrame] = []  # interactions (user_id, item_id, occurred_at)
        self._thread: threading.Thread | None = None
        self._publish_lock = threading.Lock()  # one refit or fine-tune at a time (thread or API)
        self.started = threading.Event()  # set once the first model is served (or could not be)
        self.last_error: str | None = None
        self.refits = 0
        self.fine_tunes = 0

    # ---- the stream -------------------------------------------------------------------------

    def submit(self, events: pd.DataFrame | Sequence[Mapping[str, Any]]) -> None:
        """Hand over events the store has committed (a frame, or event mappings); returns at once."""
        if len(events):
            self._queue.put(as_stream_frame(events))

    def wait_learned(self, count: int, timeout_s: float) -> bool:
        """Block until ``count`` events in total have been learned; False on timeout."""
        with self._learned_changed:
            return self._learned_changed.wait_for(lambda: self._learned >= count, timeout=timeout_s)

    @property
    def learned(self) -> int:
        return self._learned

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    # ---- lifetime ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mercato-learner", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        self._guarded(self._first_model)
        self.started.set()
        while True:
            try:
                batch = self._queue.get(timeout=TICK_S)
            except queue.Empty:
                batch = _NOTHING
            if batch is None:
                return
            batch, stop = self._with_queued(batch)
            if len(batch):
                self._guarded(lambda: self.learn(batch))
            if stop:
                return
            self._guarded(self.tick)

    def _with_queued(self, batch: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
        """The batch plus every batch queued behind it, as one frame (and whether a stop came):
        under sustained ingestion the learner catches up in one pass per backlog instead of
        paying its fixed costs once per request."""
        parts, rows, stop = ([batch] if len(batch) else []), len(batch), False
        while rows < MAX_LEARN_ROWS:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                stop = True
                break
            parts.append(more)
            rows += len(more)
        if len(parts) <= 1:  # submit queues no empty batch, so only the tick's own can be empty
            return (parts[0] if parts else batch), stop
        return pd.concat(parts, ignore_index=True), stop

    def _guarded(self, step: Callable[[], Any]) -> None:
        # The learner must outlive a bad refit (a full disk, a model that fails to fit): the
        # server keeps answering with the last good model and /readyz shows the error.
        try:
            step()
        except (MercatoError, OSError, ValueError) as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("online learner: %s", self.last_error)

    # ---- steps (public so tests can drive them without the thread) --------------------------

    def learn(self, batch: pd.DataFrame | Sequence[Mapping[str, Any]]) -> None:
        """Learn committed events, oldest first (a frame, or event mappings)."""
        batch = as_stream_frame(batch)
        self.stats.learn_frame(batch)
        is_interaction = batch["item_id"].notna().to_numpy() & batch["type"].isin(self.interaction_types).to_numpy()
        interactions = batch.loc[is_interaction, ["user_id", "item_id", "occurred_at"]]
        self._since_refit += len(interactions)
        live = self.slot.current
        if live is not None and supports_partial_fit(live.model) and len(interactions):
            self._fine_tune_buffer.append(interactions)
            if sum(map(len, self._fine_tune_buffer)) >= self.fine_tune_events:
                self.fine_tune()
        with self._learned_changed:
            self._learned += len(batch)
            self._learned_changed.notify_all()

    def tick(self) -> None:
        self.slot.sync(self.registry)
        due = self._clock() - self._last_refit_at >= self.refit_interval_s
        if self.refit_interval_s > 0 and due and self._since_refit >= self.refit_min_events:
            self.refit()

    def refit(self) -> int | None:
        """Refit the batch model on the store, publish and promote it, swap it in; its version."""
        with self._publish_lock:
            self._last_refit_at = self._clock()
            events = self._read_events()
            self._on_events_read(events)
            return self._publish_fit(events)

    def _publish_fit(self, events: pd.DataFrame) -> int | None:
        trained = self._fit(events)
        if trained is None:
            return None
        self._since_refit = 0
        record = self.registry.publish(
            trained.model, metrics=trained.metrics, window=trained.window, source="train", promote=True
        )
        self.slot.swap(record, trained.model)
        # The new model has seen every pair counted so far: start the online delta afresh.
        self.stats.reset_pairs()
        self.refits += 1
        return record.version

    def fine_tune(self) -> int | None:
        """Update a copy of the live model with the buffered interactions; publish and swap it."""
        with self._publish_lock:
            return self._fine_tune()

    def _fine_tune(self) -> int | None:
        live = self.slot.current
        parts, self._fine_tune_buffer = self._fine_tune_buffer, []
        if live is None or not parts:
            return None
        batch = pd.concat(parts, ignore_index=True)
        started = time.perf_counter()
        candidate = copy.deepcopy(live.model).partial_fit(self._fine_tune_data(batch))
        metrics = {"fine_tune_interactions": len(batch), "fine_tune_s": round(time.perf_counter() - started, 3)}
        record = self.registry.publish(
            candidate, metrics=metrics, window={"parent_version": live.version.version}, source="fine-tune", promote=True
        )
        self.slot.swap(record, candidate)
        self.fine_tunes += 1
        return record.version

    def _fine_tune_data(self, batch: pd.DataFrame) -> Interactions:
        if self._recent_items is None:
            return Interactions.from_frame(batch)
        users = list(dict.fromkeys(batch["user_id"].tolist()))
        return Interactions.from_sequences([list(self._recent_items(u)) for u in users], users)

    def _first_model(self) -> None:
        """Start up: serve the registry's live version, warm the online statistics from the
        store, and train a first version when the registry has none."""
        live = self.slot.sync(self.registry)
        events = self._read_events()
        self._on_events_read(events)
        # Pairs the live model was trained on are in the model already; only newer ones are delta.
        trained_until = live.version.window.get("last_event_at") if live is not None else None
        self.stats.warm_start(events, pairs_after=pd.Timestamp(trained_until) if trained_until else None)
        if live is None:
            self._publish_fit(events)
            self._last_refit_at = self._clock()


def as_stream_frame(events: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Committed events as a frame of ``STREAM_FIELDS`` (times as UTC timestamps)."""
    frame = events if isinstance(events, pd.DataFrame) else pd.DataFrame(list(events))
    missing = [name for name in STREAM_FIELDS if name not in frame.columns]
    if missing or not isinstance(events, pd.DataFrame):
        frame = frame.assign(**{name: None for name in missing})
        frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    return frame
