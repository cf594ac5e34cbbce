"""Full-ranking top-K metrics: HR (= Recall for one target), Recall, NDCG, MRR, catalog coverage.

Every item of the catalog is ranked for every test case; nothing is sampled. A target the
model cannot rank (an item it never saw, or one the protocol excluded) counts as a miss.

``RankingMetrics`` is the fast path (top-K lists from ``top_k_indices``); ``reference_ranks``
is the plain definition it is tested against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CUTOFFS: tuple[int, ...] = (10, 20)


class RankingMetrics:
    """Accumulates metrics over batches of (top-K list, target set) pairs."""

    def __init__(self, n_items: int, cutoffs: Sequence[int] = CUTOFFS) -> None:
        self.n_items = n_items
        self.cutoffs = tuple(sorted(cutoffs))
        self.max_k = self.cutoffs[-1]
        self.n_cases = 0
        self._sums = {f"{name}@{k}": 0.0 for k in self.cutoffs for name in ("hr", "recall", "ndcg", "mrr")}
        self._recommended = {k: np.zeros(n_items, dtype=bool) for k in self.cutoffs}
        # 1 / log2(rank + 2) for 0-based ranks: the DCG discount.
        self._discount = 1.0 / np.log2(np.arange(self.max_k) + 2.0)

    def update(self, top: np.ndarray, targets: Sequence[np.ndarray]) -> None:
        """top: (B, >= max_k) item indices, best first; targets: B arrays of relevant item indices."""
        if top.shape[1] < self.max_k and top.shape[1] < self.n_items:
            raise ValueError(f"need top-{self.max_k} lists, got {top.shape[1]}")
        for k in self.cutoffs:
            self._recommended[k][top[:, :k].ravel()] = True
        for row, target in zip(top, targets, strict=True):
            self.n_cases += 1
            target = np.asarray(target)
            target = target[target >= 0]
            if target.size == 0:
                continue
            hits = np.isin(row[: self.max_k], target)  # (max_k,)
            for k in self.cutoffs:
                hit_k = hits[:k]
                n_hits = int(hit_k.sum())
                if n_hits == 0:
                    continue
                first = int(np.argmax(hit_k))
                ideal = self._discount[: min(k, target.size)].sum()
                self._sums[f"hr@{k}"] += 1.0
                self._sums[f"recall@{k}"] += n_hits / min(k, target.size)
                self._sums[f"ndcg@{k}"] += float(self._discount[:k][hit_k].sum() / ideal)
                self._sums[f"mrr@{k}"] += 1.0 / (first + 1)

    def result(self) -> dict[str, float]:
        n = max(self.n_cases, 1)
        out = {name: total / n for name, total in self._sums.items()}
        for k in self.cutoffs:
            out[f"coverage@{k}"] = float(self._recommended[k].mean()) if self.n_items else 0.0
        return out


def reference_ranks(scores: np.ndarray, target: int) -> int:
    """0-based rank of ``target`` by a full stable sort (ties: lower index first); -1 if unrankable."""
    if target < 0 or not np.isfinite(scores[target]):
        return -1
    order = np.argsort(-scores, kind="stable")
    return int(np.nonzero(order == target)[0][0])
