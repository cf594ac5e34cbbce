"""Interactions: the user × item data a recommender learns from, with ids mapped to dense indices.

Built from an event frame (or any frame with user, item and time columns). Keeps the raw
(user, item, time, weight) rows in time order, so recommenders can derive a sparse
matrix, per-user sequences, or recency weights from one object.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mercato.errors import InvalidInput


@dataclass(frozen=True, eq=False)
class Interactions:
    user_ids: np.ndarray  # (n_users,) str: index -> external user id
    item_ids: np.ndarray  # (n_items,) str: index -> external item id
    user_idx: np.ndarray  # (n,) int32, rows sorted by (user, time, original order)
    item_idx: np.ndarray  # (n,) int32
    timestamps: np.ndarray  # (n,) int64 seconds since the epoch
    weights: np.ndarray  # (n,) float32

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        user_col: str = "user_id",
        item_col: str = "item_id",
        time_col: str = "occurred_at",
        weight_col: str | None = None,
        item_ids: np.ndarray | None = None,
    ) -> Interactions:
        """Index a frame. Row order breaks ties between equal timestamps (stable sort).

        ``item_ids`` fixes the item index (e.g. the whole catalog); rows with items outside it
        are dropped. Otherwise the items are those of the frame, in order of first appearance.
        """
        for col in (user_col, item_col, time_col):
            if col not in frame.columns:
                raise InvalidInput(f"interactions need a '{col}' column; got {list(frame.columns)}")
        frame = frame[frame[user_col].notna() & frame[item_col].notna()]
        users = frame[user_col].astype(str).to_numpy()
        items = frame[item_col].astype(str).to_numpy()
        if item_ids is None:
            item_codes, item_ids = pd.factorize(items)
        else:
            item_ids = np.asarray(item_ids, dtype=str)
            item_codes = pd.Index(item_ids).get_indexer(items)
        keep = item_codes >= 0
        user_codes, user_ids = pd.factorize(users[keep])
        times = _to_seconds(frame[time_col])[keep]
        weights = (
            frame[weight_col].to_numpy(dtype=np.float32)[keep]
            if weight_col
            else np.ones(int(keep.sum()), dtype=np.float32)
        )
        order = np.lexsort((np.arange(len(times)), times, user_codes))
        return cls(
            user_ids=np.asarray(user_ids, dtype=str),
            item_ids=np.asarray(item_ids, dtype=str),
            user_idx=user_codes[order].astype(np.int32),
            item_idx=item_codes[keep][order].astype(np.int32),
            timestamps=times[order],
            weights=weights[order],
        )

    @classmethod
    def from_sequences(cls, sequences: list[list[str]] | list[np.ndarray], user_ids: list[str] | None = None) -> Interactions:
        """Index ordered item sequences (one per user or session); position is the timestamp."""
        users = user_ids if user_ids is not None else [str(i) for i in range(len(sequences))]
        if len(users) != len(sequences):
            raise InvalidInput("user_ids and sequences differ in length")
        lengths = [len(s) for s in sequences]
        frame = pd.DataFrame(
            {
                "user_id": np.repeat(np.asarray(users, dtype=str), lengths),
                "item_id": np.concatenate([np.asarray(s, dtype=str) for s in sequences]) if sequences else [],
                "t": np.concatenate([np.arange(n) for n in lengths]) if sequences else [],
            }
        )
        return cls.from_frame(frame, time_col="t")

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.item_idx)

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """(n_users, n_items) float32 CSR; repeated (user, item) pairs sum their weights."""
        m = sp.csr_matrix(
            (self.weights, (self.user_idx, self.item_idx)), shape=(self.n_users, self.n_items), dtype=np.float32
        )
        m.sum_duplicates()
        return m

    @cached_property
    def user_offsets(self) -> np.ndarray:
        """(n_users + 1,) start of each user's rows; rows are sorted by user then time."""
        return np.searchsorted(self.user_idx, np.arange(self.n_users + 1)).astype(np.int64)

    def sequence(self, user: int) -> np.ndarray:
        """Item indices of one user in time order (repeats kept)."""
        start, end = self.user_offsets[user], self.user_offsets[user + 1]
        return self.item_idx[start:end]

    def sequences(self) -> list[np.ndarray]:
        return np.split(self.item_idx, self.user_offsets[1:-1])

    @cached_property
    def user_index(self) -> pd.Index:
        return pd.Index(self.user_ids)

    @cached_property
    def item_index(self) -> pd.Index:
        return pd.Index(self.item_ids)

    def item_positions(self, item_ids) -> np.ndarray:
        """Indices of external item ids; -1 for ids never seen."""
        return self.item_index.get_indexer(np.asarray(list(item_ids), dtype=str))


def _to_seconds(column: pd.Series) -> np.ndarray:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        column = column.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.to_numpy(dtype="datetime64[s]").astype(np.int64)
    return column.to_numpy(dtype=np.int64)
