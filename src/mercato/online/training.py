"""Batch refits for the online learner: read the store, fit a recommender, describe the result.

The registry records, for every version, what it was trained on (the window) and how the
fit went (the metrics); both are produced here so that ``mercato train --publish`` and the
server's periodic refit describe versions the same way.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mercato.recommend.base import Recommender
from mercato.recommend.defaults import model_for
from mercato.recommend.interactions import Interactions
from mercato.storage import open_store


@dataclass(frozen=True)
class TrainedModel:
    model: Recommender
    metrics: dict[str, Any]
    window: dict[str, Any]


def fit_model(events: pd.DataFrame, model_name: str, params: dict[str, Any] | None = None) -> TrainedModel | None:
    """Fit ``model_name`` on the item events of ``events``; None when there is nothing to fit."""
    rows = events[events["item_id"].notna()] if len(events) else events
    if len(rows) == 0:
        return None
    interactions = Interactions.from_frame(rows)
    model = model_for(None, model_name, **(params or {}))
    started = time.perf_counter()
    model.fit(interactions)
    metrics = {
        "fit_s": round(time.perf_counter() - started, 3),
        "interactions": len(interactions),
        "users": interactions.n_users,
        "items": interactions.n_items,
    }
    window = {
        "first_event_at": rows["occurred_at"].min().isoformat(),
        "last_event_at": rows["occurred_at"].max().isoformat(),
        "events": len(rows),
    }
    return TrainedModel(model=model, metrics=metrics, window=window)


class StoreReader:
    """Reads the training events through a connection of its own, opened per read.

    A fresh connection per refit (minutes apart) costs nothing and means the learner thread
    never shares a connection with request threads.
    """

    def __init__(self, store_url: str, types: Sequence[str]) -> None:
        self.store_url = store_url
        self.types = list(types)

    def __call__(self) -> pd.DataFrame:
        with open_store(self.store_url) as store:
            return store.read_events(types=self.types)
