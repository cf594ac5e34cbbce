"""The registry over HTTP: list, promote, rollback, a refused artifact, and hot swaps under load."""

from __future__ import annotations

import threading

import httpx
import pytest

from mercato.serving import create_app
from mercato.serving.testing import event, running_server, seed, seeded_client, settings_for

@pytest.fixture
def client(tmp_path):
    with seeded_client(tmp_path) as client:
        yield client


def test_list_promote_and_rollback(client):
    assert client.post("/v1/events", json=event("more-1", "c0", "k0")).status_code == 200
    assert client.post("/v1/models/refit").json()["version"] == 2
    listing = client.get("/v1/models").json()
    assert listing["live"] == listing["serving"] == 2
    v1, v2 = listing["versions"]
    assert (v1["live"], v2["live"]) == (False, True)
    assert v2["metrics"]["interactions"] == v1["metrics"]["interactions"] + 1
    assert set(v2) >= {"params", "metrics", "window", "digest", "created_at"}
    assert client.post("/v1/models/1/promote").json()["live"] is True
    assert client.get("/v1/users/c0/recommendations").json()["model_version"] == 1
    assert client.post("/v1/models/rollback").json()["version"] == 2
    assert client.get("/v1/users/c0/recommendations").json()["model_version"] == 2
    assert client.get("/v1/models/9").status_code == 404
    assert client.get("/v1/models/zero").json()["error"]["field"] == "version"


def test_a_version_whose_digest_does_not_match_is_refused(client, tmp_path):
    client.post("/v1/models/refit")
    client.post("/v1/models/1/promote")
    arrays = tmp_path / "models" / "registry" / "versions" / "2" / "artifact" / "arrays.npz"
    data = bytearray(arrays.read_bytes())
    data[len(data) // 2] ^= 0xFF
    arrays.write_bytes(bytes(data))
    response = client.post("/v1/models/2/promote")
    assert response.status_code == 409 and "digest" in response.json()["error"]["message"]
    assert client.get("/v1/models").json()["serving"] == 1
    rollback = client.post("/v1/models/rollback")  # back to v2, which is corrupt: refused too
    assert rollback.status_code == 409 and "digest" in rollback.json()["error"]["message"]
    assert client.get("/v1/models").json()["live"] == 1


def test_hot_swaps_under_load_fail_no_request(tmp_path):
    app = create_app(settings_for(tmp_path))
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30) as admin:
        seed(admin)
        stop = threading.Event()
        seen: list[tuple[int, int | None]] = []

        def hammer(path: str, body: dict | None) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                while not stop.is_set():
                    response = http.post(path, json=body) if body else http.get(path)
                    seen.append((response.status_code, response.json().get("model_version")))

        threads = [
            threading.Thread(target=hammer, args=("/v1/users/c0/recommendations", None)),
            threading.Thread(target=hammer, args=("/v1/sessions/recommendations", {"item_ids": ["g0"]})),
            threading.Thread(target=hammer, args=("/v1/items/g0/similar", None)),
        ]
        for thread in threads:
            thread.start()
        try:
            for n in range(3):
                admin.post("/v1/events", json=event(f"load-{n}", f"x{n}", "g1"))
                assert admin.post("/v1/models/refit").status_code == 200
                assert admin.post("/v1/models/1/promote").status_code == 200
                assert admin.post("/v1/models/rollback").status_code == 200
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
    statuses = {status for status, _ in seen}
    versions = {version for _, version in seen}
    assert statuses == {200}, f"{len(seen)} requests, statuses {statuses}"
    assert len(seen) > 30 and len(versions) >= 2  # requests really ran across swaps
