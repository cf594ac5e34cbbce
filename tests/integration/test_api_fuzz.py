"""Property-based fuzzing of the HTTP API: nothing a client sends produces a 500.

Bodies are arbitrary JSON, and event- or item-shaped objects whose fields hold values of
every JSON type; paths and query strings are arbitrary text. Each answer must be a 2xx or a
4xx whose JSON body names the problem.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mercato.serving.testing import seeded_client

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

leaves = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30) | st.sampled_from(["view", "purchase", "2024-01-01T00:00:00Z", "g0", "", "\x00"])
)
json_values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
EVENT_FIELDS = ["event_id", "type", "occurred_at", "user_id", "session_id", "item_id", "quantity", "amount_minor",
                "currency", "order_id", "attrs"]
events = st.fixed_dictionaries({}, optional={name: json_values for name in EVENT_FIELDS})
ITEM_FIELDS = ["title", "category", "price_minor", "currency", "brand", "attributes", "stock", "created_at", "item_id"]
items = st.fixed_dictionaries({}, optional={name: json_values for name in ITEM_FIELDS})
ids = st.text(min_size=1, max_size=40)
query_values = st.text(max_size=12) | st.integers(-10, 2000).map(str) | st.sampled_from(["0.5", "true", "nan", "1e309"])


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with seeded_client(tmp_path_factory.mktemp("fuzz")) as client:
        yield client


def check(response) -> None:
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400 and response.status_code != 405:
        error = response.json()["error"]
        assert error["message"] and error["type"]


@FUZZ
@given(body=json_values | st.lists(events, max_size=5) | st.builds(lambda e: {"events": e}, st.lists(events, max_size=5)) | events)
def test_post_events(client, body):
    check(client.post("/v1/events", json=body))


@FUZZ
@given(item_id=ids, body=items | json_values)
def test_put_items(client, item_id, body):
    check(client.put(f"/v1/items/{quote(item_id, safe='')}", json=body))
    check(client.put("/v1/items", json={"items": [body]}))
    check(client.put(f"/v1/users/{quote(item_id, safe='')}", json=body))


@FUZZ
@given(user_id=ids, params=st.dictionaries(
    st.sampled_from(["k", "offset", "category", "min_price", "max_price", "exclude_purchased", "diversity", "exclude"]),
    query_values, max_size=5))
def test_recommendation_queries(client, user_id, params):
    path_id = quote(user_id, safe="")
    check(client.get(f"/v1/users/{path_id}/recommendations", params=params))
    check(client.get(f"/v1/items/{path_id}/similar", params=params))
    check(client.get(f"/v1/items/{path_id}/bought-together", params=params))


@FUZZ
@given(body=json_values | st.fixed_dictionaries({"item_ids": st.lists(ids, max_size=5)}, optional={
    "k": json_values, "offset": json_values, "diversity": json_values, "category": json_values,
    "min_price": json_values, "max_price": json_values, "exclude": json_values}))
def test_session_bodies(client, body):
    check(client.post("/v1/sessions/recommendations", json=body))


@FUZZ
@given(version=st.text(max_size=8) | st.integers(-5, 50).map(str))
def test_model_paths(client, version):
    check(client.get(f"/v1/models/{quote(version, safe='')}"))
    check(client.post(f"/v1/models/{quote(version, safe='')}/promote"))


@FUZZ
@given(handoff=st.text(max_size=8) | st.integers(-5, 50).map(str) | st.sampled_from([str(2**63 - 1), str(2**63), str(2**70)]),
       body=json_values, status=query_values)
def test_handoff_queue(client, handoff, body, status):
    check(client.get("/v1/assist/handoffs", params={"status": status, "limit": status}))
    check(client.get(f"/v1/assist/handoffs/{quote(handoff, safe='')}"))
    check(client.post(f"/v1/assist/handoffs/{quote(handoff, safe='')}", json=body))
