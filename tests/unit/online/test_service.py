"""The recommendation service with a model whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mercato.events import Item
from mercato.models.registry import ModelVersion
from mercato.models.slot import ModelSlot
from mercato.online.histories import RecentHistories
from mercato.online.service import RecommendationService
from mercato.online.stats import OnlineItemStats
from mercato.recommend.base import Recommender
from mercato.recommend.interactions import Interactions
from mercato.recommend.rules import Catalog, ListRequest


class NextItem(Recommender):
    """Scores item j by how often j followed a history item in training; counts its calls.

    It inherits ``similar_item_scores``, like a sequential model, so the service must batch
    the reason lookups into the history's ``score_histories`` call.
    """

    name = "next-item"

    def _fit(self, interactions: Interactions) -> None:
        n = interactions.n_items
        self.follows = np.zeros((n, n))
        for sequence in interactions.sequences():
            for a, b in zip(sequence[:-1], sequence[1:], strict=False):
                self.follows[a, b] += 1
        self.calls = 0

    def score_histories(self, histories, users=None):
        self.calls += 1
        return np.stack([self.follows[h].sum(axis=0) if len(h) else np.zeros(len(self.item_ids)) for h in histories])


def service_for(user_items: list[str]) -> tuple[RecommendationService, NextItem]:
    model = NextItem().fit(Interactions.from_sequences([["a", "b"], ["a", "b"], ["c", "d"], ["a", "e"]]))
    slot = ModelSlot()
    slot.swap(ModelVersion(1, model.name, {}, {}, {}, "", ""), model)
    history = pd.DataFrame({"event_id": [f"e{i}" for i in range(len(user_items))], "item_id": user_items,
                            "type": ["view"] * len(user_items)})
    histories = RecentHistories(lambda user_id, length: (history, history.iloc[:0]))
    catalog = Catalog.build([Item(i, title=i.upper(), category=("x",)) for i in "abcde"])
    return RecommendationService(catalog=catalog, slot=slot, stats=OnlineItemStats(), histories=histories), model


def test_ranking_reasons_and_a_single_model_call_per_request():
    service, model = service_for(["c", "a"])
    listed = service.for_user("u", ListRequest(k=3))
    assert [(r.item_id, r.reason) for r in listed[:3]] == [
        ("b", "because you viewed A"), ("d", "because you viewed C"), ("e", "because you viewed A"),
    ]
    assert model.calls == 1  # history and both reason sources scored in one batch


def test_without_a_live_model_the_answer_is_online_popularity():
    service, _ = service_for([])
    service.slot.current = None
    for event_id, item in enumerate(["d", "d", "b"]):
        service.stats.learn_one({"event_id": str(event_id), "type": "view", "occurred_at": 0.0, "user_id": "v",
                                 "item_id": item})
    listed = service.for_user("u", ListRequest(k=2))
    assert [r.item_id for r in listed] == ["d", "b"] and listed[0].reason == "popular in x"
