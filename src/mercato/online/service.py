"""Turns a recommendation request into a ranked, rule-abiding list with a reason per item.

Scores blend three signals over the catalog, each rescaled so its largest value is 1:

- the live batch model's ``score_histories`` of the user's *current* history (read from the
  recent-history cache at request time, so an event acknowledged a moment ago counts);
- co-occurrence learned online since the model was fitted (``OnlineItemStats``), which is
  how an item the model has never seen becomes recommendable within seconds;
- decayed online popularity, a small weight: a tie-breaker and the cold-start answer.

Then the business rules of ``mercato.recommend.rules`` choose what may be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mercato.errors import InvalidInput, NotFound
from mercato.models.slot import LiveModel, ModelSlot
from mercato.online.baskets import BasketNeighbours
from mercato.online.histories import RecentHistories
from mercato.online.stats import OnlineItemStats
from mercato.recommend import rules
from mercato.recommend.base import Recommender
from mercato.recommend.rules import Catalog, ListRequest

MODEL_WEIGHT = 1.0
# The online delta is evidence the model has not seen yet: as strong as the model itself.
DELTA_WEIGHT = 1.0
POPULARITY_WEIGHT = 0.05
RECENCY_DECAY = 0.8  # the item s steps before the latest counts RECENCY_DECAY**s
HISTORY_USED = 20  # distinct latest items that drive the online co-occurrence signal
REASON_SOURCES = 3  # latest distinct items considered when explaining an item
MAX_SESSION_ITEMS = 200
# Models whose scores do not depend on the history: "because you viewed X" would be untrue.
NON_PERSONAL_MODELS = frozenset({"popularity"})


@dataclass(frozen=True, slots=True)
class Recommendation:
    item_id: str
    score: float
    reason: str
    title: str


class RecommendationService:
    def __init__(
        self,
        *,
        catalog: Catalog,
        slot: ModelSlot,
        stats: OnlineItemStats,
        histories: RecentHistories,
        baskets: BasketNeighbours | None = None,
    ) -> None:
        self.catalog = catalog
        self.slot = slot
        self.stats = stats
        self.histories = histories
        self.baskets = baskets or BasketNeighbours.empty()
        self._rows_cache: tuple = (None, None, None, None)  # (model, catalog, model->catalog rows, id->model index)

    # ---- the four questions -----------------------------------------------------------------

    def for_user(self, user_id: str, request: ListRequest) -> list[Recommendation]:
        history = self.histories.get(user_id)
        banned = history.purchased if request.exclude_purchased else ()
        return self._for_history(history.items, history.types, request, banned)

    def for_session(self, item_ids: Sequence[str], request: ListRequest) -> list[Recommendation]:
        if len(item_ids) > MAX_SESSION_ITEMS:
            raise InvalidInput(f"a session may list at most {MAX_SESSION_ITEMS} items", field="item_ids")
        return self._for_history(tuple(item_ids), ("view",) * len(item_ids), request, ())

    def similar(self, item_id: str, request: ListRequest) -> list[Recommendation]:
        catalog, live = self.catalog, self.slot.current
        self._known(catalog, item_id)
        scores = np.zeros(len(catalog))
        if live is not None:
            rows, lookup = self._model_rows(live, catalog)
            pos = lookup.get(item_id)
            if pos is not None:
                _add_unit(scores, rows, live.model.similar_item_scores(pos), MODEL_WEIGHT)
        _add_unit(scores, *self._sparse(catalog, self.stats.co_viewed(item_id)), DELTA_WEIGHT)
        title = catalog.title(item_id)
        mask = rules.allowed_mask(catalog, request, banned=(item_id,)) & (scores > 0)
        return [
            Recommendation(catalog.item_ids[row], score, f"viewed together with {title}", catalog.title(catalog.item_ids[row]))
            for row, score in rules.select(catalog, scores, mask, request)
        ]

    def bought_together(self, item_id: str, request: ListRequest) -> list[Recommendation]:
        catalog = self.catalog
        self._known(catalog, item_id)
        counts = self.baskets.partners(item_id)
        for other, n in self.stats.co_bought(item_id).items():
            counts[other] = counts.get(other, 0.0) + n
        scores = np.zeros(len(catalog))
        rows, values = self._sparse(catalog, counts)
        scores[rows] = values  # raw order counts: the score says how many orders
        mask = rules.allowed_mask(catalog, request, banned=(item_id,)) & (scores > 0)
        reason = rules.bought_with(catalog.title(item_id))
        return [
            Recommendation(catalog.item_ids[row], score, reason, catalog.title(catalog.item_ids[row]))
            for row, score in rules.select(catalog, scores, mask, request)
        ]

    # ---- scoring ----------------------------------------------------------------------------

    def _for_history(
        self, items: tuple[str, ...], types: tuple[str, ...], request: ListRequest, banned
    ) -> list[Recommendation]:
        catalog, live = self.catalog, self.slot.current  # one snapshot for the whole request
        scores = np.zeros(len(catalog))
        latest = _latest_distinct(items, types, HISTORY_USED)
        sources = latest[:REASON_SOURCES]
        similarities: dict[str, np.ndarray] = {}
        lookup: dict[str, int] = {}
        if live is not None:
            model_rows, lookup = self._model_rows(live, catalog)
            history = np.array([lookup[i] for i in items if i in lookup], dtype=np.int32)
            history_scores, similarities = _score_with_sources(live, lookup, history, [item for item, _ in sources])
            _add_unit(scores, model_rows, history_scores, MODEL_WEIGHT)
        delta: dict[str, float] = {}
        for steps, (item, _) in enumerate(latest):
            for other, count in self.stats.co_viewed(item).items():
                delta[other] = delta.get(other, 0.0) + count * RECENCY_DECAY**steps
        _add_unit(scores, *self._sparse(catalog, delta), DELTA_WEIGHT)
        popularity = self.stats.popularity_for(catalog.item_ids)  # (n,) aligned with the catalog
        top = float(popularity.max()) if len(popularity) else 0.0
        if top > 0:
            scores += popularity * (POPULARITY_WEIGHT / top)
        mask = rules.allowed_mask(catalog, request, banned)
        page = rules.select(catalog, scores, mask, request)
        page_rows = np.array([row for row, _ in page], dtype=np.int64)
        contributions = [self._contribution(catalog, similarities.get(item), lookup, item, page_rows) for item, _ in sources]
        out = []
        for position, (row, score) in enumerate(page):
            source = rules.strongest_source(contributions, position)
            if source is None:
                reason = rules.popular_reason(catalog, row)
            else:
                item, kind = sources[source]
                reason = rules.because_of(kind, catalog.title(item))
            item_id = catalog.item_ids[row]
            out.append(Recommendation(item_id, score, reason, catalog.title(item_id)))
        return out

    def _contribution(self, catalog, similarity: np.ndarray | None, lookup, item: str, page_rows: np.ndarray) -> np.ndarray:
        """(len(page_rows),) how much ``item`` alone supports each listed item: model similarity
        plus online co-views, each relative to its strongest value for ``item``."""
        values = np.zeros(len(page_rows))
        if similarity is not None:
            similarity = np.asarray(similarity, dtype=np.float64)  # (n_model,)
            top = float(similarity.max()) if len(similarity) else 0.0
            if top > 0:
                model_positions = np.array([lookup.get(str(catalog.item_ids[r]), -1) for r in page_rows], dtype=np.int64)
                known = model_positions >= 0
                values[known] += similarity[model_positions[known]] / top
        co_views = self.stats.co_viewed(item)
        if co_views:
            top = max(co_views.values())
            values += np.array([co_views.get(str(catalog.item_ids[r]), 0.0) / top for r in page_rows])
        return values

    def _model_rows(self, live: LiveModel, catalog: Catalog) -> tuple[np.ndarray, dict[str, int]]:
        """(n_model_items,) catalog row of each model item (-1 if not in the catalog), and id -> model index."""
        model, cached_catalog, rows, lookup = self._rows_cache
        if model is not live.model or cached_catalog is not catalog:
            ids = live.model.item_ids
            rows = catalog.positions(ids)
            lookup = {str(item): i for i, item in enumerate(ids)}
            self._rows_cache = (live.model, catalog, rows, lookup)
        return rows, lookup

    @staticmethod
    def _sparse(catalog: Catalog, values: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        rows = catalog.positions(values.keys())
        return rows, np.fromiter(values.values(), dtype=np.float64, count=len(values))

    @staticmethod
    def _known(catalog: Catalog, item_id: str) -> None:
        if catalog.get(item_id) is None:
            raise NotFound(f"item {item_id!r} is not in the catalog; add it with PUT /v1/items/{{id}}")


def _score_with_sources(
    live: LiveModel, lookup: dict[str, int], history: np.ndarray, sources: list[str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The history's scores, and each source item's similarity row (for reasons).

    A model that answers similarity by scoring a one-item history (the base class's way, e.g.
    a transformer) gets one batched call for all of them instead of one call each; a model
    with its own similarity (item-kNN's neighbour rows) is asked directly. Non-personal
    models explain nothing: their scores do not depend on the history.
    """
    model = live.model
    known = [item for item in sources if item in lookup] if model.name not in NON_PERSONAL_MODELS else []
    if type(model).similar_item_scores is Recommender.similar_item_scores:
        batch = [history, *(np.array([lookup[item]], dtype=np.int32) for item in known)]
        rows = model.score_histories(batch, np.full(len(batch), -1))  # (1 + len(known), n_model)
        return rows[0], dict(zip(known, rows[1:], strict=True))
    history_scores = model.score_histories([history], np.array([-1]))[0]
    return history_scores, {item: model.similar_item_scores(lookup[item]) for item in known}


def _add_unit(target: np.ndarray, rows: np.ndarray, values: np.ndarray, weight: float) -> None:
    """target[rows] += weight · values / max|values|, skipping rows < 0 (not in the catalog) and non-finite values."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return
    low, high = float(values.min()), float(values.max())
    if not (np.isfinite(low) and np.isfinite(high)):  # rare: a model that scores -inf; mask it out
        finite = np.isfinite(values)
        rows, values = rows[finite], values[finite]
        if len(values) == 0:
            return
        low, high = float(values.min()), float(values.max())
    scale = max(abs(low), abs(high))
    if scale == 0:
        return
    keep = rows >= 0
    if keep.all():
        target[rows] += values * (weight / scale)
    else:
        target[rows[keep]] += values[keep] * (weight / scale)


def _latest_distinct(items: tuple[str, ...], types: tuple[str, ...], n: int) -> list[tuple[str, str]]:
    """The ``n`` latest distinct items, newest first, each with the type of its latest event."""
    seen: dict[str, str] = {}
    for item, kind in zip(reversed(items), reversed(types), strict=True):
        if item not in seen:
            seen[item] = kind
            if len(seen) == n:
                break
    return list(seen.items())
