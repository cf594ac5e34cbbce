"""Train a recommender on the interactions stored in an event store and save the artifact."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mercato.errors import InvalidInput
from mercato.events import EVENT_TYPES
from mercato.recommend.interactions import Interactions
from mercato.recommend.registry import create_model
from mercato.storage import open_store


def train_from_store(
    store_url: str,
    model_name: str,
    out: Path,
    *,
    params: dict | None = None,
    types: Sequence[str] = ("purchase",),
    progress: Callable[[str], None] = lambda _: None,
) -> dict:
    unknown = sorted(set(types) - EVENT_TYPES)
    if unknown:
        raise InvalidInput(f"unknown event type(s) {unknown}; choose from {sorted(EVENT_TYPES)}")
    with open_store(store_url) as store:
        events = store.read_events(types=list(types))
    if events.empty:
        raise InvalidInput(f"the store at {store_url} has no {list(types)} events to train on; import some first")
    interactions = Interactions.from_frame(events)
    model = create_model(model_name, **(params or {}))
    progress(f"training {model_name} on {len(interactions):,} interactions …")
    started = time.perf_counter()
    model.fit(interactions)
    fit_s = time.perf_counter() - started
    model.save(out)
    progress(f"trained in {fit_s:.1f} s; saved to {out}")
    return {
        "model": model_name,
        "params": model.params,
        "interactions": len(interactions),
        "users": interactions.n_users,
        "items": interactions.n_items,
        "fit_s": round(fit_s, 3),
        "artifact": str(out),
    }
