"""Declarative rules on features and score, and the decision they make with the model.

A rules file (YAML or JSON) holds score thresholds and a list of rules::

    thresholds: {review: 0.3, decline: 0.8}   # calibrated fraud probability
    rules:
      - name: card_testing
        when: ["cards_per_device_1h >= 5", "amount < 10"]   # all must hold
        action: decline                                      # approve | review | decline
        reason: many cards tried from one device within an hour
      - name: risky_new_device
        any: ["score >= 0.2", "ip_billing_country_mismatch == 1"]   # at least one holds
        action: review

A condition is ``<feature or score> <op> <number>`` with op one of < <= > >= == !=; a
missing feature value (NaN) makes a condition false. ``review``/``decline`` rules escalate
the score's decision; ``approve`` rules (allow-lists) lower a score-based review or decline
to approve but never override a decline rule. Mistakes are reported as ``InvalidInput``
naming the rule and the condition (``field='rules[2].when[0]'``).
"""

from __future__ import annotations

import difflib
import json
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mercato.errors import InvalidInput

ACTIONS = ("approve", "review", "decline")
SEVERITY = {"approve": 0, "review": 1, "decline": 2}
OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}
CONDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$")
SCORE = "score"
DEFAULT_THRESHOLDS = {"review": 0.3, "decline": 0.8}


