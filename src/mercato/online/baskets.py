"""Bought together: item pairs that share real orders, counted in batch over the stored purchases.

The count of orders holding both items, kept for each item's ``neighbors`` most frequent
partners. Built with one sparse product (orders × items)ᵀ(orders × items) when the learner
refits; the purchases since then come from ``OnlineItemStats.co_bought``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class BasketNeighbours:
    item_ids: np.ndarray  # (n,) str
    position: dict[str, int]
    counts: sp.csr_matrix  # (n, n) float32: orders holding both; top ``neighbors`` per row

    @classmethod
    def empty(cls) -> BasketNeighbours:
        return cls(np.empty(0, dtype=object), {}, sp.csr_matrix((0, 0), dtype=np.float32))

    @classmethod
    def from_purchases(cls, purchases: pd.DataFrame, *, neighbors: int = 50) -> BasketNeighbours:
        """``purchases``: an event frame; rows without ``order_id`` or ``item_id`` are ignored."""
        rows = purchases[purchases["order_id"].notna() & purchases["item_id"].notna()]
        rows = rows[rows["type"] == "purchase"]
        if rows.empty:
            return cls.empty()
        order_codes, _ = pd.factorize(rows["order_id"].astype(str))
        item_codes, item_ids = pd.factorize(rows["item_id"].astype(str))
        n_items = len(item_ids)
        order_items = sp.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (order_codes, item_codes)), shape=(order_codes.max() + 1, n_items)
        )
        order_items.data[:] = 1.0  # an item twice in one order is still one basket
        order_items.sum_duplicates()
        order_items.data[:] = 1.0
        together = (order_items.T @ order_items).tocoo()  # (n_items, n_items)
        off_diagonal = together.row != together.col
        r, c, v = together.row[off_diagonal], together.col[off_diagonal], together.data[off_diagonal]
        order = np.lexsort((c, -v, r))  # by row, then count descending, then column
        r, c, v = r[order], c[order], v[order]
        rank = np.arange(len(r)) - np.searchsorted(r, r, side="left")
        keep = rank < neighbors
        counts = sp.csr_matrix((v[keep], (r[keep], c[keep])), shape=(n_items, n_items), dtype=np.float32)
        ids = np.asarray(item_ids, dtype=object)
        return cls(ids, {str(i): k for k, i in enumerate(ids)}, counts)

    def partners(self, item_id: str) -> dict[str, float]:
        """Items bought in the same orders as ``item_id`` -> number of such orders."""
        row = self.position.get(item_id)
        if row is None:
            return {}
        start, end = self.counts.indptr[row], self.counts.indptr[row + 1]
        return {
            str(self.item_ids[j]): float(n)
            for j, n in zip(self.counts.indices[start:end], self.counts.data[start:end], strict=True)
        }
