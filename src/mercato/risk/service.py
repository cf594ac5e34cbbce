"""One scoring request: features + model + rules -> score, decision and reasons.

The request path is kept to plain Python and LightGBM on one numpy row: the feature row comes
from the in-memory velocity state (no pandas); a review or decline adds one ``pred_contrib``
call for the top reasons (TreeSHAP contributions, which sum to the raw log-odds). The scored
transaction is then recorded in the velocity state — an attempt counts even if declined,
which is what exposes card testing. A ``review`` decision opens an item in the review queue.

The state lives in memory; ``warm`` replays recent payment events (e.g. from the store at
start-up) so a restart does not forget the last 30 days of velocity.

Scoring is idempotent on ``transaction_id``: a client that retries after a timeout gets the
first answer back (marked ``replayed``) instead of counting the attempt twice, which would
inflate its own velocity and open a second review. The same id with other details (user,
amount, card, …) is a 409. The last ``REMEMBERED_ANSWERS`` answers are kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mercato.errors import Conflict
from mercato.risk.features import BASE_FEATURES, WINDOWS_S, FeatureState, Transaction
from mercato.risk.model import RiskModel
from mercato.risk.rules import DEFAULT_RULES, RuleSet, load_rules, parse_rules
from mercato.storage.risk_reviews import ReviewStore

TOP_REASONS = 3
REMEMBERED_ANSWERS = 100_000  # a few hundred bytes each


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
        self._answers: OrderedDict[str, tuple[tuple, dict]] = OrderedDict()  # id -> (details, answer)

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
        details = _details(tx)
        with self._lock:  # features and update must see one consistent state
            seen = self._answers.get(tx.transaction_id)
            if seen is not None:
                if seen[0] != details:
                    raise Conflict(f"transaction_id {tx.transaction_id!r} was scored before with other details; "
                                   "a transaction id names one payment attempt")
                return {**seen[1], "replayed": True}
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
        with self._lock:
            self._answers[tx.transaction_id] = (details, answer)
            if len(self._answers) > REMEMBERED_ANSWERS:
                self._answers.popitem(last=False)
        return answer


def _details(tx: Transaction) -> tuple:
    """What identifies the attempt, for telling a retry from a reused id; the time is left out
    because a retry without ``occurred_at`` is stamped anew."""
    return tuple(getattr(tx, name) for name in Transaction.__slots__ if name != "occurred_at_s")


def _tx_dict(tx: Transaction) -> dict:
    return {name: getattr(tx, name) for name in Transaction.__slots__}


def _plain(value: float) -> float | None:
    return None if np.isnan(value) else round(float(value), 4)
