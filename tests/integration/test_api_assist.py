"""POST /v1/assist/chat with the real all-MiniLM-L6-v2 model: each conversation the assistant must handle.

The shop is ``mercato.assist.testing``'s, dated relative to now: ana owns orders 100045 (10 days
old) and 100012 (60 days old), ben owns 200077; the reviews file says dress 1078 (item D100) runs small.
"""

from datetime import UTC, datetime, timedelta

import pytest

from mercato.assist.embedder import CachedEmbedder, embedder_for
from mercato.assist.testing import seed_store, write_reviews
from mercato.assist.training import train_shop_model
from mercato.serving import create_app
from mercato.serving.testing import client_class, settings_for

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("assist-api")
    settings = settings_for(tmp, assist_transcripts_path=tmp / "transcripts.db", assist_cache_dir=tmp / "cache",
                            assist_reviews_path=write_reviews(tmp / "reviews.parquet"))
    seed_store(settings.store_url, now=NOW)
    train_shop_model(CachedEmbedder(embedder_for(None), settings.assist_cache_dir), None, settings.model_dir / "assist")
    with client_class()(create_app(settings)) as client:
        yield client, settings


@pytest.fixture(scope="module")
def client(setup):
    return setup[0]


def chat(client, message, session="s", user=None):
    body = {"session_id": session, "message": message}
    if user is not None:
        body["user_id"] = user
    response = client.post("/v1/assist/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_order_status_found(client):
    answer = chat(client, "where is my order 100045?", "status", "ana")
    assert answer["intent"] == "order_status" and not answer["handoff"]
    assert "100045" in answer["answer"] and (NOW - timedelta(days=10)).date().isoformat() in answer["answer"]
    assert answer["sources"][0]["id"] == "order:100045"


def test_order_status_not_found(client):
    answer = chat(client, "what is the status of order 555555", "missing", "ana")
    assert answer["intent"] == "order_status" and answer["tool"]["status"] == "not_found"
    assert "cannot find order 555555" in answer["answer"]


def test_someone_elses_order_is_refused(client):
    answer = chat(client, "where is my order 200077", "snoop", "ana")
    assert answer["tool"]["status"] == "not_found" and "J200" not in answer["answer"] and answer["sources"] == []
    owner = chat(client, "where is my order 200077", "owner", "ben")
    assert owner["tool"]["status"] == "found" and "J200" in owner["answer"]
    anonymous = chat(client, "where is my order 200077", "anon")
    assert anonymous["tool"]["status"] == "sign_in_required"


def test_return_inside_the_window(client):
    answer = chat(client, "can I still return order 100045?", "ret1", "ana")
    assert answer["intent"] == "return_request" and answer["tool"]["status"] == "eligible"
    assert (NOW - timedelta(days=10) + timedelta(days=30)).date().isoformat() in answer["answer"]
    assert "returns.md#return-window" in [s["id"] for s in answer["sources"]]


def test_return_outside_the_window(client):
    answer = chat(client, "I want to return order 100012", "ret2", "ana")
    assert answer["tool"]["status"] == "not_eligible" and "outside our 30-day return window" in answer["answer"]


def test_return_policy_question_without_an_order_is_answered_from_the_docs(client):
    answer = chat(client, "what is your return window?", "ret3")
    assert answer["intent"] == "return_request" and "30 days" in answer["answer"]
    assert answer["sources"] and all(s["id"].startswith("returns.md#") for s in answer["sources"])


def test_product_question_from_attributes(client):
    answer = chat(client, "what material is the D100 dress made of?", "prod1")
    assert answer["intent"] == "product_info" and "100% viscose" in answer["answer"]
    assert answer["sources"][0]["id"] == "item:D100"


def test_product_question_from_reviews(client):
    answer = chat(client, "does the D100 dress run small?", "prod2")
    assert answer["intent"] == "fit_and_size" and "most reviewers think it runs small" in answer["answer"]
    assert {"item:D100", "review:0"} <= {s["id"] for s in answer["sources"]}


def test_shipping_question_quotes_the_policy(client):
    answer = chat(client, "how long does shipping take?", "ship")
    assert answer["intent"] == "shipping" and "business days" in answer["answer"]
    assert all(s["id"].startswith("shipping.md#") for s in answer["sources"])


def test_out_of_scope_message(client):
    answer = chat(client, "what is the capital of australia?", "oos")
    assert answer["intent"] == "oos" and not answer["handoff"] and "only help" in answer["answer"]
    assert answer["sources"] == []


def test_handoff_on_request_with_summary(client, setup):
    from mercato.storage.transcripts import TranscriptStore

    chat(client, "where is my order 100045? my email is ana@example.com", "human", "ana")
    answer = chat(client, "this is not helping, I want to talk to a real person", "human", "ana")
    assert answer["handoff"] and answer["handoff_reason"] == "requested" and answer["intent"] == "human_agent"
    queue = TranscriptStore(setup[1].assist_transcripts_path)
    try:
        pending = [h for h in queue.handoffs() if h["session_id"] == "human"]
        assert pending and "100045" in pending[0]["summary"] and "ana@example.com" not in pending[0]["summary"]
        assert all("ana@example.com" not in turn["message"] for turn in queue.turns("human"))
    finally:
        queue.close()


def test_an_agent_works_the_handoff_queue(client):
    answer = chat(client, "I need to speak to a human agent please, call me at +1 415 555 0100", "queue", "ben")
    assert answer["handoff"]
    handoff_id = answer["handoff_id"]
    pending = client.get("/v1/assist/handoffs").json()
    assert handoff_id in [h["handoff_id"] for h in pending]
    opened = client.get(f"/v1/assist/handoffs/{handoff_id}").json()
    assert opened["session_id"] == "queue" and opened["status"] == "pending" and opened["user_id"] == "ben"
    assert len(opened["turns"]) == 1 and "555 0100" not in opened["turns"][0]["message"]  # redacted
    claimed = client.post(f"/v1/assist/handoffs/{handoff_id}", json={"status": "claimed"})
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert handoff_id not in [h["handoff_id"] for h in client.get("/v1/assist/handoffs").json()]
    assert handoff_id in [h["handoff_id"] for h in client.get("/v1/assist/handoffs?status=claimed").json()]
    assert client.post(f"/v1/assist/handoffs/{handoff_id}", json={"status": "closed"}).json()["status"] == "closed"
    reopened = client.post(f"/v1/assist/handoffs/{handoff_id}", json={"status": "pending"})
    assert reopened.status_code == 409 and "closed" in reopened.json()["error"]["message"]


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("get", "/v1/assist/handoffs?status=lost", None, 422, "status"),
    ("get", "/v1/assist/handoffs?limit=0", None, 422, "limit"),
    ("get", "/v1/assist/handoffs/0", None, 422, "handoff_id"),
    ("get", "/v1/assist/handoffs/99999", None, 404, None),
    ("post", "/v1/assist/handoffs/99999", {"status": "closed"}, 404, None),
    ("post", "/v1/assist/handoffs/1", {"status": "done"}, 422, "status"),
    ("post", "/v1/assist/handoffs/1", {"status": "closed", "extra": 1}, 422, "extra"),
])
def test_handoff_queue_bad_requests(client, method, path, body, status, field):
    response = client.request(method, path, json=body)
    assert response.status_code == status, response.text
    if field:
        assert field in response.json()["error"]["field"]


@pytest.mark.parametrize(("body", "field"), [
    ({"message": "hi"}, "session_id"),
    ({"session_id": "s"}, "message"),
    ({"session_id": "s", "message": ""}, "message"),
    ({"session_id": "s", "message": "x" * 2001}, "message"),
    ({"session_id": "s", "message": "hi", "user_id": ""}, "user_id"),
    ({"session_id": 5, "message": "hi"}, "session_id"),
])
def test_bad_input_is_422_naming_the_field(client, body, field):
    response = client.post("/v1/assist/chat", json=body)
    assert response.status_code == 422 and response.json()["error"]["field"] == field


def test_untrained_assistant_is_404_naming_the_command(tmp_path):
    with client_class()(create_app(settings_for(tmp_path))) as fresh:
        response = fresh.post("/v1/assist/chat", json={"session_id": "s", "message": "hello"})
    assert response.status_code == 404 and "mercato assist train" in response.text
