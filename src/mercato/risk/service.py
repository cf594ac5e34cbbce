"""One scoring request: features + model + rules -> score, decision and reasons.

The request path is kept to plain Python and LightGBM on one numpy row: the feature row comes
from the in-memory velocity state (no pandas); a review or decline adds one ``pred_contrib``
call for the top reasons (TreeSHAP contributions, which sum to the raw log-odds). The scored
transaction is then recorded in the velocity state — an attempt counts even if declined,
which is what exposes card testing. A ``review`` decision opens an item in the review queue.

The state lives in memory; ``warm`` replays recent payment events (e.g. from the store at
start-up) so a restart does not forget the last 30 days of velocity.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mercato.errors import Conflict
from mercato.risk.features import BASE_FEATURES, WINDOWS_S, FeatureState, Transaction
from mercato.risk.model import RiskModel
from mercato.risk.rules import DEFAULT_RULES, RuleSet, load_rules, parse_rules
from mercato.storage.risk_reviews import ReviewStore

TOP_REASONS = 3


class RiskService:
    def __init__(self, model: RiskModel, rules: RuleSet, reviews: ReviewStore) -> None:
        names = model.feature_names
        if names[: len(BASE_FEATURES)] != BASE_FEATURES:
            raise Conflict("the risk model was not trained on transaction features (e.g. it was trained on "
                           "creditcard-fraud); train it from the store or the simulator to serve it")
        self.model, self.rules, self.reviews = model, rules, reviews
        self.state = FeatureState(names[len(BASE_FEATURES):])
        self._names = np.array(names, dtype=object)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, model_dir: str | Path, rules_file: str | Path | None, reviews: ReviewStore) -> RiskService:
        model = RiskModel.load(model_dir)
        rules = load_rules(rules_file, model.feature_names) if rules_file else parse_rules(
            DEFAULT_RULES, model.feature_names, source="built-in rules")
        return cls(model, rules, reviews)

    def warm(self, transactions: Iterable[Transaction], now_s: float) -> int:
        """Replay past transactions into the velocity state (only those inside the longest window)."""
        horizon = now_s - max(WINDOWS_S.values())
        recent = sorted((tx for tx in transactions if tx.occurred_at_s > horizon), key=lambda tx: tx.occurred_at_s)
        with self._lock:
            for tx in recent:
                self.state.update(tx)
        return len(recent)

    def score(self, tx: Transaction, *, explain: bool = False) -> dict:
        """Score, decide, give reasons; feature reasons for approvals only when ``explain``.

        TreeSHAP contributions cost about five times the prediction itself, so they are computed
        where someone will read them: for review and decline, or when asked.
        """
        with self._lock:  # features and update must see one consistent state
            row = self.state.features(tx)
            self.state.update(tx)
        score = self.model.predict_one(row)
        decision, fired = self.rules.decide(row, score)
        reasons: list[dict] = []
        if explain or decision != "approve":
            score, contributions = self.model.explain(row)
            top = np.argsort(-contributions)[:TOP_REASONS]
            reasons = [{"kind": "feature", "feature": str(self._names[i]), "value": _plain(row[i]),
                        "contribution": round(float(contributions[i]), 4)} for i in top if contributions[i] > 0]
        reasons += [{"kind": "rule", "rule": rule.name, "action": rule.action, "reason": rule.reason} for rule in fired]
        answer = {"transaction_id": tx.transaction_id, "score": round(score, 6), "decision": decision, "reasons": reasons}
        if decision == "review":
            answer["review_id"] = self.reviews.add(_tx_dict(tx), score, reasons, tx.occurred_at_s)
        return answer


def _tx_dict(tx: Transaction) -> dict:
    return {name: getattr(tx, name) for name in Transaction.__slots__}


def _plain(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)
