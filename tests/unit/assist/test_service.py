"""The assistant's turn logic on the hashing embedder (no model weights): tools, composer, handoff, redaction."""

import pytest

from mercato.assist.documents import load_docs
from mercato.assist.embedder import HashingEmbedder
from mercato.assist.intents import IntentClassifier
from mercato.assist.reviews import ReviewSnippets
from mercato.assist.service import Assistant
from mercato.assist.testing import NOW, seed_store, write_reviews
from mercato.assist.tools import OrderTools, ProductTools
from mercato.assist.training import train_shop_model
from mercato.errors import InvalidInput
from mercato.storage import open_store
from mercato.storage.transcripts import TranscriptStore


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("assist-model")
    train_shop_model(HashingEmbedder(), None, out)
    return out


@pytest.fixture()
def assistant(model_dir, tmp_path):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    seed_store(url)
    store = open_store(url)
    bot = Assistant(
        classifier=IntentClassifier.load(model_dir),
        embedder=HashingEmbedder(),
        docs=load_docs(None),
        orders=OrderTools(store, return_window_days=30),
        products=ProductTools(store.read_items()),
        reviews=ReviewSnippets.load(write_reviews(tmp_path / "reviews.parquet")),
        transcripts=TranscriptStore(tmp_path / "transcripts.db"),
        handoff_confidence=0.0,  # the hashing model is less sure of itself than MiniLM; handoff is tested apart
        clock=lambda: NOW,
    )
    yield bot
    bot.close()


def test_order_status_for_its_owner(assistant):
    answer = assistant.chat("s1", "where is my order 100045", user_id="ana")
    assert answer.intent == "order_status"
    assert "100045" in answer.answer and "2024-06-20" in answer.answer and "1 × D100" in answer.answer
    assert answer.tool == {"name": "order_status", "status": "found"}
    assert answer.sources[0]["id"] == "order:100045"


def test_other_customers_order_is_refused_like_an_unknown_one(assistant):
    theirs = assistant.chat("s2", "where is my order 200077", user_id="ana")
    unknown = assistant.chat("s2", "where is my order 999999", user_id="ana")
    assert theirs.tool["status"] == unknown.tool["status"] == "not_found"
    assert "J200" not in theirs.answer and "ben" not in theirs.answer and theirs.sources == []
    signed_out = assistant.chat("s3", "where is my order 100045")
    assert signed_out.tool["status"] == "sign_in_required" and "D100" not in signed_out.answer


def test_return_inside_and_outside_the_window(assistant):
    inside = assistant.chat("s4", "can I return order 100045", user_id="ana")
    assert inside.tool["status"] == "eligible" and "2024-07-20" in inside.answer
    outside = assistant.chat("s4", "can I return order 100012", user_id="ana")
    assert outside.tool["status"] == "not_eligible" and "60 days ago" in outside.answer
    assert {"order:100012", "returns.md#return-window"} <= {s["id"] for s in outside.sources}


def test_product_facts_and_fit_from_reviews(assistant):
    facts = assistant.chat("s5", "what material is the D100 dress", user_id="ana")
    assert facts.intent == "product_info" and "100% viscose" in facts.answer and facts.sources[0]["id"] == "item:D100"
    fit = assistant.chat("s5", "does the D100 dress run small")
    assert fit.intent == "fit_and_size" and "3 say it runs small" in fit.answer and "runs small" in fit.answer
    assert fit.sources[0]["id"] == "item:D100" and any(s["kind"] == "review" for s in fit.sources)


def test_policy_question_is_answered_from_the_docs_with_citations(assistant):
    answer = assistant.chat("s6", "how long does standard delivery take")
    assert answer.intent == "shipping" and "3 to 5 business days" in answer.answer
    assert all(s["id"].startswith("shipping.md#") for s in answer.sources) and answer.sources


def test_out_of_scope_then_handoff_on_the_second(assistant):
    first = assistant.chat("s7", "tell me a joke")
    assert first.intent == "oos" and not first.handoff and "only help" in first.answer
    second = assistant.chat("s7", "what is the capital of australia")
    assert second.handoff and second.handoff_reason == "repeated_out_of_scope"
    queued = assistant.transcripts.handoffs()
    assert [h["session_id"] for h in queued] == ["s7"] and "tell me a joke" in queued[0]["summary"]


def test_explicit_request_hands_off_with_a_redacted_summary(assistant):
    assistant.chat("s8", "where is my order 100045, email me at ana@example.com", user_id="ana")
    answer = assistant.chat("s8", "I want to talk to a human, call +44 20 7946 0958", user_id="ana")
    assert answer.handoff and answer.handoff_reason == "requested" and answer.handoff_id is not None
    summary = assistant.transcripts.handoffs()[0]["summary"]
    assert "100045" in summary and "ana@example.com" not in summary and "7946" not in summary and "[phone]" in summary
    stored = assistant.transcripts.turns("s8")
    assert [t["intent"] for t in stored] == ["order_status", "human_agent"]
    assert "[email]" in stored[0]["message"] and "ana@example.com" not in str(stored)


def test_low_confidence_hands_off(assistant):
    assistant.handoff_confidence = 1.01  # nothing is ever sure enough
    answer = assistant.chat("s9", "how long does shipping take")
    assert answer.handoff and answer.handoff_reason == "low_confidence"


@pytest.mark.parametrize(("session", "message", "user", "field"), [
    ("", "hi", None, "session_id"), ("s", "   ", None, "message"), ("s", "x" * 2001, None, "message"),
    ("s", "hi", "", "user_id"), (None, "hi", None, "session_id"),
])
def test_bad_input_names_the_field(assistant, session, message, user, field):
    with pytest.raises(InvalidInput) as caught:
        assistant.chat(session, message, user)
    assert caught.value.field == field


class RecordingLLM:
    def __init__(self, reply):
        self.reply, self.calls = reply, []

    def write(self, message, draft, context):
        self.calls.append((message, draft, context))
        return self.reply


def test_llm_rewords_grounded_answers_only_and_keeps_their_sources(assistant):
    template = assistant.chat("l0", "how long does standard delivery take")
    assistant.llm = RecordingLLM("Standard delivery: 3 to 5 business days.")
    reworded = assistant.chat("l1", "how long does standard delivery take")
    assert reworded.answer == "Standard delivery: 3 to 5 business days." and reworded.sources == template.sources
    draft_context = assistant.llm.calls[0][2]
    assert any(line.startswith("[shipping.md#") for line in draft_context)
    assistant.chat("l2", "tell me a joke")  # out of scope: nothing to ground an LLM answer on
    assert len(assistant.llm.calls) == 1
    assistant.llm = RecordingLLM(None)  # endpoint down: the template answer stands
    assert assistant.chat("l3", "how long does standard delivery take").answer == template.answer
