"""The calibrated LightGBM model, its artifact, and the time-ordered evaluation."""

import json

import numpy as np
import pytest

from mercato.errors import Conflict, InvalidInput, NotFound, NotReady
from mercato.risk.datasets import simulated
from mercato.risk.evaluation import prequential, recall_at_fpr, threshold_at_fpr
from mercato.risk.model import META_FILE, RiskModel

SMALL = {"num_boost_round": 40, "num_threads": 1}


def _data(n: int = 6000, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    p = 1 / (1 + np.exp(-(3 * X[:, 0] - 6)))  # ~2 % positives, known probabilities
    return X, (rng.random(n) < p).astype(np.int8), p


def test_probabilities_are_calibrated_despite_the_positive_weight():
    X, y, p = _data(20_000)
    model = RiskModel(**SMALL).fit(X, y, ["a", "b", "c", "d"])
    X_new, _, p_new = _data(20_000, seed=1)
    predicted = model.predict(X_new)
    # Up-weighted positives would inflate raw probabilities; Platt scaling brings the mean back.
    assert predicted.mean() == pytest.approx(p_new.mean(), rel=0.25)
    high = predicted > 0.5
    assert p_new[high].mean() > 0.4 and p_new[~high].mean() < 0.1


def test_contributions_explain_the_score_and_the_artifact_round_trips(tmp_path):
    X, y, _ = _data()
    model = RiskModel(**SMALL).fit(X, y, ["a", "b", "c", "d"])
    probability, contributions = model.explain(X[0])
    assert probability == pytest.approx(model.predict(X[:1])[0])
    assert contributions.shape == (4,)
    mean_abs = np.mean([np.abs(model.explain(row)[1]) for row in X[:200]], axis=0)
    assert np.argmax(mean_abs) == 0  # only feature a drives the label
    model.save(tmp_path)
    loaded = RiskModel.load(tmp_path)
    np.testing.assert_array_equal(loaded.predict(X[:100]), model.predict(X[:100]))
    stored = json.loads((tmp_path / META_FILE).read_text())
    stored["meta"]["calibration"] = [1.0, 5.0]
    (tmp_path / META_FILE).write_text(json.dumps(stored))
    with pytest.raises(Conflict, match="digest"):
        RiskModel.load(tmp_path)
    with pytest.raises(NotFound, match="mercato risk train"):
        RiskModel.load(tmp_path / "none")


def test_unfitted_and_one_class_models_say_what_to_do():
    with pytest.raises(NotReady, match="fit"):
        RiskModel().predict(np.zeros((1, 3)))
    with pytest.raises(InvalidInput, match="both"):
        RiskModel().fit(np.zeros((10, 2)), np.zeros(10), ["a", "b"])


def test_recall_at_fpr_on_a_known_ranking():
    y = np.array([0] * 100 + [1] * 4)
    scores = np.concatenate([np.arange(100) / 100, [0.995, 0.985, 0.5, 0.1]])
    # One legitimate row (0.99) may score above the threshold at 1 % FPR: the threshold is 0.98.
    assert threshold_at_fpr(y, scores, 0.01) == 0.98
    assert recall_at_fpr(y, scores, 0.01) == 0.5


def test_prequential_trains_only_on_labels_known_before_each_block():
    history = simulated(seed=3, n_users=400, days=150, card_testing_bursts=15, takeovers=30, rings=5, friendly_frauds=20)
    report = prequential(history.X, history.times_s, history.labels, history.feature_names, pattern=history.pattern,
                         blocks=2, params=SMALL)
    first = report["blocks"][0]
    start = history.times_s[0] + 0.5 * (history.times_s[-1] - history.times_s[0])
    known, label = history.labels.known_at(start)
    past = history.times_s < start
    assert first["train_rows"] == int((known & past).sum()) and first["train_fraud"] == int(label[known & past].sum())
    assert first["unlabelled_past_rows"] > 0  # recent payments wait for their labels
    assert set(report["metrics"]["per_pattern_recall_at_1pct_fpr"]) <= {"card_testing", "account_takeover", "fraud_ring",
                                                                        "friendly_fraud"}
    assert report["metrics"]["roc_auc"] > 0.8


def test_predict_one_matches_the_batch_and_the_contributions():
    X, y, _ = _data()
    model = RiskModel(**SMALL).fit(X, y, ["a", "b", "c", "d"])
    batch = model.predict(X[:100])  # 100 rows: the multi-threaded path
    for i, row in enumerate(X[:20]):
        assert model.predict_one(row) == pytest.approx(batch[i])
        assert model.predict_one(row) == pytest.approx(model.explain(row)[0])
