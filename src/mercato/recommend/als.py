"""Implicit-feedback matrix factorization by alternating least squares (Hu, Koren & Volinsky 2008,
"Collaborative Filtering for Implicit Feedback Datasets", ICDM '08).

Every (user, item) cell is a preference p_ui ∈ {0, 1} with confidence c_ui = 1 + α·r_ui, where
r_ui is the summed interaction weight (the count for unit weights); ALS minimizes

    Σ c_ui (p_ui − x_uᵀ y_i)² + λ (Σ ||x_u||² + Σ ||y_i||²).

The ``implicit`` library fits it (its conjugate-gradient solver). ``implicit`` takes the
confidence matrix itself and uses c − 1 as the extra weight of an observed cell, so we pass
1 + α·r and leave its own ``alpha`` at 1.

Fitted users score with their learned factors. Any other history (a new user, a session, a
prefix of a known user's history) is folded in: its factor is the exact least-squares
solution against the fixed item factors (Hu et al. 2008, eq. 4),

    x = (YᵀY + Yᵀ(Cᵘ − I)Y + λI)⁻¹ YᵀCᵘ p(u),

solved for a whole batch of histories at once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from mercato.errors import InvalidInput
from mercato.recommend.base import Recommender
from mercato.recommend.interactions import Interactions
from mercato.recommend.popularity import item_popularity

# Fold-in pads each history of a chunk to the chunk's longest; these bound a chunk's arrays:
# (rows, max_len, factors) gathered item factors and (rows, factors, factors) normal equations.
FOLD_IN_MAX_PADDED_ENTRIES = 1 << 16
FOLD_IN_MAX_ROWS = 1024


class ALSRecommender(Recommender):
    """Implicit ALS (Hu et al. 2008) with batched fold-in of unseen histories.

    factors: latent dimensions.  regularization: λ (> 0).  alpha: confidence per unit of
    interaction weight (c = 1 + alpha·r).  iterations: ALS sweeps.  random_state: seed of the
    initial factors.  An empty history is answered by item popularity.
    """

    name = "als"

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 1.0,
        iterations: int = 15,
        random_state: int = 0,
    ) -> None:
        super().__init__(
            factors=factors, regularization=regularization, alpha=alpha, iterations=iterations, random_state=random_state
        )
        self.user_factors: np.ndarray | None = None  # (n_users, factors) float32
        self.item_factors: np.ndarray | None = None  # (n_items, factors) float32
        self.cold_start_scores: np.ndarray | None = None  # (n_items,) float32 popularity in [0, 1]

    def _validate_params(self) -> None:
        p = self.params
        for key, example in (("factors", 64), ("iterations", 15)):
            if not _is_int(p[key]) or p[key] < 1:
                raise InvalidInput(f"als: {key} must be a positive integer (e.g. {example}), got {p[key]!r}")
        if not _is_number(p["regularization"]) or not p["regularization"] > 0:
            raise InvalidInput(f"als: regularization must be a positive number (e.g. 0.05), got {p['regularization']!r}")
        if not _is_number(p["alpha"]) or p["alpha"] < 0:
            raise InvalidInput(f"als: alpha must be a number >= 0 (e.g. 1.0), got {p['alpha']!r}")
        if not _is_int(p["random_state"]):
            raise InvalidInput(f"als: random_state must be an integer seed, got {p['random_state']!r}")

    def _fit(self, interactions: Interactions) -> None:
        self._validate_params()
        from implicit.cpu.als import AlternatingLeastSquares  # the CPU class: never probes for CUDA

        confidence = interactions.matrix.copy()  # (n_users, n_items) float32 summed weights r
        confidence.data = (1.0 + float(self.params["alpha"]) * confidence.data).astype(np.float32)
        # implicit solves many small systems in its own threads; a multi-threaded BLAS underneath
        # oversubscribes the cores, and implicit warns about it when constructed.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=int(self.params["factors"]),
                regularization=float(self.params["regularization"]),
                alpha=1.0,
                iterations=int(self.params["iterations"]),
                random_state=int(self.params["random_state"]),
                dtype=np.float32,
            )
            model.fit(confidence, show_progress=False)
        self.user_factors = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        popularity = item_popularity(interactions)
        self.cold_start_scores = (popularity / popularity.max()).astype(np.float32)

    def score_histories(self, histories: Sequence[np.ndarray], users: np.ndarray | None = None) -> np.ndarray:
        self._check_fitted()
        n_rows = len(histories)
        known = self._known_user_rows(histories, users)  # (B,) bool
        user_vectors = np.zeros((n_rows, self.item_factors.shape[1]), dtype=np.float32)  # (B, f)
        if known.any():
            user_vectors[known] = self.user_factors[np.asarray(users)[known]]
        unknown = np.flatnonzero(~known)
        if len(unknown):
            user_vectors[unknown] = self.fold_in([histories[i] for i in unknown])
        scores = user_vectors @ self.item_factors.T  # (B, n_items)
        empty = np.fromiter((len(h) == 0 for h in histories), dtype=bool, count=n_rows) & ~known
        scores[empty] = self.cold_start_scores
        return scores

    def _known_user_rows(self, histories: Sequence[np.ndarray], users: np.ndarray | None) -> np.ndarray:
        """Rows whose user was fitted and whose history is exactly the one it was fitted on."""
        known = np.zeros(len(histories), dtype=bool)
        if users is None:
            return known
        for row, user in enumerate(np.asarray(users)):
            if 0 <= user < len(self.user_factors):
                fitted = self._user_items[user]
                history = histories[row]
                known[row] = history is fitted or (len(history) == len(fitted) and np.array_equal(history, fitted))
        return known

    def fold_in(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """(B,) histories -> (B, factors) float32 user factors solving the ALS least squares."""
        n_rows, n_factors = len(histories), self.item_factors.shape[1]
        counts = _history_counts(histories, len(self.item_ids))  # (B, n_items) CSR, repeats summed
        lengths = np.diff(counts.indptr)  # (B,) distinct items per history
        item_factors = self.item_factors.astype(np.float64)  # (n_items, f)
        # YᵀY + λI is shared by every history; each adds its own rank-len correction.
        base = item_factors.T @ item_factors + float(self.params["regularization"]) * np.eye(n_factors)  # (f, f)
        alpha = float(self.params["alpha"])
        result = np.zeros((n_rows, n_factors), dtype=np.float32)
        for rows in _length_sorted_chunks(lengths):
            max_len = int(lengths[rows[-1]])
            if max_len == 0:
                continue  # empty histories: x = 0
            offsets = np.arange(max_len)  # (L,)
            valid = offsets[None, :] < lengths[rows, None]  # (b, L)
            positions = np.minimum(counts.indptr[rows, None] + offsets[None, :], counts.nnz - 1)  # (b, L)
            confidence = np.where(valid, 1.0 + alpha * counts.data[positions], 0.0)  # (b, L) c, 0 for padding
            extra = np.where(valid, confidence - 1.0, 0.0)  # (b, L) c − 1
            gathered = item_factors[counts.indices[positions]]  # (b, L, f)
            normal = base + np.matmul(gathered.transpose(0, 2, 1) * extra[:, None, :], gathered)  # (b, f, f)
            rhs = np.einsum("bl,blf->bf", confidence, gathered)  # (b, f) YᵀCᵘp(u)
            result[rows] = np.linalg.solve(normal, rhs[:, :, None])[:, :, 0]
        return result

    def similar_item_scores(self, item: int) -> np.ndarray:
        """(n_items,) cosine similarity of item factors."""
        self._check_fitted()
        norms = np.linalg.norm(self.item_factors, axis=1)  # (n_items,)
        dots = self.item_factors @ self.item_factors[item]  # (n_items,)
        return (dots / np.maximum(norms * norms[item], 1e-12)).astype(np.float32)

    def _state(self) -> dict[str, np.ndarray]:
        return {
            "user_factors": self.user_factors,
            "item_factors": self.item_factors,
            "cold_start_scores": self.cold_start_scores,
        }

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        self.user_factors = arrays["user_factors"]
        self.item_factors = arrays["item_factors"]
        self.cold_start_scores = arrays["cold_start_scores"]


def _history_counts(histories: Sequence[np.ndarray], n_items: int) -> sp.csr_matrix:
    """(B, n_items) float64 CSR of occurrence counts, sorted column indices."""
    lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
    items = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories]) if lengths.sum() else np.empty(0, np.int64)
    rows = np.repeat(np.arange(len(histories)), lengths)
    counts = sp.csr_matrix((np.ones(len(items)), (rows, items)), shape=(len(histories), n_items))
    counts.sum_duplicates()
    return counts


def _length_sorted_chunks(lengths: np.ndarray):
    """Row indices, shortest history first, in chunks whose padded size stays bounded."""
    order = np.argsort(lengths, kind="stable")
    start = 0
    while start < len(order):
        # Rows are sorted by length, so the longest row of a chunk is its last one.
        end = min(start + FOLD_IN_MAX_ROWS, len(order))
        while end - start > 1 and (end - start) * lengths[order[end - 1]] > FOLD_IN_MAX_PADDED_ENTRIES:
            end = start + max(1, (end - start) // 2)
        yield order[start:end]
        start = end


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
