"""Item-to-item nearest neighbours: "people who interacted with this also interacted with that".

Similarity is the shrunk cosine of two items' user sets on the binarized user × item matrix,

    sim(i, j) = |U_i ∩ U_j| / (sqrt(|U_i|) · sqrt(|U_j|) + shrink)

(the shrink term damps pairs seen together only a few times, as in Sarwar et al. 2001 and the
session-based kNN baselines of Ludewig & Jannach 2018). Only the ``neighbors`` most similar
items are kept per item, so the model stays a sparse (n_items, n_items) matrix; the full
product Xᵀ X is sparse too and is never densified.

A history is scored by summing the similarity rows of its items. With ``recency_decay`` > 0
an item ``s`` steps before the end of the history weighs exp(-recency_decay · s): in
sessions the last click says most about the next one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from mercato.errors import InvalidInput
from mercato.recommend.base import Recommender
from mercato.recommend.interactions import Interactions
from mercato.recommend.popularity import item_popularity


class ItemKNNRecommender(Recommender):
    """Sparse item-item cosine neighbours.

    neighbors: similar items kept per item (top-k pruning of each similarity row).
    shrink: added to the cosine denominator; 0 gives the plain cosine.
    recency_decay: 0 weighs every history item equally; larger values favour the latest items.
    A history with no neighbour signal (unknown user, empty session, items never seen with
    others) is answered by item popularity.
    """

    name = "itemknn"

    def __init__(self, *, neighbors: int = 100, shrink: float = 10.0, recency_decay: float = 0.0) -> None:
        super().__init__(neighbors=neighbors, shrink=shrink, recency_decay=recency_decay)
        self.similarity: sp.csr_matrix | None = None  # (n_items, n_items) float32, row i: neighbours of i
        self.cold_start_scores: np.ndarray | None = None  # (n_items,) float32 popularity in [0, 1]

    def _validate_params(self) -> None:
        neighbors, shrink, decay = (self.params[k] for k in ("neighbors", "shrink", "recency_decay"))
        if isinstance(neighbors, bool) or not isinstance(neighbors, (int, np.integer)) or neighbors < 1:
            raise InvalidInput(f"itemknn: neighbors must be a positive integer (e.g. 100), got {neighbors!r}")
        if not _is_number(shrink) or shrink < 0:
            raise InvalidInput(f"itemknn: shrink must be a number >= 0 (e.g. 10.0), got {shrink!r}")
        if not _is_number(decay) or decay < 0:
            raise InvalidInput(
                f"itemknn: recency_decay must be a number >= 0 (0 weighs all history items equally), got {decay!r}"
            )

    def _fit(self, interactions: Interactions) -> None:
        self._validate_params()
        user_items = interactions.matrix.copy()  # (n_users, n_items)
        user_items.data[:] = 1.0  # binarize: repeats and weights do not count here
        self.similarity = cosine_neighbors(user_items, int(self.params["neighbors"]), float(self.params["shrink"]))
        popularity = item_popularity(interactions)
        self.cold_start_scores = (popularity / popularity.max()).astype(np.float32)

    def score_histories(self, histories: Sequence[np.ndarray], users: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        n_items = len(self.item_ids)
        weighted = recency_weighted_histories(histories, n_items, float(self.params["recency_decay"]))  # (B, n)
        sparse_scores = (weighted @ self.similarity).tocsr()  # (B, n_items)
        scores = sparse_scores.toarray().astype(np.float32, copy=False)  # (B, n_items)
        # Empty histories, and histories whose items have no neighbours, fall back to popularity.
        no_signal = np.diff(sparse_scores.indptr) == 0  # (B,)
        scores[no_signal] = self.cold_start_scores
        return scores

    def similar_item_scores(self, item: int) -> np.ndarray:
        self._check_fitted()
        return self.similarity[item].toarray()[0]  # (n_items,)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "similarity_data": self.similarity.data,
            "similarity_indices": self.similarity.indices,
            "similarity_indptr": self.similarity.indptr,
            "cold_start_scores": self.cold_start_scores,
        }

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        n_items = len(self.item_ids)
        self.similarity = sp.csr_matrix(
            (arrays["similarity_data"], arrays["similarity_indices"], arrays["similarity_indptr"]),
            shape=(n_items, n_items),
        )
        self.cold_start_scores = arrays["cold_start_scores"]


def cosine_neighbors(user_items: sp.csr_matrix, neighbors: int, shrink: float) -> sp.csr_matrix:
    """(n_users, n_items) binary -> (n_items, n_items) float32 shrunk cosine, top ``neighbors`` per row.

    The diagonal is zero (an item is not its own neighbour). Ties at the cut are broken by the
    lower item index, so the result does not depend on the order scipy leaves entries in.
    """
    item_users = user_items.T.tocsr()  # (n_items, n_users)
    co_counts = (item_users @ user_items).tocoo()  # (n_items, n_items) |U_i ∩ U_j|, sparse
    item_counts = np.asarray(item_users.sum(axis=1)).ravel()  # (n_items,) |U_i|
    rows, cols = co_counts.row, co_counts.col
    off_diagonal = rows != cols
    rows, cols = rows[off_diagonal], cols[off_diagonal]
    norms = np.sqrt(item_counts)
    values = co_counts.data[off_diagonal] / (norms[rows] * norms[cols] + shrink)  # (nnz,) float64
    keep = _top_per_row(rows, cols, values, neighbors)
    n_items = user_items.shape[1]
    similarity = sp.csr_matrix(
        (values[keep].astype(np.float32), (rows[keep], cols[keep])), shape=(n_items, n_items)
    )
    similarity.sort_indices()
    return similarity


def _top_per_row(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask over entries keeping the k largest values of each row (vectorized, no row loop)."""
    order = np.lexsort((cols, -values, rows))  # by row, then value descending, then column
    sorted_rows = rows[order]
    row_starts = np.searchsorted(sorted_rows, sorted_rows, side="left")  # first position of each entry's row
    rank_in_row = np.arange(len(order)) - row_starts
    keep = np.zeros(len(order), dtype=bool)
    keep[order[rank_in_row < k]] = True
    return keep


def recency_weighted_histories(histories: Sequence[np.ndarray], n_items: int, decay: float) -> sp.csr_matrix:
    """(B, n_items) float32 CSR: one entry per distinct history item, weight exp(-decay · steps from the end).

    An item seen several times keeps the weight of its latest occurrence (the largest one).
    """
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))  # (B,)
    n_rows = len(histories)
    if lengths.sum() == 0:
        return sp.csr_matrix((n_rows, n_items), dtype=np.float32)
    items = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories])  # (N,)
    rows = np.repeat(np.arange(n_rows), lengths)  # (N,)
    ends = np.repeat(np.cumsum(lengths), lengths)  # (N,) one past each entry's history end
    steps_from_end = ends - np.arange(len(items)) - 1  # (N,) 0 for the latest item
    # The latest occurrence of a (row, item) pair is the first one met when walking backwards.
    keys = rows * n_items + items
    _, last = np.unique(keys[::-1], return_index=True)
    last = len(keys) - 1 - last
    weights = np.exp(-decay * steps_from_end[last]).astype(np.float32)
    return sp.csr_matrix((weights, (rows[last], items[last])), shape=(n_rows, n_items))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
