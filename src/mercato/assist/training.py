"""Training and evaluating intent models: the shop's own intents, or a benchmark dataset.

Training time includes embedding the training texts; with the embedding cache warm (a re-run
on the same texts) it is the classifier fit alone, and reports say which it was.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from mercato.assist.datasets import OOS, IntentData, load_dataset
from mercato.assist.embedder import CachedEmbedder, Embedder, SentenceEmbedder
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


def tuned_embedder(embedder: Embedder, texts: list[str], labels: list[str], folder: Path, *, layers: int,
                   epochs: float = 2.0, seed: int = 0, progress: Callable[[str], None] = _quiet) -> tuple[Embedder, np.ndarray]:
    """Fine-tune the top ``layers`` of ``embedder``'s sentence model on the labelled texts, save them
    in ``folder`` (``finetune.ENCODER_FILE``) and return the embedder of the tuned model (cached
    like ``embedder``) with its embeddings of ``texts``, which come out of the tuning for a fraction
    of what embedding them again would cost. The given embedder's own model is left as it is:
    retrieval keeps using it."""
    from mercato.assist.finetune import ENCODER_FILE, fine_tune_top_layers, save_top_layers

    base = embedder.inner if isinstance(embedder, CachedEmbedder) else embedder
    if not isinstance(base, SentenceEmbedder) or base.top_layers is not None:
        raise InvalidInput(f"fine-tuning needs a sentence-transformers embedder, not {embedder.model_id!r}",
                           field="fine_tune_layers")
    fresh = SentenceEmbedder(base.model_path, threads=base.threads)
    result = fine_tune_top_layers(fresh._load(), texts, labels, layers=layers, epochs=epochs, seed=seed, progress=progress)
    path = save_top_layers(result.weights, Path(folder) / ENCODER_FILE)
    tuned = SentenceEmbedder(base.model_path, threads=base.threads, batch_size=base.batch_size, top_layers=path)
    return (CachedEmbedder(tuned, embedder.cache_dir) if isinstance(embedder, CachedEmbedder) else tuned), result.vectors


def train_shop_model(embedder: Embedder, intents_path: str | Path | None, out: Path, *, fine_tune_layers: int = 0,
                     progress: Callable[[str], None] = _quiet) -> dict:
    from mercato.assist.finetune import ENCODER_FILE

    texts, labels = load_shop_intents(intents_path)
    progress(f"embedding {len(texts)} shop utterances ({len(set(labels) - {OOS})} intents, {labels.count(OOS)} out-of-scope)")
    started = time.perf_counter()
    out = Path(out)
    (out / ENCODER_FILE).unlink(missing_ok=True)  # a stale tuned encoder must not outlive the model it was for
    if fine_tune_layers:
        embedder, vectors = tuned_embedder(embedder, texts, labels, out, layers=fine_tune_layers, progress=progress)
    else:
        vectors = embedder.encode(texts)
    embed_s = time.perf_counter() - started
    progress("fitting the intent classifier; threshold from cross-validation")
    model = IntentClassifier().fit(texts, labels, vectors, embedding_model=embedder.model_id)
    model.save(out)
    return {"model_dir": str(out), "utterances": len(texts), "intents": model.intents, "threshold": round(model.threshold_, 4),
            "calibration": model.calibration_, "embed_s": round(embed_s, 2), "train_s": round(time.perf_counter() - started, 2),
            "embedding_model": embedder.model_id, "fine_tune_layers": fine_tune_layers}


def fit_dataset(data: IntentData, embedder: Embedder, *, fine_tune_layers: int = 0, encoder_dir: Path | None = None,
                progress: Callable[[str], None] = _quiet, **params) -> tuple[IntentClassifier, dict, Embedder]:
    """Fit on train, calibrate the out-of-scope threshold on val; timings with the embedding step apart.

    With ``fine_tune_layers``, the top encoder layers are first tuned on the training labels (saved
    in ``encoder_dir``). Returns the classifier, the timings and the embedder its inputs come from.
    """
    started = time.perf_counter()
    tune_s = 0.0
    if fine_tune_layers:
        if encoder_dir is None:
            raise InvalidInput("fine-tuning needs a folder for the tuned encoder layers", field="encoder_dir")
        embedder, train_vectors = tuned_embedder(embedder, data.train_texts, data.train_labels, encoder_dir,
                                                 layers=fine_tune_layers, progress=progress)
        tune_s = time.perf_counter() - started
        progress(f"{data.name}: embedding {len(data.val_texts):,} validation texts with the tuned encoder")
    else:
        progress(f"{data.name}: embedding {len(data.train_texts):,} training and {len(data.val_texts):,} validation texts")
        train_vectors = embedder.encode(data.train_texts)
    val_vectors = embedder.encode(data.val_texts)
    embedded = time.perf_counter()
    progress(f"{data.name}: embedded in {embedded - started - tune_s:.1f} s; fitting the classifier")
    model = IntentClassifier(**params).fit(
        data.train_texts, data.train_labels, train_vectors,
        val_texts=data.val_texts, val_labels=data.val_labels, val_vectors=val_vectors, embedding_model=embedder.model_id,
    )
    done = time.perf_counter()
    progress(f"{data.name}: fitted in {done - embedded:.1f} s; out-of-scope threshold {model.threshold_:.3f}")
    cached = isinstance(embedder, CachedEmbedder) and embedder.misses == 0
    return model, {"fine_tune_s": round(tune_s, 2), "embed_s": round(embedded - started - tune_s, 2),
                   "fit_s": round(done - embedded, 2), "train_s": round(done - started, 2),
                   "embeddings_from_cache": cached}, embedder


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


def evaluate_dataset(name: str, data_dir: Path | None, embedder: Embedder, *, seed: int = 0, fine_tune_layers: int = 0,
                     progress: Callable[[str], None] = _quiet, **params) -> dict:
    data = load_dataset(name, data_dir, seed=seed)
    progress(f"{name}: {data.summary()}")
    with tempfile.TemporaryDirectory() as encoder_dir:  # an evaluation keeps no model
        model, timing, embedder = fit_dataset(data, embedder, fine_tune_layers=fine_tune_layers,
                                              encoder_dir=Path(encoder_dir), progress=progress, **params)
        progress(f"{name}: embedding {len(data.test_texts):,} test texts and scoring")
        test_vectors = embedder.encode(data.test_texts)
        val_vectors = embedder.encode(data.val_texts)
    return {
        "dataset": name,
        "split": data.summary(),
        "embedding_model": embedder.model_id,
        "fine_tune_layers": fine_tune_layers,
        "params": model_params(model),
        "threshold": round(model.threshold_, 4),
        "calibration": model.calibration_,
        "timing": timing,
        "val": score(model, data.val_texts, data.val_labels, val_vectors),
        "test": score(model, data.test_texts, data.test_labels, test_vectors),
    }


def model_params(model: IntentClassifier) -> dict:
    return model.params()
