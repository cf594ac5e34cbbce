"""The transaction a risk score is asked for, and its features from the velocity state.

``FeatureState.features(tx)`` reads the state as it was *before* ``tx`` (events strictly
earlier than ``tx.occurred_at_s``); ``update(tx)`` then records it. Replaying a time-ordered
history as features-then-update gives training rows that never see later events — the
point-in-time correctness training needs (issue 6) — and serving does the very same per
request, so training and serving features cannot drift apart.

Entities: user, card (payment fingerprint), device, IP, email and shipping address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from mercato.errors import InvalidInput
from mercato.risk.velocity import SlidingWindows

WINDOWS_S: dict[str, float] = {"10m": 600.0, "1h": 3600.0, "24h": 86_400.0, "30d": 30 * 86_400.0}
DAY_S = 86_400.0


@dataclass(slots=True)
class Transaction:
    """One order/payment attempt. Identifiers are opaque strings; ``None`` means unknown."""

    transaction_id: str
    occurred_at_s: float  # seconds since the Unix epoch
    user_id: str
    amount_minor: int
    currency: str | None = None
    card_id: str | None = None  # payment fingerprint, never the card number
    device_id: str | None = None
    ip: str | None = None
    email: str | None = None
    billing_address: str | None = None
    shipping_address: str | None = None
    billing_country: str | None = None
    shipping_country: str | None = None
    ip_country: str | None = None
    account_created_at_s: float | None = None
    numeric: dict[str, float] = field(default_factory=dict)  # extra model inputs, passed through

    @classmethod
    def from_mapping(cls, record: dict[str, Any]) -> Transaction:
        """Build from a JSON-like mapping, raising ``InvalidInput`` that names the bad field."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(record) - known)
        if unknown:
            raise InvalidInput(f"unknown transaction field(s) {unknown}", field=unknown[0])
        for name in ("transaction_id", "occurred_at_s", "user_id", "amount_minor"):
            if record.get(name) is None:
                raise InvalidInput(f"{name} is required", field=name)
        return cls(**record)


# Relations kept as sliding windows: (key entity, related entity). The key's counts and sums
# come from the first relation naming it; distinct counts and "new for this key" flags from
# the related values.
RELATIONS: tuple[tuple[str, str], ...] = (
    ("user_id", "card_id"),
    ("card_id", "user_id"),
    ("device_id", "user_id"),
    ("ip", "user_id"),
    ("email", "card_id"),
    ("shipping_address", "user_id"),
    ("user_id", "device_id"),
    ("user_id", "shipping_address"),
    ("user_id", "ip"),
    ("device_id", "card_id"),
)
SHORT = {"user_id": "user", "card_id": "card", "device_id": "device", "ip": "ip", "email": "email",
         "shipping_address": "ship"}
COUNTED = ("user_id", "card_id", "device_id", "ip", "email", "shipping_address")
SUMMED = ("user_id", "card_id")
# (relation index, window, feature name): distinct related values per key.
DISTINCT = (
    (0, "24h", "cards_per_user_24h"), (0, "30d", "cards_per_user_30d"),
    (1, "24h", "users_per_card_24h"), (1, "30d", "users_per_card_30d"),
    (2, "30d", "users_per_device_30d"), (3, "24h", "users_per_ip_24h"),
    (4, "30d", "cards_per_email_30d"), (5, "30d", "users_per_ship_30d"),
    (6, "30d", "devices_per_user_30d"), (7, "30d", "ships_per_user_30d"),
    (9, "1h", "cards_per_device_1h"), (9, "24h", "cards_per_device_24h"),
)
# (relation index, feature name): the related value was not seen with this key before.
NEW_FOR_USER = ((0, "new_card_for_user"), (6, "new_device_for_user"), (7, "new_ship_for_user"), (8, "new_ip_for_user"))
FIRST_RELATION = {key: next(i for i, (k, _) in enumerate(RELATIONS) if k == key) for key in COUNTED}

BASE_FEATURES: tuple[str, ...] = (
    "amount", "log_amount",
    *(f"{SHORT[k]}_count_{w}" for k in COUNTED for w in WINDOWS_S),
    *(f"{SHORT[k]}_sum_{w}" for k in SUMMED for w in WINDOWS_S),
    *(name for _, _, name in DISTINCT),
    *(name for _, name in NEW_FOR_USER),
    "first_tx_of_user", "amount_vs_user_mean_30d", "amount_vs_user_max_30d",
    "account_age_days", "hours_since_user_last", "hours_since_card_last",
    "billing_shipping_country_mismatch", "billing_shipping_address_differs", "ip_billing_country_mismatch",
    "hour_of_day",
)
VELOCITY_PREFIXES = ("user_", "card_", "device_", "ip_", "email_", "ship_", "cards_", "users_", "devices_", "ships_",
                     "new_", "first_", "amount_vs_", "hours_since_")


