"""EASE: an item-item linear model with a closed-form solution (Steck 2019, "Embarrassingly
Shallow Autoencoders for Sparse Data", WWW '19).

EASE learns B minimizing ||X − X B||² + λ||B||² subject to diag(B) = 0. The solution is

    P = (XᵀX + λI)⁻¹,    B = I − P · diagMat(1 ⊘ diag(P))     (Steck 2019, eq. 8)

so B_ij = −P_ij / P_jj off the diagonal and 0 on it. A history's scores are its binary item
vector times B.

The inverse is dense (m, m). Only the ``max_items`` most popular items (by number of distinct
users) get a learned row and column: a 43k-item catalog would need a 43k × 43k inverse, far
beyond a couple of CPU cores in minutes, while the long tail contributes little to it. Items
outside that set are ignored in histories and always rank below every learned item: each row
places them at (lowest learned score − 1 + 0.5 · normalized popularity), so among themselves
they follow popularity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from mercato.errors import InvalidInput
from mercato.recommend.base import Recommender
from mercato.recommend.interactions import Interactions
from mercato.recommend.popularity import item_popularity


class EASERecommender(Recommender):
    """Closed-form item-item autoencoder on the most popular items.

    l2: λ, the ridge penalty added to the Gram matrix diagonal (Steck uses a few hundred).
    max_items: how many of the most popular items get a learned column; the fit costs
        O(max_items³) time and a few max_items² float32 arrays of memory.
    A history with no learned item (unknown user, empty session) is answered by popularity.
    """

    name = "ease"

    def __init__(self, *, l2: float = 500.0, max_items: int = 20000) -> None:
        super().__init__(l2=l2, max_items=max_items)
        self.learned_items: np.ndarray | None = None  # (m,) int64 item indices with a learned column, ascending
        self.weights: np.ndarray | None = None  # (m, m) float32 B, zero diagonal
        self.cold_start_scores: np.ndarray | None = None  # (n_items,) float32 popularity in [0, 1]
        self._learned_position: np.ndarray | None = None  # (n_items,) int64 column in B, or -1

    def _validate_params(self) -> None:
        l2, max_items = self.params["l2"], self.params["max_items"]
        if isinstance(l2, bool) or not isinstance(l2, (int, float, np.integer, np.floating)) or not l2 > 0:
            raise InvalidInput(f"ease: l2 must be a positive number (e.g. 500.0), got {l2!r}")
        if isinstance(max_items, bool) or not isinstance(max_items, (int, np.integer)) or max_items < 1:
            raise InvalidInput(
                f"ease: max_items must be a positive integer (e.g. 20000; time grows with its cube), got {max_items!r}"
            )

    def _fit(self, interactions: Interactions) -> None:
        self._validate_params()
        user_items = interactions.matrix.copy()  # (n_users, n_items)
        user_items.data[:] = 1.0  # EASE models binary data
        users_per_item = np.asarray(user_items.sum(axis=0)).ravel()  # (n_items,)
        by_popularity = np.argsort(-users_per_item, kind="stable")  # ties: lower index first
        self.learned_items = np.sort(by_popularity[: int(self.params["max_items"])]).astype(np.int64)
        self.weights = ease_weights(user_items[:, self.learned_items], float(self.params["l2"]))
        popularity = item_popularity(interactions)
        self.cold_start_scores = (popularity / popularity.max()).astype(np.float32)
        self._index_learned_items()

    def _index_learned_items(self) -> None:
        self._learned_position = np.full(len(self.item_ids), -1, dtype=np.int64)
        self._learned_position[self.learned_items] = np.arange(len(self.learned_items))

    def score_histories(self, histories: Sequence[np.ndarray], users: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        n_rows, n_learned = len(histories), len(self.learned_items)
        lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=n_rows)  # (B,)
        items = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories]) if lengths.sum() else np.empty(0, np.int64)
        columns = self._learned_position[items]  # (N,) -1 for items without a learned column
        rows = np.repeat(np.arange(n_rows), lengths)[columns >= 0]
        columns = columns[columns >= 0]
        history_matrix = sp.csr_matrix(
            (np.ones(len(columns), dtype=np.float32), (rows, columns)), shape=(n_rows, n_learned)
        )  # (B, m)
        history_matrix.data[:] = 1.0  # repeats were summed by the constructor; EASE wants binary input
        learned_scores = np.asarray(history_matrix @ self.weights, dtype=np.float32)  # (B, m)

        scores = np.empty((n_rows, len(self.item_ids)), dtype=np.float32)  # (B, n_items)
        scores[:, self.learned_items] = learned_scores
        unlearned = self._learned_position < 0
        if unlearned.any():
            floor = learned_scores.min(axis=1, keepdims=True) - 1.0  # (B, 1) below every learned item
            scores[:, unlearned] = floor + 0.5 * self.cold_start_scores[unlearned]
        no_signal = np.diff(history_matrix.indptr) == 0  # (B,)
        scores[no_signal] = self.cold_start_scores
        return scores

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "learned_items": self.learned_items,
            "weights": self.weights,
            "cold_start_scores": self.cold_start_scores,
        }

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.learned_items = arrays["learned_items"].astype(np.int64)
        self.weights = arrays["weights"]
        self.cold_start_scores = arrays["cold_start_scores"]
        self._index_learned_items()


def ease_weights(user_items: sp.csr_matrix, l2: float) -> np.ndarray:
    """(n_users, m) binary -> (m, m) float32 B = I − P·diagMat(1 ⊘ diag(P)), P = (XᵀX + λI)⁻¹.

    XᵀX + λI is symmetric positive definite, so a Cholesky factorization and its in-place
    inverse (LAPACK potrf + potri, about a third of the flops of a general inverse) are used.
    float32 halves time and memory; counts stay exact below 2²⁴ and λ keeps the system well
    conditioned.
    """
    item_users = user_items.T.tocsr()  # (m, n_users)
    gram = np.asfortranarray((item_users @ user_items).toarray(), dtype=np.float32)  # (m, m) XᵀX
    gram[np.diag_indices_from(gram)] += np.float32(l2)
    factor, info = lapack.spotrf(gram, lower=0, clean=0, overwrite_a=1)
    if info != 0:
        raise InvalidInput(f"ease: Cholesky factorization failed (LAPACK info={info}); try a larger l2")
    inverse_upper, info = lapack.spotri(factor, lower=0, overwrite_c=1)  # upper triangle holds P
    if info != 0:
        raise InvalidInput(f"ease: inverting the Gram matrix failed (LAPACK info={info}); try a larger l2")
    del gram, factor
    precision = np.triu(inverse_upper)  # (m, m)
    del inverse_upper
    precision += np.triu(precision, 1).T  # mirror the upper triangle: P is symmetric
    diagonal = precision.diagonal().copy()  # (m,) P_jj > 0
    precision /= -diagonal[None, :]  # column j divided by −P_jj
    np.fill_diagonal(precision, 0.0)
    return precision
