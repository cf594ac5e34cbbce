"""Train the served risk model from the store's payments, chargebacks and review verdicts.

Only labels known at ``as_of_s`` are used (chargebacks received, reviews done, payments past
their maturity): payments still waiting for a label are left out rather than guessed
legitimate, which would teach the model that fresh fraud is fine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.risk.datasets import LabelledHistory
from mercato.risk.features import BASE_FEATURES, replay_features
from mercato.risk.labels import (DEFAULT_MATURITY_S, ReviewLabel, chargebacks_from_events, join_labels,
                                 transactions_from_events)
from mercato.risk.model import RiskModel

Progress = Callable[[str], None]


def history_from_events(events: pd.DataFrame, verdicts: list[tuple[str, bool, float]] = (), *,
                        maturity_s: float = DEFAULT_MATURITY_S) -> LabelledHistory:
    """Point-in-time feature rows of the ``payment`` events, labelled by chargebacks and reviews."""
    payments = events[events["type"] == "payment"].sort_values("occurred_at", kind="stable")
    if payments.empty:
        raise InvalidInput("the store holds no payment events to learn from; send payments (and chargebacks) first")
    transactions = transactions_from_events(payments)
    numeric = tuple(sorted({name for tx in transactions for name in tx.numeric}))
    X, _ = replay_features(transactions, numeric)
    ids = [tx.transaction_id for tx in transactions]
    times = np.array([tx.occurred_at_s for tx in transactions])
    chargebacks = chargebacks_from_events(events[events["type"] == "chargeback"])
    labels = join_labels(ids, times, list(payments["order_id"]), chargebacks,
                         [ReviewLabel(tid, fraud, at) for tid, fraud, at in verdicts], maturity_s=maturity_s)
    return LabelledHistory(X, list(BASE_FEATURES) + list(numeric), times, labels, None, ids)


def train_model(history: LabelledHistory, out_dir: str | Path, *, as_of_s: float, params: dict | None = None,
                progress: Progress = lambda _: None) -> dict:
    known, label = history.labels.known_at(as_of_s)
    rows = np.flatnonzero(known)
    progress(f"training on {len(rows):,} of {len(known):,} payments whose labels are known "
             f"({int(label[rows].sum())} fraud); {int((~known).sum()):,} still wait for a label")
    model = RiskModel(**(params or {})).fit(history.X[rows], label[rows], history.feature_names)
    model.save(out_dir)
    return {"artifact": str(Path(out_dir)), "train_rows": int(len(rows)), "train_fraud": int(label[rows].sum()),
            "unlabelled_rows": int((~known).sum()), "features": len(history.feature_names),
            "calibration": list(model.calibration)}
