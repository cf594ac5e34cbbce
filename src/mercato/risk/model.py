"""The fraud model: LightGBM on the feature rows, with calibrated probabilities and reasons.

Fraud is rare (0.17 % of the creditcard-fraud payments), so positives are up-weighted
(``scale_pos_weight``) for the trees to split on them; that distorts the raw probability,
so the last ``calibration_fraction`` of the (time-ordered) training rows is held out and a
Platt scaling (a logistic fit on the raw log-odds) maps the booster's output to a calibrated
probability. Platt is strictly monotone, so ranking metrics (ROC-AUC, recall at a fixed FPR)
are untouched; the model is then refitted on all rows with the same number of trees.

Saved as LightGBM's own text format plus a JSON file with the calibration, the feature
names and a SHA-256 digest of both; ``load`` refuses files whose digest does not match.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import lightgbm as lgb
import numpy as np

from mercato.errors import Conflict, InvalidInput, NotFound, NotReady

MODEL_FILE = "model.txt"
META_FILE = "risk_model.json"
# LightGBM's own parameter names. Chosen on the creditcard-fraud training period: a minimum
# hessian per leaf (with rare positives, leaves holding one or two frauds are noise), strong L2
# and path smoothing made the ranking hold up on later weeks; positives weigh 3x.
DEFAULT_PARAMS: dict = {
    "num_boost_round": 200,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 20,
    "min_sum_hessian_in_leaf": 1.0,
    "feature_fraction": 0.5,
    "lambda_l2": 10.0,
    "path_smooth": 10.0,
    "scale_pos_weight": 3.0,
    "num_threads": 2,
    "seed": 0,
}


class RiskModel:
    """``fit(X, y, names)`` on time-ordered rows; ``predict`` calibrated fraud probabilities."""

    def __init__(self, *, calibration_fraction: float = 0.2, **params) -> None:
        self.calibration_fraction = calibration_fraction
        self.params = {**DEFAULT_PARAMS, **params}
        self.booster: lgb.Booster | None = None
        self.feature_names: tuple[str, ...] = ()
        self.calibration = (1.0, 0.0)  # probability = sigmoid(a * raw_log_odds + b)

    # ---- training ------------------------------------------------------------------------
    def _train(self, X: np.ndarray, y: np.ndarray) -> lgb.Booster:
        params = {k: v for k, v in self.params.items() if k != "num_boost_round"}
        params.update(objective="binary", verbosity=-1, deterministic=True, force_row_wise=True)
        data = lgb.Dataset(X, label=y, feature_name=list(self.feature_names), free_raw_data=True)
        return lgb.train(params, data, num_boost_round=int(self.params["num_boost_round"]))

    def fit(self, X: np.ndarray, y: np.ndarray, feature_names: tuple[str, ...] | list[str]) -> RiskModel:
        """Rows must be in time order: the calibration slice is the latest part."""
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int8)
        if X.ndim != 2 or len(X) != len(y) or X.shape[1] != len(feature_names):
            raise InvalidInput(f"X {X.shape}, y {y.shape} and {len(feature_names)} feature names do not agree")
        if y.sum() == 0 or y.sum() == len(y):
            raise InvalidInput("training rows need both fraud (1) and legitimate (0) labels")
        self.feature_names = tuple(feature_names)
        cut = int(len(y) * (1 - self.calibration_fraction))
        if 0 < cut < len(y) and 0 < y[:cut].sum() and 0 < y[cut:].sum():
            early = self._train(X[:cut], y[:cut])
            self.calibration = platt(early.predict(X[cut:], raw_score=True), y[cut:])
        self.booster = self._train(X, y)
        return self

    # ---- answering -----------------------------------------------------------------------
    def _require(self) -> lgb.Booster:
        if self.booster is None:
            raise NotReady("risk model is not fitted yet; call fit or run 'mercato risk train'")
        return self.booster

    def raw(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(X)
        # One thread for small batches: waking an OpenMP team costs more than a row's trees.
        threads = 1 if len(X) < 64 else int(self.params["num_threads"])
        return self._require().predict(X, raw_score=True, num_threads=threads)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probability of fraud per row: shape (n,)."""
        a, b = self.calibration
        return 1.0 / (1.0 + np.exp(-(a * self.raw(X) + b)))

    def predict_one(self, row: np.ndarray) -> float:
        """Calibrated probability of one feature row: shape (n_features,)."""
        return float(self.predict(row.reshape(1, -1))[0])

    def explain(self, row: np.ndarray) -> tuple[float, np.ndarray]:
        """(calibrated probability, per-feature contributions to the raw log-odds) of one row.

        One ``pred_contrib`` call gives both: its last column is the bias, and the columns sum
        to the raw score (TreeSHAP values, Lundberg et al. 2020).
        """
        contributions = self._require().predict(row.reshape(1, -1), pred_contrib=True, num_threads=1)[0]
        a, b = self.calibration
        probability = 1.0 / (1.0 + math.exp(-(a * float(contributions.sum()) + b)))
        return probability, contributions[:-1]

    # ---- persistence ---------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        text = self._require().model_to_string()
        meta = {"feature_names": list(self.feature_names), "calibration": list(self.calibration),
                "params": self.params, "calibration_fraction": self.calibration_fraction}
        digest = _digest(text, meta)
        (folder / MODEL_FILE).write_text(text)
        (folder / META_FILE).write_text(json.dumps({"digest": digest, "meta": meta}, indent=2))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> RiskModel:
        folder = Path(folder)
        if not (folder / MODEL_FILE).is_file() or not (folder / META_FILE).is_file():
            raise NotFound(f"no risk model in {folder}; run 'mercato risk train' first")
        text = (folder / MODEL_FILE).read_text()
        try:
            stored = json.loads((folder / META_FILE).read_text())
            meta, digest = stored["meta"], stored["digest"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise Conflict(f"{folder / META_FILE} is not a risk model file ({exc}); retrain") from None
        if _digest(text, meta) != digest:
            raise Conflict(f"risk model in {folder} does not match its digest (edited or corrupted); retrain")
        model = cls(calibration_fraction=meta["calibration_fraction"], **meta["params"])
        model.feature_names = tuple(meta["feature_names"])
        model.calibration = (float(meta["calibration"][0]), float(meta["calibration"][1]))
        model.booster = lgb.Booster(model_str=text)
        return model


def platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of sigmoid(a * raw + b) fitted by logistic regression on held-out rows."""
    from sklearn.linear_model import LogisticRegression

    fit = LogisticRegression(C=1e4, max_iter=1000).fit(raw.reshape(-1, 1), y)
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


def _digest(text: str, meta: dict) -> str:
    return hashlib.sha256((text + json.dumps(meta, sort_keys=True)).encode()).hexdigest()
