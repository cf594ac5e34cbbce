"""Intent detection on sentence embeddings, with calibrated out-of-scope detection.

A multinomial logistic regression on the (unit-length) sentence embeddings, optionally beside
character n-gram TF-IDF features (hashed, so the featurizer has no fitted vocabulary to save).
Out-of-scope examples in the training data, if any, are one more class; a message is out of
scope when that class wins or when the top in-scope probability is below ``threshold``.

The threshold is chosen on validation data only (never on test): the value that maximizes the
mean of in-scope accuracy and out-of-scope recall. Larson et al. 2019 (CLINC150) show that
in-scope accuracy says little about out-of-scope recall (BERT: 96.9 % vs 40.3 %); weighting the
two equally is what keeps the threshold from sacrificing one for the other. Without validation
data, out-of-fold predictions of a k-fold cross-validation on the training data stand in.

Artifacts are explicit: ``intents.npz`` (weights, classes; loaded with ``allow_pickle=False``)
and ``intents.json`` (config, threshold, digest of the npz); a digest mismatch is refused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from mercato.errors import Conflict, InvalidInput, NotFound, NotReady

OOS = "oos"
ARTIFACT_NPZ = "intents.npz"
ARTIFACT_JSON = "intents.json"


@dataclass(frozen=True)
class Prediction:
    intent: str  # OOS when out of scope
    confidence: float  # top in-scope probability
    top_intent: str  # best in-scope intent even when rejected (for handoff summaries)


class CharFeatures:
    """Hashed char_wb n-gram counts -> sublinear TF × IDF, row-normalized. Only the IDF is learned."""

    def __init__(self, n_features: int = 2**15, ngram_range: tuple[int, int] = (2, 4)) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.n_features = n_features
        self.ngram_range = tuple(ngram_range)
        self._hasher = HashingVectorizer(
            analyzer="char_wb", ngram_range=self.ngram_range, n_features=n_features,
            alternate_sign=False, norm=None, lowercase=True,
        )
        self.idf: np.ndarray | None = None

    def fit(self, texts: list[str]) -> CharFeatures:
        counts = self._hasher.transform(texts)
        df = np.bincount(counts.indices, minlength=self.n_features)
        self.idf = (np.log((1 + len(texts)) / (1 + df)) + 1.0).astype(np.float32)
        return self

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        counts = self._hasher.transform(texts).astype(np.float32)
        counts.data = 1.0 + np.log(counts.data)
        weighted = counts @ sparse.diags(self.idf)
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
        return sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ weighted


def choose_threshold(confidence: np.ndarray, predicted: np.ndarray, labels: np.ndarray) -> tuple[float, dict]:
    """The threshold on the top in-scope probability maximizing (in-scope accuracy + OOS recall) / 2.

    ``predicted`` is the argmax class (possibly OOS itself), ``labels`` the truth. With no OOS
    example in ``labels`` nothing can be calibrated: the threshold is 0 (never reject).
    """
    is_oos = labels == OOS
    if not is_oos.any() or is_oos.all():
        return 0.0, {"calibrated": False}
    candidates = np.unique(np.concatenate([[0.0], confidence]))
    best = (-1.0, 0.0, 0.0, 0.0)
    for threshold in candidates:
        rejected = (predicted == OOS) | (confidence < threshold)
        in_scope_acc = float(np.mean((~rejected[~is_oos]) & (predicted[~is_oos] == labels[~is_oos])))
        oos_recall = float(np.mean(rejected[is_oos]))
        score = (in_scope_acc + oos_recall) / 2
        if score > best[0] + 1e-12:
            best = (score, float(threshold), in_scope_acc, oos_recall)
    return best[1], {"calibrated": True, "val_in_scope_accuracy": best[2], "val_oos_recall": best[3]}


class IntentClassifier:
    """``fit(texts, labels, vectors)`` then ``predict(texts, vectors)``; vectors are (N, D) embeddings."""

    def __init__(self, *, C: float = 10.0, char_ngrams: bool = True, char_weight: float = 1.0, cv_folds: int = 5, seed: int = 0) -> None:
        self.C = C
        self.char_ngrams = char_ngrams
        self.char_weight = char_weight
        self.cv_folds = cv_folds
        self.seed = seed
        self.classes_: np.ndarray | None = None
        self.coef_: np.ndarray | None = None  # (K, F)
        self.intercept_: np.ndarray | None = None  # (K,)
        self.threshold_: float = 0.0
        self.calibration_: dict = {}
        self.chars_: CharFeatures | None = None
        self.embedding_model: str = ""

    # ---- features -----------------------------------------------------------------------
    def _features(self, texts: list[str], vectors: np.ndarray):
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise InvalidInput(f"need one embedding row per text: {len(texts)} texts, vectors of shape {vectors.shape}")
        if self.chars_ is None:
            return vectors
        chars = self.chars_.transform(texts) * self.char_weight
        return sparse.hstack([sparse.csr_matrix(vectors), chars], format="csr")

    def _fit_lr(self, features, labels: np.ndarray):
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=self.C, max_iter=300, tol=1e-3, random_state=self.seed)
        return model.fit(features, labels)

    # ---- fit / predict --------------------------------------------------------------------
    def fit(
        self,
        texts: list[str],
        labels: list[str],
        vectors: np.ndarray,
        *,
        val_texts: list[str] | None = None,
        val_labels: list[str] | None = None,
        val_vectors: np.ndarray | None = None,
        embedding_model: str = "",
    ) -> IntentClassifier:
        labels_arr = np.asarray(labels, dtype=str)
        if len(texts) != len(labels_arr) or len(texts) == 0:
            raise InvalidInput(f"fit needs as many labels as texts (got {len(texts)} texts, {len(labels_arr)} labels), at least one")
        if len(set(labels_arr) - {OOS}) < 2:
            raise InvalidInput("fit needs at least two in-scope intents")
        self.embedding_model = embedding_model
        self.chars_ = CharFeatures().fit(texts) if self.char_ngrams else None
        features = self._features(texts, vectors)
        model = self._fit_lr(features, labels_arr)
        self.classes_ = model.classes_.astype(str)
        self.coef_ = model.coef_.astype(np.float32)
        self.intercept_ = model.intercept_.astype(np.float32)
        if val_texts is not None and val_labels is not None and val_vectors is not None:
            proba = self.predict_proba(val_texts, val_vectors)
            truth = np.asarray(val_labels, dtype=str)
            source = "validation"
        else:
            proba, truth = self._out_of_fold(texts, labels_arr, features)
            source = f"{self.cv_folds}-fold cross-validation on training data"
        confidence, predicted = self._decide(proba)
        self.threshold_, self.calibration_ = choose_threshold(confidence, predicted, truth)
        self.calibration_["source"] = source
        return self

    def _out_of_fold(self, texts: list[str], labels: np.ndarray, features) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.model_selection import StratifiedKFold

        if not (labels == OOS).any():
            return np.zeros((0, len(self.classes_))), np.zeros(0, dtype=str)
        smallest = min(np.unique(labels, return_counts=True)[1])
        folds = max(2, min(self.cv_folds, int(smallest)))
        proba = np.zeros((len(labels), len(self.classes_)), dtype=np.float32)
        for train_idx, held_idx in StratifiedKFold(folds, shuffle=True, random_state=self.seed).split(texts, labels):
            model = self._fit_lr(features[train_idx], labels[train_idx])
            columns = np.searchsorted(self.classes_, model.classes_.astype(str))
            proba[np.ix_(held_idx, columns)] = model.predict_proba(features[held_idx])
        return proba, labels

    def _check_fitted(self) -> None:
        if self.coef_ is None:
            raise NotReady("intent classifier is not fitted yet; call fit or run `mercato assist train`")

    def predict_proba(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        self._check_fitted()
        features = self._features(texts, vectors)
        logits = np.asarray(features @ self.coef_.T) + self.intercept_  # (N, K)
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def _decide(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(top in-scope probability, argmax class) per row."""
        if proba.shape[0] == 0:
            return np.zeros(0), np.zeros(0, dtype=str)
        predicted = self.classes_[proba.argmax(axis=1)]
        in_scope = self.classes_ != OOS
        confidence = proba[:, in_scope].max(axis=1)
        return confidence, predicted

    def predict(self, texts: list[str], vectors: np.ndarray) -> list[Prediction]:
        proba = self.predict_proba(texts, vectors)
        confidence, predicted = self._decide(proba)
        in_scope_classes = self.classes_[self.classes_ != OOS]
        top = in_scope_classes[proba[:, self.classes_ != OOS].argmax(axis=1)]
        out = []
        for conf, pred, best in zip(confidence, predicted, top, strict=True):
            rejected = pred == OOS or conf < self.threshold_
            out.append(Prediction(OOS if rejected else str(pred), float(conf), str(best)))
        return out

    @property
    def intents(self) -> list[str]:
        self._check_fitted()
        return [c for c in self.classes_.tolist() if c != OOS]

    # ---- artifacts --------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {"classes": self.classes_, "coef": self.coef_, "intercept": self.intercept_}
        if self.chars_ is not None:
            arrays["idf"] = self.chars_.idf
        np.savez_compressed(folder / ARTIFACT_NPZ, **arrays)
        config = {
            "format": 1,
            "C": self.C,
            "char_ngrams": self.char_ngrams,
            "char_weight": self.char_weight,
            "char_n_features": self.chars_.n_features if self.chars_ else None,
            "char_ngram_range": list(self.chars_.ngram_range) if self.chars_ else None,
            "cv_folds": self.cv_folds,
            "seed": self.seed,
            "threshold": self.threshold_,
            "calibration": self.calibration_,
            "embedding_model": self.embedding_model,
            "digest": hashlib.sha256((folder / ARTIFACT_NPZ).read_bytes()).hexdigest(),
        }
        (folder / ARTIFACT_JSON).write_text(json.dumps(config, indent=2) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> IntentClassifier:
        folder = Path(folder)
        if not (folder / ARTIFACT_JSON).is_file() or not (folder / ARTIFACT_NPZ).is_file():
            raise NotFound(f"no intent model in {folder}; run `mercato assist train` first")
        config = json.loads((folder / ARTIFACT_JSON).read_text())
        raw = (folder / ARTIFACT_NPZ).read_bytes()
        if hashlib.sha256(raw).hexdigest() != config.get("digest"):
            raise Conflict(f"intent model in {folder} does not match its recorded digest; retrain it")
        model = cls(C=config["C"], char_ngrams=config["char_ngrams"], char_weight=config["char_weight"], cv_folds=config["cv_folds"], seed=config["seed"])
        with np.load(folder / ARTIFACT_NPZ, allow_pickle=False) as arrays:
            model.classes_ = arrays["classes"].astype(str)
            model.coef_ = arrays["coef"]
            model.intercept_ = arrays["intercept"]
            if config["char_ngrams"]:
                model.chars_ = CharFeatures(config["char_n_features"], tuple(config["char_ngram_range"]))
                model.chars_.idf = arrays["idf"]
        model.threshold_ = float(config["threshold"])
        model.calibration_ = config["calibration"]
        model.embedding_model = config["embedding_model"]
        return model
