"""Time-ordered evaluation of the fraud model: a holdout split and prequential replay.

- ``time_split``: train on the first ``train_fraction`` of the time span, test on the rest
  (the creditcard-fraud protocol of issue 6).
- ``prequential``: walk forward through the stream in blocks; before each block, retrain on
  the earlier payments *whose labels were known by then* (``DelayedLabels.known_at``) and
  score the block. Scores are then judged against eventual labels. This is how a deployed
  model lives: it never learns from a chargeback that has not arrived yet.

Both return the scored ``rows`` and their out-of-sample ``scores`` too, for rule backtests.

Metrics: ROC-AUC, PR-AUC (average precision) and recall at 1 % false-positive rate — the
operating point of issue 6 — overall and per fraud pattern.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mercato.errors import InvalidInput
from mercato.risk.labels import DelayedLabels
from mercato.risk.model import RiskModel

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    pass


def threshold_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float = 0.01) -> float:
    """The lowest threshold with at most ``fpr`` of the legitimate rows scoring strictly above it."""
    negatives = np.sort(scores[np.asarray(y) == 0])[::-1]
    k = int(np.floor(fpr * len(negatives)))
    return float(negatives[k]) if k < len(negatives) else float("-inf")


def recall_at_fpr(y: np.ndarray, scores: np.ndarray, fpr: float = 0.01) -> float:
    y = np.asarray(y)
    positives = scores[y == 1]
    return float((positives > threshold_at_fpr(y, scores, fpr)).mean()) if len(positives) else float("nan")


def metrics(y: np.ndarray, scores: np.ndarray, pattern: np.ndarray | None = None) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = np.asarray(y)
    out = {"n": int(len(y)), "fraud": int(y.sum()), "roc_auc": round(float(roc_auc_score(y, scores)), 4),
           "pr_auc": round(float(average_precision_score(y, scores)), 4),
           "recall_at_1pct_fpr": round(recall_at_fpr(y, scores, 0.01), 4)}
    if pattern is not None:
        threshold = threshold_at_fpr(y, scores, 0.01)
        out["per_pattern_recall_at_1pct_fpr"] = {
            str(p): {"fraud": int(((pattern == p) & (y == 1)).sum()),
                     "recall": round(float((scores[(pattern == p) & (y == 1)] > threshold).mean()), 4)}
            for p in sorted(set(pattern[y == 1]))
        }
    return out


def time_split(X: np.ndarray, y: np.ndarray, times_s: np.ndarray, feature_names: list[str], *,
               train_fraction: float = 0.7, params: dict | None = None, progress: Progress = _silent) -> dict:
    """Fit on the first ``train_fraction`` of the time span, report metrics on the rest."""
    start, end = float(times_s.min()), float(times_s.max())
    cut = start + train_fraction * (end - start)
    order = np.argsort(times_s, kind="stable")
    train, test = order[times_s[order] <= cut], order[times_s[order] > cut]
    progress(f"time split at {train_fraction:.0%} of the span: {len(train):,} train rows "
             f"({int(y[train].sum())} fraud), {len(test):,} test rows ({int(y[test].sum())} fraud)")
    model = RiskModel(**(params or {})).fit(X[train], y[train], feature_names)
    scores = model.predict(X[test])
    return {"protocol": f"time-ordered: first {train_fraction:.0%} of time trains, the rest tests",
            "train_rows": int(len(train)), "test_rows": int(len(test)), "metrics": metrics(y[test], scores),
            "model": model, "rows": test, "scores": scores}


def prequential(X: np.ndarray, times_s: np.ndarray, labels: DelayedLabels, feature_names: list[str], *,
                pattern: np.ndarray | None = None, warmup_fraction: float = 0.5, blocks: int = 4,
                params: dict | None = None, progress: Progress = _silent) -> dict:
    """Walk-forward evaluation with delayed labels; rows must be in time order."""
    start, end = float(times_s[0]), float(times_s[-1])
    edges = start + (end - start) * np.linspace(warmup_fraction, 1.0, blocks + 1)
    scored_rows, scores, trained_on = [], [], []
    for b in range(blocks):
        block_start, block_end = edges[b], edges[b + 1]
        known, label = labels.known_at(block_start)
        train = np.flatnonzero((times_s < block_start) & known)
        rows = np.flatnonzero((times_s >= block_start) & ((times_s < block_end) | (b == blocks - 1)))
        if label[train].min(initial=1) == 1 or label[train].max(initial=0) == 0:
            # Too early: no legitimate payment has matured yet (or no fraud is known). A deployed
            # shop would run on rules alone here; the model is judged only where it could exist.
            trained_on.append({"block": b, "skipped": "labels of only one class known by then", "scored_rows": 0})
            progress(f"  block {b + 1}/{blocks}: skipped, labels of only one class known by then")
            continue
        model = RiskModel(**(params or {})).fit(X[train], label[train], feature_names)
        scored_rows.append(rows)
        scores.append(model.predict(X[rows]))
        trained_on.append({"block": b, "train_rows": int(len(train)), "train_fraud": int(label[train].sum()),
                           "unlabelled_past_rows": int(((times_s < block_start) & ~known).sum()), "scored_rows": int(len(rows))})
        progress(f"  block {b + 1}/{blocks}: trained on {len(train):,} labelled rows "
                 f"({int(label[train].sum())} fraud known by then), scored {len(rows):,}")
    if not scored_rows:
        raise InvalidInput("the history is too short for a prequential evaluation: no block had both fraud and matured "
                           "legitimate labels before it (payments mature after the label maturity period)")
    rows = np.concatenate(scored_rows)
    y = labels.eventual[rows]
    scores = np.concatenate(scores)
    return {"rows": rows, "scores": scores, "protocol": f"prequential: {blocks} blocks after a {warmup_fraction:.0%} warm-up, retrained before each "
                        f"block on labels known by then", "blocks": trained_on,
            "metrics": metrics(y, scores, None if pattern is None else pattern[rows])}