def is_velocity_feature(name: str) -> bool:
    """Features that need the entity history (the 'no-velocity' ablation drops them)."""
    return name.startswith(VELOCITY_PREFIXES)


def _differs(a: str | None, b: str | None) -> float:
    return math.nan if a is None or b is None else float(a != b)


class FeatureState:
    """The online state of every relation, and the feature vector of a transaction."""

    def __init__(self, numeric_fields: tuple[str, ...] = (), *, max_events_per_key: int = 5000) -> None:
        self.numeric_fields = tuple(numeric_fields)
        self.names: tuple[str, ...] = BASE_FEATURES + self.numeric_fields
        self.relations = [SlidingWindows(list(WINDOWS_S.values()), max_events_per_key=max_events_per_key)
                          for _ in RELATIONS]

    def __len__(self) -> int:
        """Keys held over all relations (memory is proportional to this)."""
        return sum(len(r) for r in self.relations)

    def features(self, tx: Transaction) -> np.ndarray:
        """The feature row of ``tx`` from events strictly before it: shape (n_features,)."""
        now = tx.occurred_at_s
        amount = float(tx.amount_minor) / 100.0
        row: list[float] = [amount, math.log1p(max(amount, 0.0))]
        for key in COUNTED:
            windows, value = self.relations[FIRST_RELATION[key]], getattr(tx, key)
            row.extend(float(windows.count(value, now, w)) if value is not None else math.nan for w in WINDOWS_S.values())
        for key in SUMMED:
            windows, value = self.relations[FIRST_RELATION[key]], getattr(tx, key)
            row.extend(windows.total(value, now, w) / 100.0 if value is not None else math.nan for w in WINDOWS_S.values())
        for index, window, _ in DISTINCT:
            value = getattr(tx, RELATIONS[index][0])
            row.append(float(self.relations[index].distinct(value, now, WINDOWS_S[window])) if value is not None else math.nan)
        for index, _ in NEW_FOR_USER:
            related = getattr(tx, RELATIONS[index][1])
            row.append(math.nan if related is None else float(not self.relations[index].seen_value(tx.user_id, related, now)))
        user_windows = self.relations[0]
        past = user_windows.amounts_before(tx.user_id, now)
        row.append(float(not past))
        row.append(float(tx.amount_minor) / (sum(past) / len(past)) if past and sum(past) > 0 else math.nan)
        row.append(float(tx.amount_minor) / max(past) if past and max(past) > 0 else math.nan)
        row.append((now - tx.account_created_at_s) / DAY_S if tx.account_created_at_s is not None else math.nan)
        last_user = user_windows.last_before(tx.user_id, now)
        row.append((now - last_user) / 3600.0 if last_user is not None else math.nan)
        last_card = self.relations[1].last_before(tx.card_id, now) if tx.card_id is not None else None
        row.append((now - last_card) / 3600.0 if last_card is not None else math.nan)
        row.append(_differs(tx.billing_country, tx.shipping_country))
        row.append(_differs(tx.billing_address, tx.shipping_address))
        row.append(_differs(tx.ip_country, tx.billing_country))
        row.append((now % DAY_S) / 3600.0)
        for name in self.numeric_fields:
            value = tx.numeric.get(name)
            row.append(math.nan if value is None else float(value))
        return np.asarray(row, dtype=np.float64)

    def update(self, tx: Transaction) -> None:
        """Record ``tx`` in every relation whose key it has."""
        for windows, (key, related) in zip(self.relations, RELATIONS, strict=True):
            value = getattr(tx, key)
            if value is not None:
                windows.add(value, tx.occurred_at_s, float(tx.amount_minor), getattr(tx, related))

    def features_then_update(self, tx: Transaction) -> np.ndarray:
        row = self.features(tx)
        self.update(tx)
        return row


def replay_features(transactions: list[Transaction], numeric_fields: tuple[str, ...] = ()) -> tuple[np.ndarray, FeatureState]:
    """Point-in-time feature rows of a history, in the given (time) order: shape (n, n_features)."""
    state = FeatureState(numeric_fields)
    order = sorted(range(len(transactions)), key=lambda i: transactions[i].occurred_at_s)
    X = np.empty((len(transactions), len(state.names)), dtype=np.float64)
    for i in order:
        X[i] = state.features_then_update(transactions[i])
    return X, state
