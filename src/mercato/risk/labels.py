"""Labels that arrive late: chargebacks and review decisions label earlier payments.

A payment's label is not known when it is scored. It becomes *fraud* when a chargeback
naming it arrives (weeks later) or a reviewer marks it fraud, and *legitimate* when a
reviewer says so or when it has matured — ``maturity_s`` passed with no chargeback (most
disputes in the simulator arrive within 60 days; set it to the card schemes' window in production). ``DelayedLabels.known_at(t)`` is what a model
trained at time ``t`` may learn from; using eventual labels instead is the leak that makes
offline fraud metrics look better than production.

Payments and chargebacks come from the event store: a chargeback names its payment by
``attrs.payment_id`` (the payment's ``event_id``) or else by a shared ``order_id``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mercato.risk.features import Transaction

DEFAULT_MATURITY_S = 60 * 86_400.0
RISK_ATTRS = ("card_id", "device_id", "ip", "email", "billing_address", "shipping_address", "billing_country",
              "shipping_country", "ip_country")


@dataclass(frozen=True)
class Chargeback:
    payment_id: str | None
    order_id: str | None
    at_s: float


@dataclass(frozen=True)
class ReviewLabel:
    transaction_id: str
    is_fraud: bool
    at_s: float


@dataclass
class DelayedLabels:
    """When each payment became known fraud and known legitimate (``inf``: not yet / never)."""

    fraud_at_s: np.ndarray  # (n,)
    legit_at_s: np.ndarray  # (n,)
    unmatched_chargebacks: int = 0

    def known_at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(known mask, label) as of time ``t``: fraud once known fraud, else legitimate once known so."""
        fraud = self.fraud_at_s <= t
        known = fraud | (self.legit_at_s <= t)
        return known, fraud.astype(np.int8)

    @property
    def eventual(self) -> np.ndarray:
        """The labels once everything has arrived: fraud if it ever was reported so."""
        return np.isfinite(self.fraud_at_s).astype(np.int8)


def join_labels(
    payment_ids: Sequence[str],
    occurred_at_s: Sequence[float],
    order_ids: Sequence[str | None],
    chargebacks: Iterable[Chargeback] = (),
    reviews: Iterable[ReviewLabel] = (),
    *,
    maturity_s: float = DEFAULT_MATURITY_S,
) -> DelayedLabels:
    n = len(payment_ids)
    times = np.asarray(occurred_at_s, dtype=np.float64)
    by_id = {pid: i for i, pid in enumerate(payment_ids)}
    by_order: dict[str, list[int]] = {}
    for i, order in enumerate(order_ids):
        if order is not None:
            by_order.setdefault(order, []).append(i)
    fraud_at = np.full(n, math.inf)
    legit_review_at = np.full(n, math.inf)
    unmatched = 0
    for chargeback in chargebacks:
        if chargeback.payment_id is not None and chargeback.payment_id in by_id:
            rows = [by_id[chargeback.payment_id]]
        else:
            # An order paid in several attempts: only attempts before the dispute can be meant.
            rows = [i for i in by_order.get(chargeback.order_id, []) if times[i] <= chargeback.at_s]
        if not rows:
            unmatched += 1  # reported, never silently dropped
        for i in rows:
            fraud_at[i] = min(fraud_at[i], chargeback.at_s)
    for review in reviews:
        i = by_id.get(review.transaction_id)
        if i is None:
            continue
        if review.is_fraud:
            fraud_at[i] = min(fraud_at[i], review.at_s)
        else:
            legit_review_at[i] = min(legit_review_at[i], review.at_s)
    legit_at = np.minimum(legit_review_at, times + maturity_s)
    return DelayedLabels(fraud_at, legit_at, unmatched)


def _seconds(values: pd.Series) -> np.ndarray:
    return values.astype("datetime64[us, UTC]").astype("int64").to_numpy() / 1e6


def transactions_from_events(payments: pd.DataFrame) -> list[Transaction]:
    """``payment`` events (an event frame) as transactions; risk fields come from ``attrs``."""
    out = []
    times = _seconds(payments["occurred_at"])
    for row, t in zip(payments.itertuples(index=False), times, strict=True):
        attrs = row.attrs if isinstance(row.attrs, dict) else {}
        created = attrs.get("account_created_at")
        numeric = {k: float(v) for k, v in (attrs.get("numeric") or {}).items()}
        out.append(Transaction(
            transaction_id=row.event_id, occurred_at_s=float(t), user_id=row.user_id,
            amount_minor=int(row.amount_minor) if not pd.isna(row.amount_minor) else 0, currency=row.currency,
            account_created_at_s=pd.Timestamp(created).timestamp() if created else None, numeric=numeric,
            **{k: (str(attrs[k]) if attrs.get(k) is not None else None) for k in RISK_ATTRS},
        ))
    return out


def chargebacks_from_events(chargebacks: pd.DataFrame) -> list[Chargeback]:
    times = _seconds(chargebacks["occurred_at"])
    return [Chargeback((row.attrs or {}).get("payment_id") if isinstance(row.attrs, dict) else None, row.order_id, float(t))
            for row, t in zip(chargebacks.itertuples(index=False), times, strict=True)]


def transactions_to_events(transactions: Sequence[Transaction], chargeback_at_s: Sequence[float] | None = None) -> pd.DataFrame:
    """The inverse of ``transactions_from_events`` (plus chargebacks), e.g. to load the simulator into a store."""
    from mercato.events import conform

    records = []
    for i, tx in enumerate(transactions):
        attrs = {k: getattr(tx, k) for k in RISK_ATTRS if getattr(tx, k) is not None}
        if tx.account_created_at_s is not None:
            attrs["account_created_at"] = pd.Timestamp(tx.account_created_at_s, unit="s", tz="UTC").isoformat()
        records.append({"event_id": tx.transaction_id, "type": "payment", "occurred_at": tx.occurred_at_s,
                        "user_id": tx.user_id, "amount_minor": tx.amount_minor, "currency": tx.currency or "EUR",
                        "order_id": f"order-{tx.transaction_id}", "attrs": attrs})
        if chargeback_at_s is not None and np.isfinite(chargeback_at_s[i]):
            records.append({"event_id": f"cb-{tx.transaction_id}", "type": "chargeback", "occurred_at": chargeback_at_s[i],
                            "user_id": tx.user_id, "amount_minor": tx.amount_minor, "currency": tx.currency or "EUR",
                            "order_id": f"order-{tx.transaction_id}", "attrs": {"payment_id": tx.transaction_id}})
    frame = pd.DataFrame(records)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"], unit="s", utc=True)
    return conform(frame)
