"""Rules files: parsing, clear errors for bad rules, decisions and the backtest."""

import numpy as np
import pytest

from mercato.errors import InvalidInput
from mercato.risk.rules import backtest_rules, combine, load_rules, parse_rules

NAMES = ["amount", "cards_per_device_1h", "new_device_for_user"]
GOOD = """
thresholds: {review: 0.3, decline: 0.9}
rules:
  - name: card_testing
    when: ["cards_per_device_1h >= 5", "amount < 10"]
    action: decline
    reason: many cards from one device
  - name: new_device_and_score
    any: ["new_device_for_user == 1", "score >= 0.5"]
    action: review
  - name: vip
    when: "amount > 1000"
    action: approve
"""


def test_good_rules_decide_by_severity_and_report_what_fired():
    rules = parse_rules(GOOD, NAMES)
    decision, fired = rules.decide(np.array([5.0, 7.0, 0.0]), 0.1)
    assert decision == "decline" and [r.name for r in fired] == ["card_testing"]
    decision, fired = rules.decide(np.array([50.0, 0.0, 1.0]), 0.1)
    assert decision == "review" and fired[0].reason == "new_device_and_score"
    assert rules.decide(np.array([50.0, 0.0, 0.0]), 0.95)[0] == "decline"  # the score alone
    assert rules.decide(np.array([2000.0, 0.0, 0.0]), 0.4)[0] == "approve"  # allow-list lowers the score's review
    assert rules.decide(np.array([2000.0, 0.0, 0.0]), 0.95)[0] == "review"  # but not a review rule that fired
    assert rules.decide(np.array([50.0, np.nan, np.nan]), 0.0)[0] == "approve"  # NaN never fires a condition


def test_json_is_accepted_too():
    rules = parse_rules('{"rules": [{"name": "big", "when": ["amount > 100"], "action": "review"}]}', NAMES)
    assert rules.review_at == 0.3 and rules.decide(np.array([150.0, 0, 0]), 0.0)[0] == "review"


@pytest.mark.parametrize(("text", "field", "words"), [
    ("rules: [{name: a, when: ['amout > 3'], action: review}]", "rules[0].when[0]", "did you mean amount"),
    ("rules: [{name: a, when: ['amount >> 3'], action: review}]", "rules[0].when[0]", "<feature> <op> <number>"),
    ("rules: [{name: a, when: ['amount > lots'], action: review}]", "rules[0].when[0]", "not a number"),
    ("rules: [{name: a, when: ['amount > 3'], action: block}]", "rules[0].action", "one of"),
    ("rules: [{name: a, when: ['amount > 3'], any: ['score > 0.1'], action: review}]", "rules[0]", "exactly one"),
    ("rules: [{name: a, when: [], action: review}]", "rules[0].when", "non-empty"),
    ("rules: [{when: ['amount > 3'], action: review}]", "rules[0].name", "name"),
    ("rules: [{name: a, when: ['amount > 3'], action: review, colour: red}]", "rules[0].colour", "unknown key"),
    ("rules:\n - {name: a, when: ['amount > 3'], action: review}\n - {name: a, when: ['amount > 4'], action: review}",
     "rules[1].name", "duplicate"),
    ("thresholds: {review: 0.9, decline: 0.5}", "thresholds.review", "exceeds"),
    ("thresholds: {review: 2}", "thresholds.review", "probability"),
    ("limits: {}", "limits", "unknown top-level"),
])
def test_bad_rules_name_the_rule_and_the_fix(text, field, words):
    with pytest.raises(InvalidInput) as error:
        parse_rules(text, NAMES, source="my.yaml")
    assert error.value.field == field
    assert words in str(error.value) and "my.yaml" in str(error.value)


def test_unparseable_and_missing_files(tmp_path):
    with pytest.raises(InvalidInput, match="not valid YAML"):
        parse_rules("rules: [unclosed", NAMES)
    with pytest.raises(InvalidInput, match="not found"):
        load_rules(tmp_path / "absent.yaml", NAMES)


def test_vectorized_decisions_match_one_at_a_time():
    rules = parse_rules(GOOD, NAMES)
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.choice([1.0, 50.0, 2000.0], 500), rng.integers(0, 8, 500), rng.integers(0, 2, 500)]).astype(float)
    X[rng.random(500) < 0.1, 1] = np.nan
    scores = rng.random(500)
    decisions, _ = rules.decide_many(X, scores)
    assert list(decisions) == [rules.decide(X[i], scores[i])[0] for i in range(500)]


def test_backtest_counts_known_outcomes():
    rules = parse_rules(GOOD, NAMES)
    X = np.array([[5.0, 6, 0], [5.0, 6, 0], [50.0, 0, 0], [50.0, 0, 1]])
    y = np.array([1, 0, 0, 1])
    report = backtest_rules(rules, X, np.array([0.0, 0.0, 0.0, 0.0]), y)
    assert report["rules"]["card_testing"] == {"fired": 2, "fraud_caught": 1, "precision": 0.5, "recall": 0.5,
                                               "false_positive_rate": 0.5}
    assert report["decisions"]["approve"]["fired"] == 1 and report["decisions"]["review"]["fraud_caught"] == 1


def test_combine_orders_actions():
    assert combine("review", ["approve"]) == "approve"
    assert combine("approve", ["approve", "decline"]) == "decline"
    assert combine("decline", []) == "decline"
