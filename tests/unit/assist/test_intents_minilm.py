"""The real all-MiniLM-L6-v2 model on a CLINC150 slice: intents and out-of-scope detection, threshold from val.

A slice (20 intents of the 150, all of the oos parts) keeps the run to about a minute on a CPU; the
full benchmark is ``benchmarks/assist.py``.
"""

import json

import numpy as np
import pytest

from mercato.assist.embedder import embedder_for
from mercato.assist.intents import OOS, IntentClassifier
from mercato.assist.training import score

pytestmark = pytest.mark.datasets


@pytest.fixture(scope="module")
def minilm():
    return embedder_for(None)


@pytest.fixture(scope="module")
def clinc_slice(dataset):
    data = json.loads((dataset("clinc150") / "data_full.json").read_text())
    keep = sorted({label for _, label in data["train"]})[:20]

    def part(name, oos_every=1):
        rows = [r for r in data[name] if r[1] in keep] + data[f"oos_{name}"][::oos_every]
        return [t for t, _ in rows], [OOS if label == "oos" else label for _, label in rows]

    return part("train"), part("val"), part("test", oos_every=4)


def test_minilm_embeddings_are_unit_length_and_paraphrases_are_close(minilm):
    vectors = minilm.encode(["where is my parcel", "where is my package", "what is the capital of peru"])
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_intents_and_out_of_scope_on_a_clinc_slice(minilm, clinc_slice):
    (train_t, train_l), (val_t, val_l), (test_t, test_l) = clinc_slice
    model = IntentClassifier().fit(train_t, train_l, minilm.encode(train_t), val_texts=val_t, val_labels=val_l,
                                   val_vectors=minilm.encode(val_t), embedding_model=minilm.model_id)
    assert model.calibration_["source"] == "validation" and model.threshold_ > 0
    report = score(model, test_t, test_l, minilm.encode(test_t))
    # Twenty intents are easier than 150: in-scope accuracy stays high while the threshold buys OOS recall.
    assert report["in_scope_accuracy"] >= 0.95
    assert report["oos_recall"] >= 0.6
