"""Every /v1 endpoint against a real app on a SQLite store, on a shop whose answers are known."""

from __future__ import annotations

import pytest

from mercato.serving import create_app
from mercato.serving.testing import START, client_class, event, seeded_client, settings_for

TestClient = client_class()


@pytest.fixture
def client(tmp_path):
    with seeded_client(tmp_path) as client:
        yield client


def items_of(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [i["item_id"] for i in response.json()["items"]]


# ---- events -------------------------------------------------------------------------------


def test_events_accept_one_a_list_or_a_batch_and_are_idempotent(client):
    single = client.post("/v1/events", json=event("new-1", "u1", "g0"))
    assert single.json() == {"inserted": 1, "duplicates": 0, "rejected": 0, "errors": []}
    as_list = client.post("/v1/events", json=[event("new-2", "u1", "g1"), event("new-1", "u1", "g0")])
    assert as_list.json()["inserted"] == 1 and as_list.json()["duplicates"] == 1
    again = client.post("/v1/events", json={"events": [event("new-2", "u1", "g1")]})
    assert again.json() == {"inserted": 0, "duplicates": 1, "rejected": 0, "errors": []}
    assert client.app.state.engine.store.count_events() == len(client.app.state.engine.store.read_events())


def test_bad_events_are_reported_by_index_field_and_reason_and_good_ones_kept(client):
    bad = {**event("bad-1", "u1", "g0"), "occurred_at": "2024-03-01T10:00:00"}  # no timezone
    response = client.post("/v1/events", json=[event("good-1", "u1", "g0"), bad, {**event("bad-2", "u", "g0"), "type": "zap"}])
    body = response.json()
    assert response.status_code == 200 and body["inserted"] == 1 and body["rejected"] == 2
    assert {(e["index"], e["field"]) for e in body["errors"]} == {(1, "occurred_at"), (2, "type")}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([{"event_id": "x", "type": "view"}], "events[0].user_id"),
        ({"events": "nope"}, "events"),
        (42, "body"),
        ([event(f"big-{i}", "u", "g0") for i in range(10_001)], "events"),
    ],
)
def test_unusable_event_bodies_are_422_naming_the_field(client, payload, field):
    response = client.post("/v1/events", json=payload)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


