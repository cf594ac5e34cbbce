"""Intent classifier logic on the model-free hashing embedder: known answers, calibration, artifacts."""

import json

import numpy as np
import pytest

from mercato.assist.embedder import CachedEmbedder, HashingEmbedder
from mercato.assist.intents import OOS, IntentClassifier, choose_threshold
from mercato.errors import Conflict, InvalidInput, NotFound, NotReady

TRAIN = {
    "weather": ["will it rain today", "weather forecast tomorrow", "is it sunny outside", "how hot is it today",
                "rain forecast this week", "will it be cold tomorrow"],
    "music": ["play a song", "play some jazz music", "next song please", "turn the music up", "play my playlist",
              "stop the music"],
    "timer": ["set a timer for ten minutes", "start a timer", "cancel my timer", "how long is left on the timer",
              "timer for five minutes", "stop the timer"],
}
OOS_TRAIN = ["what is the capital of peru", "who wrote hamlet", "tell me about volcanoes", "how do magnets work",
             "best way to learn chess", "why is the sky blue"]


def data():
    texts = [t for ts in TRAIN.values() for t in ts] + OOS_TRAIN
    labels = [k for k, ts in TRAIN.items() for _ in ts] + [OOS] * len(OOS_TRAIN)
    return texts, labels


@pytest.fixture(scope="module")
def embedder():
    return HashingEmbedder(256)


@pytest.fixture(scope="module")
def fitted(embedder):
    texts, labels = data()
    return IntentClassifier().fit(texts, labels, embedder.encode(texts), embedding_model=embedder.model_id)


def predict(model, embedder, texts):
    return [p.intent for p in model.predict(texts, embedder.encode(texts))]


def test_known_intents_are_recognized(fitted, embedder):
    assert predict(fitted, embedder, ["will it rain tomorrow", "play some music", "set a timer for two minutes"]) == [
        "weather", "music", "timer"]


def test_threshold_comes_from_cross_validation_without_val(fitted):
    assert fitted.calibration_["calibrated"] and "cross-validation" in fitted.calibration_["source"]
    assert 0.0 <= fitted.threshold_ < 1.0
    assert fitted.intents == ["music", "timer", "weather"]


def test_choose_threshold_known_answer():
    # Ten in-scope rows, right with confidences 0.50..0.95; one wrong at 0.3; OOS rows reach 0.4 and 0.6.
    confidence = np.array([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.3, 0.4, 0.6])
    predicted = np.array(["a"] * 10 + ["b", "a", "a"])
    labels = np.array(["a"] * 10 + ["a", OOS, OOS])
    # Unthresholded in-scope accuracy is 10/11. The threshold 0.5 rejects the OOS row at 0.4 (recall 1/2)
    # and no right row. A drop of 1/11 would allow 0.55 too, but that loses the 0.5 row and catches no
    # further OOS row: the threshold stays 0.5.
    threshold, info = choose_threshold(confidence, predicted, labels, max_in_scope_drop=1 / 11)
    assert threshold == pytest.approx(0.5)
    assert info["val_in_scope_accuracy"] == pytest.approx(10 / 11) and info["val_oos_recall"] == 0.5
    threshold, info = choose_threshold(confidence, predicted, labels, max_in_scope_drop=0.0)
    assert threshold == pytest.approx(0.5) and info["val_oos_recall"] == 0.5
    # A drop of 3/11 buys the OOS row at 0.6: 0.65 is the lowest threshold rejecting it (0.5, 0.55, 0.6 lost).
    threshold, info = choose_threshold(confidence, predicted, labels, max_in_scope_drop=3 / 11)
    assert threshold == pytest.approx(0.65)
    assert info["val_in_scope_accuracy"] == pytest.approx(7 / 11) and info["val_oos_recall"] == 1.0
    assert choose_threshold(confidence, predicted, np.array(["a"] * 13)) == (0.0, {"calibrated": False})


def test_validation_data_sets_the_threshold(embedder):
    texts, labels = data()
    val_texts = ["rain tomorrow?", "play jazz", "who painted the mona lisa", "how do planes fly"]
    val_labels = ["weather", "music", OOS, OOS]
    model = IntentClassifier().fit(texts, labels, embedder.encode(texts), val_texts=val_texts, val_labels=val_labels,
                                   val_vectors=embedder.encode(val_texts))
    assert model.calibration_["source"] == "validation"


def test_save_load_gives_identical_answers_and_refuses_tampering(fitted, embedder, tmp_path):
    fitted.save(tmp_path / "m")
    loaded = IntentClassifier.load(tmp_path / "m")
    probe = ["is it sunny", "play a song", "what is love", "timer please"]
    vectors = embedder.encode(probe)
    np.testing.assert_allclose(loaded.predict_proba(probe, vectors), fitted.predict_proba(probe, vectors), rtol=1e-5)
    assert loaded.params() == fitted.params()
    assert loaded.threshold_ == fitted.threshold_
    config = json.loads((tmp_path / "m" / "intents.json").read_text())
    config["digest"] = "0" * 64
    (tmp_path / "m" / "intents.json").write_text(json.dumps(config))
    with pytest.raises(Conflict):
        IntentClassifier.load(tmp_path / "m")
    with pytest.raises(NotFound, match="mercato assist train"):
        IntentClassifier.load(tmp_path / "nothing")


def test_errors_say_what_to_do(embedder):
    with pytest.raises(NotReady, match="fit"):
        IntentClassifier().predict(["hi"], embedder.encode(["hi"]))
    with pytest.raises(InvalidInput, match="two in-scope"):
        IntentClassifier().fit(["a", "b"], ["x", "x"], embedder.encode(["a", "b"]))
    with pytest.raises(InvalidInput, match="one embedding row per text"):
        IntentClassifier().fit(["a", "b"], ["x", "y"], embedder.encode(["a"]))


def test_embeddings_only_model(embedder):
    texts, labels = data()
    model = IntentClassifier(text_features=False).fit(texts, labels, embedder.encode(texts))
    assert "text_coef" not in model.state_ and model.predict(["play some jazz"], embedder.encode(["play some jazz"]))[0].top_intent == "music"


def test_same_seed_same_model(embedder):
    texts, labels = data()
    vectors = embedder.encode(texts)
    a = IntentClassifier(seed=3).fit(texts, labels, vectors)
    b = IntentClassifier(seed=3).fit(texts, labels, vectors)
    np.testing.assert_array_equal(a.state_["coef"], b.state_["coef"])
    np.testing.assert_array_equal(a.state_["text_coef"], b.state_["text_coef"])
    assert a.threshold_ == b.threshold_


def test_embedding_cache_reads_back_what_it_wrote(embedder, tmp_path):
    cached = CachedEmbedder(embedder, tmp_path / "cache")
    first = cached.encode(["one text", "another"])
    again = cached.encode(["one text", "another"])
    np.testing.assert_array_equal(first, again)
    assert (cached.misses, cached.hits) == (1, 1)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)