@dataclass(frozen=True)
class Condition:
    feature: str
    index: int  # column in the feature row; -1 for the score
    op: str
    value: float

    def holds(self, row: np.ndarray, score: float) -> bool:
        x = score if self.index < 0 else row[self.index]
        return bool(OPERATORS[self.op](x, self.value))  # NaN compares false

    def mask(self, X: np.ndarray, scores: np.ndarray) -> np.ndarray:
        x = scores if self.index < 0 else X[:, self.index]
        with np.errstate(invalid="ignore"):
            return OPERATORS[self.op](x, self.value)


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: tuple[Condition, ...]
    mode: str  # "all" or "any"
    action: str
    reason: str

    def fires(self, row: np.ndarray, score: float) -> bool:
        results = (c.holds(row, score) for c in self.conditions)
        return all(results) if self.mode == "all" else any(results)

    def mask(self, X: np.ndarray, scores: np.ndarray) -> np.ndarray:
        masks = [c.mask(X, scores) for c in self.conditions]
        return np.logical_and.reduce(masks) if self.mode == "all" else np.logical_or.reduce(masks)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    review_at: float
    decline_at: float

    def decide(self, row: np.ndarray, score: float) -> tuple[str, list[Rule]]:
        """(decision, fired rules) for one feature row and its calibrated score."""
        fired = [rule for rule in self.rules if rule.fires(row, score)]
        return combine(self._score_decision(score), [r.action for r in fired]), fired

    def _score_decision(self, score: float) -> str:
        return "decline" if score >= self.decline_at else "review" if score >= self.review_at else "approve"

    def decide_many(self, X: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Vectorized ``decide`` over a history: (decisions (n,), fired mask per rule name)."""
        fired = {rule.name: rule.mask(X, scores) for rule in self.rules}
        level = np.where(scores >= self.decline_at, 2, np.where(scores >= self.review_at, 1, 0))
        allowed = np.zeros(len(scores), dtype=bool)
        escalated = np.zeros(len(scores), dtype=np.int64)
        for rule in self.rules:
            if rule.action == "approve":
                allowed |= fired[rule.name]
            else:
                escalated = np.maximum(escalated, np.where(fired[rule.name], SEVERITY[rule.action], 0))
        level = np.maximum(np.where(allowed, 0, level), escalated)
        return np.array(ACTIONS, dtype=object)[level], fired


def combine(score_decision: str, actions: Sequence[str]) -> str:
    level = 0 if "approve" in actions else SEVERITY[score_decision]
    for action in actions:
        if action != "approve":
            level = max(level, SEVERITY[action])
    return ACTIONS[level]


# ---- parsing ------------------------------------------------------------------------------
def load_rules(path: str | Path, feature_names: Sequence[str]) -> RuleSet:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise InvalidInput(f"rules file {path} not found", field="rules_file") from None
    return parse_rules(text, feature_names, source=str(path))


def parse_rules(text: str, feature_names: Sequence[str], *, source: str = "rules") -> RuleSet:
    """Parse YAML (a superset of JSON) into a checked ``RuleSet``."""
    import yaml

    try:
        document = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}: not valid YAML/JSON: {exc}") from None
    return build_rules(document, feature_names, source=source)


def build_rules(document: Any, feature_names: Sequence[str], *, source: str = "rules") -> RuleSet:
    if not isinstance(document, dict):
        raise InvalidInput(f"{source}: expected a mapping with 'thresholds' and 'rules', got {type(document).__name__}")
    unknown = sorted(set(document) - {"thresholds", "rules"})
    if unknown:
        raise InvalidInput(f"{source}: unknown top-level key(s) {unknown}; use 'thresholds' and 'rules'", field=unknown[0])
    thresholds = {**DEFAULT_THRESHOLDS, **(document.get("thresholds") or {})}
    for key, value in thresholds.items():
        if key not in DEFAULT_THRESHOLDS:
            raise InvalidInput(f"{source}: unknown threshold {key!r}; use 'review' and 'decline'", field=f"thresholds.{key}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidInput(f"{source}: thresholds.{key} must be a probability in [0, 1], got {value!r}",
                               field=f"thresholds.{key}")
    if thresholds["review"] > thresholds["decline"]:
        raise InvalidInput(f"{source}: thresholds.review ({thresholds['review']}) exceeds thresholds.decline "
                           f"({thresholds['decline']})", field="thresholds.review")
    raw_rules = document.get("rules") or []
    if not isinstance(raw_rules, list):
        raise InvalidInput(f"{source}: 'rules' must be a list", field="rules")
    index = {name: i for i, name in enumerate(feature_names)}
    rules, names = [], set()
    for i, raw in enumerate(raw_rules):
        rule = _build_rule(raw, index, f"rules[{i}]", source)
        if rule.name in names:
            raise InvalidInput(f"{source}: rules[{i}]: duplicate rule name {rule.name!r}", field=f"rules[{i}].name")
        names.add(rule.name)
        rules.append(rule)
    return RuleSet(tuple(rules), float(thresholds["review"]), float(thresholds["decline"]))


def _build_rule(raw: Any, index: dict[str, int], where: str, source: str) -> Rule:
    def fail(message: str, field: str = where) -> InvalidInput:
        return InvalidInput(f"{source}: {field}: {message}", field=field)

    if not isinstance(raw, dict):
        raise fail("a rule is a mapping with name, when (or any) and action")
    unknown = sorted(set(raw) - {"name", "when", "any", "action", "reason"})
    if unknown:
        raise fail(f"unknown key(s) {unknown}; a rule has name, when or any, action, reason", f"{where}.{unknown[0]}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise fail("needs a non-empty 'name'", f"{where}.name")
    if ("when" in raw) == ("any" in raw):
        raise fail(f"rule {name!r} needs exactly one of 'when' (all conditions) or 'any' (at least one)")
    mode = "all" if "when" in raw else "any"
    key = "when" if mode == "all" else "any"
    conditions = raw[key]
    if isinstance(conditions, str):
        conditions = [conditions]
    if not isinstance(conditions, list) or not conditions:
        raise fail(f"rule {name!r}: '{key}' must be a non-empty list of conditions", f"{where}.{key}")
    action = raw.get("action")
    if action not in ACTIONS:
        raise fail(f"rule {name!r}: action must be one of {list(ACTIONS)}, got {action!r}", f"{where}.action")
    parsed = tuple(_condition(c, index, f"{where}.{key}[{j}]", source) for j, c in enumerate(conditions))
    return Rule(name, parsed, mode, action, str(raw.get("reason") or name))


def _condition(text: Any, index: dict[str, int], where: str, source: str) -> Condition:
    match = CONDITION.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(f"{source}: {where}: expected '<feature> <op> <number>' with op one of "
                           f"{' '.join(OPERATORS)}, got {text!r}", field=where)
    feature, op, raw_value = match.groups()
    if feature != SCORE and feature not in index:
        close = difflib.get_close_matches(feature, list(index) + [SCORE], n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see 'mercato risk backtest --list-features'"
        raise InvalidInput(f"{source}: {where}: unknown feature {feature!r}{hint}", field=where)
    try:
        value = float(json.loads(raw_value))
    except (json.JSONDecodeError, TypeError, ValueError):
        raise InvalidInput(f"{source}: {where}: {raw_value!r} is not a number", field=where) from None
    return Condition(feature, -1 if feature == SCORE else index[feature], op, value)


# ---- backtest ----------------------------------------------------------------------------
def backtest_rules(rules: RuleSet, X: np.ndarray, scores: np.ndarray, y: np.ndarray) -> dict:
    """What the rules and thresholds would have done on a labelled history."""
    y = np.asarray(y).astype(bool)
    decisions, fired = rules.decide_many(X, scores)
    n_fraud = int(y.sum())

    def stats(mask: np.ndarray) -> dict:
        hits = int(mask.sum())
        caught = int((mask & y).sum())
        return {"fired": hits, "fraud_caught": caught, "precision": round(caught / hits, 4) if hits else None,
                "recall": round(caught / n_fraud, 4) if n_fraud else None,
                "false_positive_rate": round(int((mask & ~y).sum()) / max(int((~y).sum()), 1), 6)}

    return {
        "transactions": len(y), "fraud": n_fraud,
        "thresholds": {"review": rules.review_at, "decline": rules.decline_at},
        "rules": {name: stats(mask) for name, mask in fired.items()},
        "decisions": {action: {**stats(decisions == action), "share": round(float((decisions == action).mean()), 6)}
                      for action in ACTIONS},
    }


# The rules used when no rules file is configured: the simulator's patterns, plainly stated.
DEFAULT_RULES = """
thresholds: {review: 0.3, decline: 0.8}
rules:
  - name: card_testing_burst
    when: ["cards_per_device_1h >= 5"]
    action: decline
    reason: five or more cards tried from this device within an hour
  - name: shared_device_ring
    when: ["users_per_device_30d >= 3", "account_age_days < 7"]
    action: review
    reason: a young account on a device shared by several accounts
  - name: takeover_signals
    when: ["new_device_for_user == 1", "new_ship_for_user == 1", "amount_vs_user_max_30d >= 2"]
    action: review
    reason: new device and new shipping address with an unusually large amount
"""