def test_invalid_json_is_422(client):
    response = client.post("/v1/events", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "body"


# ---- catalog and users --------------------------------------------------------------------


def test_items_and_users_are_stored_one_by_one_and_in_bulk(client):
    engine = client.app.state.engine
    assert client.put("/v1/items/z1", json={"title": "Zed", "category": ["tools"], "stock": 3}).json() == {"stored": 1}
    assert engine.store.get_item("z1").category == ("tools",)
    assert client.put("/v1/users/u9", json={"attributes": {"tier": "gold"}}).json() == {"stored": 1}
    bulk = client.put("/v1/users", json={"users": [{"user_id": "a"}, {"user_id": "b"}]})
    assert bulk.json() == {"stored": 2} and engine.store.get_user("b").user_id == "b"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"price_minor": -1}, "price_minor"), ({"currency": "euro"}, "currency"), ({"colour": "red"}, "colour"),
     ({"created_at": "2024-01-01T00:00:00"}, "created_at")],
)
def test_bad_item_fields_are_422_naming_the_field(client, body, field):
    response = client.put("/v1/items/z1", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


# ---- recommendations ----------------------------------------------------------------------


def test_user_recommendations_reflect_an_event_acknowledged_a_moment_ago(client):
    cold = items_of(client.get("/v1/users/fresh/recommendations?k=3"))
    assert cold[0] == "g5"  # nothing known: the most popular item
    assert client.post("/v1/events", json=event("f-1", "fresh", "k0")).status_code == 200
    warm = client.get("/v1/users/fresh/recommendations?k=3").json()["items"]
    assert {i["item_id"] for i in warm[:2]} == {"k1", "k4"}  # what cooks view after k0
    assert warm[0]["reason"] == "because you viewed kitchen thing 0"


def test_rules_never_out_of_stock_unknown_or_purchased(client):
    client.post("/v1/events", json=[event("s-1", "c0", "ghost"), event("s-2", "c4", "k0", minutes=20_000)])
    for user in ("c0", "c4", "nobody"):
        got = items_of(client.get(f"/v1/users/{user}/recommendations?k=20"))
        assert "k9" not in got and "ghost" not in got and len(got) == len(set(got))
    assert not {"g2", "g3"} & set(items_of(client.get("/v1/users/c0/recommendations?k=20")))
    assert {"g2", "g3"} <= set(items_of(client.get("/v1/users/c0/recommendations?k=20&exclude_purchased=false")))


def test_category_and_price_filters(client):
    got = items_of(client.get("/v1/users/c0/recommendations?k=20&category=kitchen"))
    assert got and all(i.startswith("k") for i in got)
    got = items_of(client.get("/v1/users/c0/recommendations?k=20&min_price=300&max_price=500"))
    assert got and all(300 <= 100 * (int(i[1:]) + 1) <= 500 for i in got)


def test_pages_do_not_repeat_and_diversity_mixes_categories(client):
    pages = [items_of(client.get(f"/v1/users/c0/recommendations?k=3&offset={o}")) for o in (0, 3, 6)]
    flat = [i for page in pages for i in page]
    assert len(flat) == len(set(flat)) == 9
    assert flat == items_of(client.get("/v1/users/c0/recommendations?k=9"))
    plain = items_of(client.get("/v1/users/c4/recommendations?k=2&exclude_purchased=false"))
    mixed = items_of(client.get("/v1/users/c4/recommendations?k=2&diversity=1"))
    assert {i[0] for i in plain} == {"k"} and {i[0] for i in mixed} == {"g", "k"}


def test_session_recommendations_for_anonymous_items(client):
    response = client.post("/v1/sessions/recommendations", json={"item_ids": ["g0"], "k": 4})
    assert set(items_of(response)) == {"g1", "g2", "g3", "g4"}  # what gardeners view and buy
    assert response.json()["items"][0]["reason"] == "because you viewed garden thing 0"
    assert client.post("/v1/sessions/recommendations", json={"item_ids": ["g0"], "k": 0}).status_code == 422


def test_similar_and_bought_together(client):
    assert set(items_of(client.get("/v1/items/k0/similar?k=2"))) == {"k1", "k4"}
    together = client.get("/v1/items/g2/bought-together").json()["items"]
    assert [(i["item_id"], i["score"], i["reason"]) for i in together] == [("g3", 4.0, "often bought with garden thing 2")]
    assert client.get("/v1/items/nope/similar").status_code == 404
    assert client.get("/v1/items/nope/bought-together").json()["error"]["type"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field"), [("k=0", "k"), ("k=101", "k"), ("diversity=2", "diversity"), ("offset=-1", "offset"),
                         ("min_price=5&max_price=1", "min_price"), ("exclude_purchased=maybe", "exclude_purchased")]
)
def test_bad_query_parameters_are_422_naming_the_field(client, query, field):
    response = client.get(f"/v1/users/c0/recommendations?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


# ---- operations ---------------------------------------------------------------------------


def test_health_readiness_metrics_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"
    client.get("/v1/users/c0/recommendations")
    text = client.get("/metrics").text
    assert 'mercato_http_requests_total{method="GET",route="/v1/users/{user_id}/recommendations",status="200"} 1' in text
    assert "mercato_model_version 1" in text
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/events", "/v1/items/{item_id}", "/v1/users/{user_id}/recommendations", "/v1/sessions/recommendations",
                 "/v1/items/{item_id}/similar", "/v1/items/{item_id}/bought-together", "/v1/models",
                 "/v1/models/{version}/promote", "/v1/models/rollback", "/readyz", "/metrics"):
        assert path in paths


def test_readyz_is_503_with_a_reason_until_a_model_is_live(tmp_path):
    with TestClient(create_app(settings_for(tmp_path))) as client:
        assert client.app.state.engine.learner.started.wait(30)
        response = client.get("/readyz")
        assert response.status_code == 503 and "no live model" in response.json()["reason"]
        assert client.get("/v1/users/x/recommendations").status_code == 200  # cold start still answers
    assert START.year == 2024
