"""POST /v1/risk/score and the review queue over a model that `mercato risk train` fits from the store."""

import json

import pytest

from mercato.cli import main
from mercato.risk.labels import transactions_to_events
from mercato.risk.simulator import simulate
from mercato.serving import create_app
from mercato.serving.testing import client_class, settings_for
from mercato.storage import open_store

T0 = "2025-06-01T12:00:00+00:00"


def _at(minutes: float) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(T0) + timedelta(minutes=minutes)).isoformat()


def _payment(tid: str, user: str, minutes: float, **kw) -> dict:
    body = {"transaction_id": tid, "user_id": user, "amount_minor": 4000, "occurred_at": _at(minutes), "currency": "EUR",
            "card_id": f"card-{user}", "device_id": f"dev-{user}", "ip": f"ip-{user}", "email": f"{user}@x.example",
            "billing_address": f"addr-{user}", "shipping_address": f"addr-{user}", "billing_country": "DE",
            "shipping_country": "DE", "ip_country": "DE", "account_created_at": "2024-01-01T00:00:00+00:00"}
    body.update(kw)
    return body


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("risk")
    settings = settings_for(tmp_path)
    stream = simulate(n_users=400, days=120, seed=2, card_testing_bursts=20, takeovers=40, rings=6, friendly_frauds=20)
    with open_store(settings.store_url) as store:
        store.append(transactions_to_events(stream.transactions, stream.chargeback_at_s))
    report = tmp_path / "train.json"
    code = main(["--store", settings.store_url, "risk", "train", "--model-dir", str(settings.model_dir / "risk"),
                 "--json", str(report)])
    assert code == 0
    return settings, json.loads(report.read_text())


def test_score_before_training_says_how_to_train(tmp_path):
    with client_class()(create_app(settings_for(tmp_path))) as client:
        response = client.post("/v1/risk/score", json=_payment("t1", "alice", 0))
        assert response.status_code == 503 and "mercato risk train" in response.text


def test_scores_decisions_reasons_and_the_review_queue(trained):
    settings, summary = trained
    assert summary["train_fraud"] > 0 and summary["unlabelled_rows"] == 0  # the 2024 stream has long matured
    with client_class()(create_app(settings)) as client:
        first = client.post("/v1/risk/score", json=_payment("a1", "alice", 0))
        assert first.status_code == 200, first.text
        answer = first.json()
        assert answer["decision"] == "approve" and 0 <= answer["score"] <= 1 and answer["transaction_id"] == "a1"
        assert answer["reasons"] == []  # approvals carry feature reasons only on request
        explained = client.post("/v1/risk/score", params={"explain": "true"}, json=_payment("a2", "alice", 60)).json()
        assert explained["decision"] == "approve" and all(r["kind"] == "feature" for r in explained["reasons"])

        # A card-testing bot: one device, a new card every few seconds. The rule declines from the 6th on.
        burst = [client.post("/v1/risk/score", json=_payment(f"b{k}", "bot", 10 + k * 0.1, card_id=f"stolen-{k}",
                                                             amount_minor=150)).json() for k in range(8)]
        assert [b["decision"] for b in burst[5:]] == ["decline"] * 3
        assert any(r.get("rule") == "card_testing_burst" for r in burst[6]["reasons"])
        assert any(r["kind"] == "feature" and r["contribution"] > 0 for r in burst[6]["reasons"])

        # Account takeover signals: new device and address, five times the largest earlier amount.
        client.post("/v1/risk/score", json=_payment("c1", "carol", 20))
        taken = client.post("/v1/risk/score", json=_payment("c2", "carol", 30, device_id="new-dev", shipping_address="drop",
                                                             amount_minor=20_000)).json()
        assert taken["decision"] in ("review", "decline")
        assert any(r.get("rule") == "takeover_signals" for r in taken["reasons"])
        if taken["decision"] == "review":
            review_id = taken["review_id"]
        else:  # the model alone declined it: open a review from a milder case
            mild = client.post("/v1/risk/score", json=_payment("c3", "carol", 40, device_id="newer-dev",
                                                                shipping_address="drop2", amount_minor=9000)).json()
            review_id = mild["review_id"]

        listed = client.get("/v1/risk/reviews").json()
        assert review_id in [r["review_id"] for r in listed["reviews"]]
        resolved = client.post(f"/v1/risk/reviews/{review_id}", json={"label": "fraud", "reviewer": "sam"})
        assert resolved.status_code == 200 and resolved.json()["status"] == "fraud"
        assert client.post(f"/v1/risk/reviews/{review_id}", json={"label": "fraud"}).status_code == 200  # idempotent
        assert client.post(f"/v1/risk/reviews/{review_id}", json={"label": "legit"}).status_code == 409
        assert review_id in [r["review_id"] for r in client.get("/v1/risk/reviews", params={"status": "fraud"}).json()["reviews"]]
        assert client.post("/v1/risk/reviews/nope", json={"label": "fraud"}).status_code == 404

    # The verdict is durable and becomes a label for the next training run.
    from mercato.storage.risk_reviews import ReviewStore

    store = ReviewStore(settings.model_dir / "risk" / "reviews.db")
    reviewed = store.get(review_id)["transaction_id"]
    assert [(tid, fraud) for tid, fraud, _ in store.verdicts()] == [(reviewed, True)]
    store.close()


