"""Training and evaluating intent models: the shop's own intents, or a benchmark dataset.

Training time includes embedding the training texts; with the embedding cache warm (a re-run
on the same texts) it is the classifier fit alone, and reports say which it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from mercato.assist.datasets import OOS, IntentData, load_dataset
from mercato.assist.embedder import CachedEmbedder, Embedder
from mercato.assist.intents import IntentClassifier
from mercato.errors import InvalidInput, NotFound


def _quiet(message: str) -> None:
    pass


def bundled_intents_path() -> Path:
    return Path(str(resources.files("mercato") / "data" / "assist_intents.yaml"))


def load_shop_intents(path: str | Path | None) -> tuple[list[str], list[str]]:
    """Texts and labels of a shop intents YAML (``intents: {name: [utterances]}``, ``oos: [utterances]``)."""
    path = Path(path) if path else bundled_intents_path()
    if not path.is_file():
        raise NotFound(f"intents file {path} does not exist; set assist_intents_path or use the bundled one")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidInput(f"intents file {path} is not valid YAML: {exc}", field="assist_intents_path") from None
    if not isinstance(data, dict) or not isinstance(data.get("intents"), dict):
        raise InvalidInput(f"intents file {path} needs a mapping 'intents: {{name: [utterances]}}'", field="assist_intents_path")
    texts, labels = [], []
    for name, utterances in data["intents"].items():
        if name == OOS or not isinstance(utterances, list) or not utterances:
            raise InvalidInput(f"intent {name!r} in {path} needs a non-empty list of utterances (and may not be named 'oos')",
                               field="assist_intents_path")
        texts.extend(str(u) for u in utterances)
        labels.extend([str(name)] * len(utterances))
    oos = data.get("oos") or []
    texts.extend(str(u) for u in oos)
    labels.extend([OOS] * len(oos))
    return texts, labels


def train_shop_model(embedder: Embedder, intents_path: str | Path | None, out: Path, *, progress: Callable[[str], None] = _quiet) -> dict:
    texts, labels = load_shop_intents(intents_path)
    progress(f"embedding {len(texts)} shop utterances ({len(set(labels) - {OOS})} intents, {labels.count(OOS)} out-of-scope)")
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    embed_s = time.perf_counter() - started
    progress("fitting the intent classifier; threshold from cross-validation")
    model = IntentClassifier().fit(texts, labels, vectors, embedding_model=embedder.model_id)
    model.save(out)
    return {"model_dir": str(out), "utterances": len(texts), "intents": model.intents, "threshold": round(model.threshold_, 4),
            "calibration": model.calibration_, "embed_s": round(embed_s, 2), "train_s": round(time.perf_counter() - started, 2),
            "embedding_model": embedder.model_id}


def fit_dataset(data: IntentData, embedder: Embedder, *, progress: Callable[[str], None] = _quiet, **params) -> tuple[IntentClassifier, dict]:
    """Fit on train, calibrate the out-of-scope threshold on val; timings with the embedding step apart."""
    started = time.perf_counter()
    progress(f"{data.name}: embedding {len(data.train_texts):,} training and {len(data.val_texts):,} validation texts")
    train_vectors = embedder.encode(data.train_texts)
    val_vectors = embedder.encode(data.val_texts)
    embedded = time.perf_counter()
    progress(f"{data.name}: embedded in {embedded - started:.1f} s; fitting the classifier")
    model = IntentClassifier(**params).fit(
        data.train_texts, data.train_labels, train_vectors,
        val_texts=data.val_texts, val_labels=data.val_labels, val_vectors=val_vectors, embedding_model=embedder.model_id,
    )
    done = time.perf_counter()
    progress(f"{data.name}: fitted in {done - embedded:.1f} s; out-of-scope threshold {model.threshold_:.3f}")
    cached = isinstance(embedder, CachedEmbedder) and embedder.misses == 0
    return model, {"embed_s": round(embedded - started, 2), "fit_s": round(done - embedded, 2),
                   "train_s": round(done - started, 2), "embeddings_from_cache": cached}


def score(model: IntentClassifier, texts: list[str], labels: list[str], vectors: np.ndarray) -> dict:
    """Accuracy, macro-F1 over all classes (OOS included when present), in-scope accuracy, OOS recall/precision."""
    from sklearn.metrics import f1_score

    predicted = np.array([p.intent for p in model.predict(texts, vectors)])
    truth = np.asarray(labels)
    in_scope = truth != OOS
    report = {
        "n": int(len(truth)),
        "accuracy": float(np.mean(predicted == truth)),
        "macro_f1": float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth)), zero_division=0)),
        "in_scope_accuracy": float(np.mean(predicted[in_scope] == truth[in_scope])) if in_scope.any() else None,
    }
    if (~in_scope).any():
        flagged = predicted == OOS
        report["oos_recall"] = float(np.mean(flagged[~in_scope]))
        report["oos_precision"] = float(np.mean(~in_scope[flagged])) if flagged.any() else 0.0
    return report


def evaluate_dataset(name: str, data_dir: Path | None, embedder: Embedder, *, seed: int = 0,
                     progress: Callable[[str], None] = _quiet, **params) -> dict:
    data = load_dataset(name, data_dir, seed=seed)
    progress(f"{name}: {data.summary()}")
    model, timing = fit_dataset(data, embedder, progress=progress, **params)
    progress(f"{name}: embedding {len(data.test_texts):,} test texts and scoring")
    test_vectors = embedder.encode(data.test_texts)
    val_vectors = embedder.encode(data.val_texts)
    return {
        "dataset": name,
        "split": data.summary(),
        "embedding_model": embedder.model_id,
        "params": model_params(model),
        "threshold": round(model.threshold_, 4),
        "calibration": model.calibration_,
        "timing": timing,
        "val": score(model, data.val_texts, data.val_labels, val_vectors),
        "test": score(model, data.test_texts, data.test_labels, test_vectors),
    }


def model_params(model: IntentClassifier) -> dict:
    return model.params()
