"""Fine-tuning the encoder's top layer on intents, with the real all-MiniLM-L6-v2 model."""

import numpy as np
import pytest

from mercato.assist.embedder import SentenceEmbedder
from mercato.assist.finetune import ENCODER_FILE, fine_tune_top_layers, load_top_layers, save_top_layers
from mercato.assist.training import train_shop_model, tuned_embedder
from mercato.errors import InvalidInput

# Two intents whose wording overlaps ("card", "order", "account"): a frozen encoder places each
# text near its words; tuning should place it near its intent.
TEXTS = {
    "refund": ["I want my money back for the order", "refund the card I paid with", "give me a refund to my account",
               "can the order be refunded", "money back on my card please", "refund my account for this purchase"],
    "payment_failed": ["my card was declined for the order", "the order payment did not go through",
                       "my account payment failed", "card rejected at checkout", "payment error with my card",
                       "why did my account get charged an error"],
}


def _data():
    texts = [t for ts in TEXTS.values() for t in ts]
    labels = [name for name, ts in TEXTS.items() for _ in ts]
    return texts, labels


def _separation(vectors: np.ndarray, labels: list[str]) -> float:
    """Mean cosine within intents minus mean cosine across them."""
    same = np.equal.outer(labels, labels)
    sims = vectors @ vectors.T
    off_diagonal = ~np.eye(len(labels), dtype=bool)
    return float(sims[same & off_diagonal].mean() - sims[~same].mean())


def test_tuning_pulls_each_intent_together_and_reloads_identically(tmp_path):
    texts, labels = _data()
    base = SentenceEmbedder(None, threads=1)
    before = _separation(base.encode(texts), labels)
    tuned, vectors = tuned_embedder(base, texts, labels, tmp_path, layers=1, epochs=300)  # 56 steps of 64 on 12 texts
    after = _separation(tuned.encode(texts), labels)
    # The training texts' embeddings come from the saved lower states, the same as a full pass gives.
    np.testing.assert_allclose(vectors, tuned.encode(texts), atol=1e-5)
    assert after > before + 0.05, (before, after)  # measured: 0.148 -> 0.255
    assert tuned.model_id.startswith("all-MiniLM-L6-v2+tuned-") and (tmp_path / ENCODER_FILE).is_file()
    reloaded = SentenceEmbedder(None, threads=1, top_layers=tmp_path / ENCODER_FILE)
    np.testing.assert_allclose(reloaded.encode(texts), tuned.encode(texts), atol=1e-5)
    assert reloaded.model_id == tuned.model_id
    np.testing.assert_allclose(base.encode(texts[:2]), SentenceEmbedder(None, threads=1).encode(texts[:2]), atol=1e-6)  # base untouched


def test_bad_requests_are_refused(tmp_path):
    texts, labels = _data()
    model = SentenceEmbedder(None, threads=1)._load()
    with pytest.raises(InvalidInput, match="between 1 and 6"):
        fine_tune_top_layers(model, texts, labels, layers=7)
    with pytest.raises(InvalidInput, match="two intents"):
        fine_tune_top_layers(model, texts, ["refund"] * len(texts))
    foreign = save_top_layers({"9.attention.self.query.weight": model[0].auto_model.encoder.layer[5].attention.self.query.weight},
                              tmp_path / "foreign.safetensors")
    with pytest.raises(InvalidInput, match="does not fit"):
        load_top_layers(model, foreign)


def test_shop_model_with_a_tuned_encoder_and_a_stale_one_removed(tmp_path):
    out = tmp_path / "assist"
    report = train_shop_model(SentenceEmbedder(None, threads=1), None, out, fine_tune_layers=1)
    assert (out / ENCODER_FILE).is_file() and "+tuned-" in report["embedding_model"]
    report = train_shop_model(SentenceEmbedder(None, threads=1), None, out)
    assert not (out / ENCODER_FILE).exists() and report["embedding_model"] == "all-MiniLM-L6-v2"


def test_the_assistant_serves_intents_with_the_tuned_encoder_and_retrieval_with_the_base(tmp_path):
    from mercato.assist.runtime import model_dir, open_assistant
    from mercato.assist.testing import seed_store
    from mercato.serving.testing import settings_for

    settings = settings_for(tmp_path, assist_transcripts_path=tmp_path / "transcripts.db")
    seed_store(settings.store_url)
    train_shop_model(SentenceEmbedder(None, threads=1), None, model_dir(settings), fine_tune_layers=1)
    assistant = open_assistant(settings)
    try:
        assert "+tuned-" in assistant.intent_embedder.model_id and assistant.embedder.model_id == "all-MiniLM-L6-v2"
        answer = assistant.chat("s", "how long does shipping take?")
        assert answer.intent == "shipping" and any(s["id"].startswith("shipping.md#") for s in answer.sources)
        assert assistant.chat("t", "I want to talk to a real person").intent == "human_agent"
    finally:
        assistant.close()
