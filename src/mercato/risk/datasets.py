"""Labelled histories the risk commands and benchmarks train and evaluate on.

- ``creditcard-fraud`` (ULB, read from ``<data_dir>/creditcard-fraud/creditcard.csv.gz``):
  284,807 card payments over two days, anonymized PCA features V1..V28 and Amount; no
  entity identifiers, so no velocity features. ``Time`` (seconds since the first payment) is
  kept only as the clock and as the hour of day: its absolute value would let a model learn
  "early = different", which does not carry over to the later test period.
- ``simulator``: the synthetic stream of ``risk.simulator``, featurized point in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mercato.errors import InvalidInput
from mercato.risk.features import BASE_FEATURES, is_velocity_feature, replay_features
from mercato.risk.labels import Chargeback, DelayedLabels, join_labels
from mercato.risk.simulator import simulate

DATASETS = ("creditcard-fraud", "simulator")


@dataclass
class LabelledHistory:
    X: np.ndarray  # (n, n_features), rows in time order
    feature_names: list[str]
    times_s: np.ndarray  # (n,)
    labels: DelayedLabels
    pattern: np.ndarray | None = None  # (n,) fraud pattern per row (simulator only)
    transaction_ids: list[str] | None = None
    # "time_split" for data whose labels carry no delay information, else "prequential".
    protocol: str = "prequential"

    @property
    def y(self) -> np.ndarray:
        return self.labels.eventual

    def without_velocity(self) -> LabelledHistory:
        """The same rows with only per-transaction features (the ablation of issue 6)."""
        keep = [i for i, name in enumerate(self.feature_names) if not is_velocity_feature(name)]
        return LabelledHistory(self.X[:, keep], [self.feature_names[i] for i in keep], self.times_s, self.labels,
                               self.pattern, self.transaction_ids, self.protocol)


def creditcard_fraud(data_dir: Path | None) -> LabelledHistory:
    import pandas as pd

    if data_dir is None:
        raise InvalidInput("creditcard-fraud needs --data-dir (the folder holding creditcard-fraud/)", field="data_dir")
    path = Path(data_dir) / "creditcard-fraud" / "creditcard.csv.gz"
    if not path.is_file():
        raise InvalidInput(f"{path} not found; --data-dir must hold creditcard-fraud/creditcard.csv.gz", field="data_dir")
    frame = pd.read_csv(path).sort_values("Time", kind="stable")
    names = [f"V{i}" for i in range(1, 29)] + ["Amount"]
    times = frame["Time"].to_numpy(dtype=np.float64)
    X = np.column_stack([frame[names].to_numpy(dtype=np.float64), (times % 86_400) / 3600.0])
    y = frame["Class"].to_numpy(dtype=np.int8)
    # The dataset has labels only: treat each as known immediately (no delay information).
    labels = DelayedLabels(np.where(y == 1, times, np.inf), np.where(y == 0, times, np.inf))
    return LabelledHistory(X, names + ["hour_of_day"], times, labels, protocol="time_split")


def simulated(seed: int = 0, **options) -> LabelledHistory:
    stream = simulate(seed=seed, **options)
    X, _ = replay_features(stream.transactions)
    ids = [tx.transaction_id for tx in stream.transactions]
    times = np.array([tx.occurred_at_s for tx in stream.transactions])
    chargebacks_at = stream.chargeback_at_s
    chargebacks = [Chargeback(ids[i], None, float(chargebacks_at[i])) for i in np.flatnonzero(np.isfinite(chargebacks_at))]
    labels = join_labels(ids, times, [None] * len(ids), chargebacks)
    return LabelledHistory(X, list(BASE_FEATURES), times, labels, stream.pattern, ids)


def load_history(name: str, data_dir: Path | None = None, *, seed: int = 0) -> LabelledHistory:
    if name == "creditcard-fraud":
        return creditcard_fraud(data_dir)
    if name == "simulator":
        return simulated(seed)
    raise InvalidInput(f"unknown risk dataset {name!r}; choose one of {list(DATASETS)}", field="dataset")
