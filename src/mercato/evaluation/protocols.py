"""Evaluation protocols: how a dataset is cut into what a model learns from and what it must predict.

- leave-one-out: per user, the last item is the test target and the second-to-last the
  validation target; the model trains on everything before the target.
- temporal: one global cut time; the model trains on events before it and must find each
  warm user's new items after it.
- session: given training sessions and test (prefix → next item) pairs, as in the SR-GNN splits.

Every protocol produces a ``Split``: training interactions and test cases expressed in the
training item index (ids the model never saw become -1 targets, i.e. certain misses).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.recommend.interactions import Interactions


@dataclass(eq=False)
class Split:
    protocol: str
    train: Interactions
    histories: list[np.ndarray]  # per case: input item indices, time order
    users: np.ndarray  # (n_cases,) user index in `train`, or -1 for an anonymous session
    targets: list[np.ndarray]  # per case: relevant item indices (-1 = unknown to the model)
    excluded: list[np.ndarray]  # per case: item indices that may not be recommended
    info: dict = field(default_factory=dict)
    item_attributes: dict[str, list[str]] | None = None  # item id -> side features, where the data has them

    @property
    def n_cases(self) -> int:
        return len(self.targets)


def leave_one_out(interactions: Interactions, *, split: str = "test", exclude_history: bool = True) -> Split:
    """Last item = test target, second-to-last = validation target (SASRec / S3-Rec protocol).

    The model trains on every row before the target (timestamps and weights kept). A user
    with no row before the target is not a test case but still contributes to training.
    """
    _check_split(split)
    held_out = 1 if split == "test" else 2
    offsets = interactions.user_offsets
    lengths = np.diff(offsets)  # (n_users,)
    row_user = interactions.user_idx
    position = np.arange(len(interactions)) - offsets[row_user]  # row's place in its user's sequence
    is_case = lengths > held_out  # (n_users,)
    keep = ~is_case[row_user] | (position < lengths[row_user] - held_out)
    train = Interactions.from_frame(
        pd.DataFrame(
            {
                "user_id": interactions.user_ids[row_user[keep]],
                "item_id": interactions.item_ids[interactions.item_idx[keep]],
                "t": interactions.timestamps[keep],
                "w": interactions.weights[keep],
            }
        ),
        time_col="t",
        weight_col="w",
    )
    case_users = np.nonzero(is_case)[0]
    target_rows = offsets[case_users] + lengths[case_users] - held_out
    old_to_new = train.item_positions(interactions.item_ids)  # items seen only as targets -> -1
    users = train.user_index.get_indexer(interactions.user_ids[case_users]).astype(np.int64)
    train_sequences = train.sequences()
    histories = [train_sequences[u] for u in users]
    empty = np.empty(0, np.int32)
    return Split(
        protocol="leave-one-out",
        train=train,
        histories=histories,
        users=users,
        targets=[np.array([t]) for t in old_to_new[interactions.item_idx[target_rows]]],
        excluded=[np.unique(h) for h in histories] if exclude_history else [empty] * len(histories),
        info={"split": split, "exclude_history": exclude_history},
    )


def temporal(
    frame: pd.DataFrame, *, cut_at: pd.Timestamp | None = None, quantile: float = 0.9, split: str = "test"
) -> Split:
    """Train on events before ``cut_at`` (default: the time ``quantile`` of events); test warm users.

    Targets are the items a user interacts with after the cut that they had not had before
    and that the model knows; their earlier items are excluded from ranking. The validation
    split applies the same rule to the events before the test cut, so tuning never sees them.
    """
    _check_split(split)
    times = frame["occurred_at"]
    if cut_at is None:
        cut_at = times.quantile(quantile)
    cut_at = pd.Timestamp(cut_at)
    if cut_at.tzinfo is None:
        raise InvalidInput("cut time needs a timezone, e.g. 2011-11-01T00:00:00Z")
    if split == "valid":
        result = temporal(frame[times < cut_at], quantile=quantile)
        result.info["split"] = "valid"
        return result
    before = frame[times < cut_at]
    after = frame[times >= cut_at]
    if before.empty or after.empty:
        raise InvalidInput(f"cut time {cut_at} leaves no training or no test events")
    train = Interactions.from_frame(before)
    sequences = train.sequences()
    after_users = train.user_index.get_indexer(after["user_id"].astype(str).to_numpy())
    after_items = train.item_index.get_indexer(after["item_id"].astype(str).to_numpy())
    users, histories, targets, excluded = [], [], [], []
    unknown_targets = 0
    grouped = pd.DataFrame({"u": after_users, "i": after_items})
    grouped = grouped[grouped["u"] >= 0]
    for user, rows in grouped.groupby("u", sort=True):
        seen = np.unique(sequences[user])
        future = np.unique(rows["i"].to_numpy())
        unknown_targets += int((future < 0).sum())
        future = future[(future >= 0) & ~np.isin(future, seen)]
        if future.size == 0:
            continue
        users.append(user)
        histories.append(sequences[user])
        targets.append(future)
        excluded.append(seen)
    return Split(
        protocol="temporal",
        train=train,
        histories=histories,
        users=np.array(users, dtype=np.int64),
        targets=targets,
        excluded=excluded,
        info={"split": "test", "cut_at": cut_at.isoformat(), "unknown_target_items_dropped": unknown_targets},
    )


def session(
    train_sessions: list[list[str]],
    test_prefixes: list[list[str]],
    test_next: list[str],
    *,
    split: str = "test",
    valid_fraction: float = 0.1,
) -> Split:
    """SR-GNN style: train on whole sessions, predict the next item of each test prefix.

    The validation split holds out the last ``valid_fraction`` of the (chronological) training
    sessions and expands each into (prefix → next item) cases the way the test file was built.
    """
    _check_split(split)
    if len(test_prefixes) != len(test_next):
        raise InvalidInput("test prefixes and next items differ in length")
    if split == "valid":
        n_valid = max(1, int(len(train_sessions) * valid_fraction))
        held_out = train_sessions[-n_valid:]
        train_sessions = train_sessions[:-n_valid]
        test_prefixes = [s[:end] for s in held_out for end in range(len(s) - 1, 0, -1)]
        test_next = [s[end] for s in held_out for end in range(len(s) - 1, 0, -1)]
    train = Interactions.from_sequences(train_sessions, [f"s{i}" for i in range(len(train_sessions))])
    lookup = {item: i for i, item in enumerate(train.item_ids)}
    histories = []
    for prefix in test_prefixes:
        known = [lookup[i] for i in prefix if i in lookup]
        histories.append(np.array(known, dtype=np.int32))
    targets = [np.array([lookup.get(t, -1)]) for t in test_next]
    return Split(
        protocol="session",
        train=train,
        histories=histories,
        users=np.full(len(histories), -1, dtype=np.int64),
        targets=targets,
        excluded=[np.empty(0, np.int32)] * len(histories),
        info={"split": split, "unknown_targets": int(sum(t[0] < 0 for t in targets))},
    )


def _check_split(split: str) -> None:
    if split not in ("test", "valid"):
        raise InvalidInput(f"split must be 'test' or 'valid', got '{split}'")
