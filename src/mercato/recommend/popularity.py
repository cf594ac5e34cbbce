"""Popularity: every history gets the same ranking, the catalog's most bought/viewed items first.

The baseline every other model must beat, and the cold-start answer of a shop with no history
for a visitor. Popularity can decay with age so that last season's hits fade: an interaction
``half_life_days`` older than the newest one in the data counts half as much.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mercato.errors import InvalidInput
from mercato.recommend.base import Recommender
from mercato.recommend.interactions import Interactions

SECONDS_PER_DAY = 86_400


class PopularityRecommender(Recommender):
    """Scores each item by the (optionally time-decayed) sum of its interaction weights.

    half_life_days: None counts every interaction fully (with unit weights: plain counts);
        a positive number halves an interaction's weight for every ``half_life_days`` between
        its timestamp and the newest timestamp in the data (not the wall clock, so refitting
        the same data gives the same model).
    """

    name = "popularity"

    def __init__(self, *, half_life_days: float | None = None) -> None:
        super().__init__(half_life_days=half_life_days)
        self.item_scores: np.ndarray | None = None  # (n_items,) float32

    def _fit(self, interactions: Interactions) -> None:
        half_life_days = self.params["half_life_days"]
        self.item_scores = item_popularity(interactions, half_life_days)

    def score_histories(self, histories: Sequence[np.ndarray], users: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        # (B, n_items): the same row for every history, a writable copy per row.
        return np.tile(self.item_scores, (len(histories), 1))

    def _state(self) -> dict[str, np.ndarray]:
        return {"item_scores": self.item_scores}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_scores = arrays["item_scores"].astype(np.float32)


def item_popularity(interactions: Interactions, half_life_days: float | None = None) -> np.ndarray:
    """(n_items,) float32 sum of interaction weights per item, decayed by age when asked."""
    if half_life_days is not None:
        if isinstance(half_life_days, bool) or not isinstance(half_life_days, (int, float)) or not half_life_days > 0:
            raise InvalidInput(
                f"popularity: half_life_days must be a positive number of days or None (no decay), "
                f"got {half_life_days!r}"
            )
    weights = interactions.weights.astype(np.float64)  # (n,)
    if half_life_days is not None:
        age_s = (interactions.timestamps.max() - interactions.timestamps).astype(np.float64)  # (n,) >= 0
        weights = weights * np.exp2(-age_s / (float(half_life_days) * SECONDS_PER_DAY))
    counts = np.bincount(interactions.item_idx, weights=weights, minlength=interactions.n_items)
    return counts.astype(np.float32)