def test_a_retried_score_is_answered_once_and_a_reused_id_is_refused(trained):
    settings, _ = trained
    with client_class()(create_app(settings)) as client:
        # Eight retries of one payment: the first answer comes back, marked replayed, rather than
        # a fresh score that would count the attempt again in its own velocity.
        retries = [client.post("/v1/risk/score", json=_payment("r1", "dora", 0, amount_minor=150)) for _ in range(8)]
        assert [r.status_code for r in retries] == [200] * 8
        first, *again = [r.json() for r in retries]
        assert "replayed" not in first and all(a == {**first, "replayed": True} for a in again)
        # Distinct attempts still count: new cards one after another trip the card-testing rule.
        later = [client.post("/v1/risk/score", json=_payment(f"r{k}", "dora", 0.1 * k, card_id=f"other-{k}",
                                                              amount_minor=150)).json() for k in range(2, 10)]
        assert "decline" in [a["decision"] for a in later]
        reused = client.post("/v1/risk/score", json=_payment("r1", "dora", 0, amount_minor=99_000))
        assert reused.status_code == 409 and "r1" in reused.json()["error"]["message"]


@pytest.mark.parametrize(("body", "field"), [
    ({"transaction_id": "x", "user_id": "u"}, "amount_minor"),
    ({"transaction_id": "x", "user_id": "u", "amount_minor": -5}, "amount_minor"),
    ({"transaction_id": "x", "user_id": "u", "amount_minor": "lots"}, "amount_minor"),
    ({"transaction_id": "x", "user_id": "u", "amount_minor": 5, "occurred_at": "2025-06-01T12:00:00"}, "occurred_at"),
    ({"transaction_id": "x", "user_id": "u", "amount_minor": 5, "occurred_at": "yesterday"}, "occurred_at"),
    ({"transaction_id": "", "user_id": "u", "amount_minor": 5}, "transaction_id"),
    ({"transaction_id": "x", "user_id": "u", "amount_minor": 5, "colour": "red"}, "colour"),
    ({"transaction_id": "x", "user_id": "u", "amount_minor": 5, "numeric": {"V1": "high"}}, "numeric.V1"),
    ({"transaction_id": "x", "user_id": "u", "amount_minor": 5, "currency": "euro"}, "currency"),
])
def test_bad_score_requests_are_4xx_naming_the_field(trained, body, field):
    settings, _ = trained
    with client_class()(create_app(settings)) as client:
        response = client.post("/v1/risk/score", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["field"] == field


def test_bad_review_requests_are_4xx(trained):
    settings, _ = trained
    with client_class()(create_app(settings)) as client:
        assert client.get("/v1/risk/reviews", params={"status": "maybe"}).json()["error"]["field"] == "status"
        assert client.get("/v1/risk/reviews", params={"limit": 0}).status_code == 422
        assert client.post("/v1/risk/reviews/abc", json={"label": "perhaps"}).json()["error"]["field"] == "label"
        assert client.post("/v1/risk/reviews/abc", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
        assert client.post("/v1/risk/score", content=b"[]", headers={"content-type": "application/json"}).status_code == 422


def test_cli_backtest_and_bad_rules(trained, tmp_path, capsys):
    settings, _ = trained
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules: [{name: fast, when: ['cards_per_devce_1h >= 5'], action: decline}]\n")
    args = ["--store", settings.store_url, "risk", "backtest", "--model-dir", str(settings.model_dir / "risk")]
    assert main([*args, "--rules", str(rules)]) == 2
    err = capsys.readouterr().err
    assert "rules[0].when[0]" in err and "cards_per_device_1h" in err
    rules.write_text("thresholds: {review: 0.2, decline: 0.7}\nrules: [{name: fast, when: ['cards_per_device_1h >= 5'], action: decline}]\n")
    report = tmp_path / "backtest.json"
    assert main([*args, "--rules", str(rules), "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["rules"]["fast"]["fired"] > 0 and result["rules"]["fast"]["precision"] > 0.5
    assert sum(d["fired"] for d in result["decisions"].values()) == result["transactions"]
