"""Online learning through the API: a new item is recommendable within 60 s; refits run on schedule."""

from __future__ import annotations

import time

from mercato.serving.testing import event, seeded_client


def test_a_new_item_becomes_recommendable_within_60_s(tmp_path):
    with seeded_client(tmp_path) as client:
        engine = client.app.state.engine
        started = time.monotonic()
        assert client.put("/v1/items/n1", json={"title": "brand new", "category": ["garden"]}).status_code == 200
        first_events = [event(f"n-{u}-{step}", f"early{u}", item, minutes=20_000 + 10 * u + step)
                        for u in range(3) for step, item in enumerate(("g0", "n1"))]
        assert client.post("/v1/events", json=first_events).json()["inserted"] == 6
        deadline = started + 60
        while time.monotonic() < deadline:
            similar = [i["item_id"] for i in client.get("/v1/items/g0/similar?k=10").json()["items"]]
            session = client.post("/v1/sessions/recommendations", json={"item_ids": ["g0"], "k": 10}).json()["items"]
            if "n1" in similar and "n1" in [i["item_id"] for i in session]:
                break
            time.sleep(0.01)
        elapsed_s = time.monotonic() - started
        assert "n1" in similar and elapsed_s < 60
        assert engine.slot.current.version.version == 1  # no refit was needed: the online delta did it


def test_scheduled_refit_publishes_a_new_version(tmp_path):
    with seeded_client(tmp_path, refit_interval_s=0.2, refit_min_events=2) as client:
        before = client.get("/v1/models").json()["serving"]
        client.post("/v1/events", json=[event("r1", "z", "g0"), event("r2", "z", "g1", minutes=10_001)])
        deadline = time.monotonic() + 30
        while client.get("/v1/models").json()["serving"] == before and time.monotonic() < deadline:
            time.sleep(0.05)
        latest = client.get("/v1/models").json()["versions"][-1]
        assert latest["version"] > before and latest["live"] and latest["source"] == "train"
        assert latest["window"]["last_event_at"].startswith("2024-03-07")  # it saw the new events


def test_the_sequential_model_is_fine_tuned_on_live_events_and_swapped_without_failed_requests(tmp_path):
    tiny = {"dim": 16, "layers": 1, "heads": 1, "max_epochs": 3, "valid_mode": "none", "threads": 1}
    with seeded_client(tmp_path, serve_model="sasrec", serve_model_params=tiny, fine_tune_events=4) as client:
        assert client.get("/v1/models").json()["serving"] == 1
        live = [event(f"ft-{n}", f"c{n % 4}", f"g{n % 3}", minutes=20_000 + n) for n in range(8)]
        assert client.post("/v1/events", json=live).json()["inserted"] == 8
        deadline = time.monotonic() + 60
        statuses = []
        while time.monotonic() < deadline:
            statuses.append(client.get("/v1/users/c0/recommendations?k=5").status_code)
            versions = client.get("/v1/models").json()["versions"]
            if any(v["source"] == "fine-tune" and v["live"] for v in versions):
                break
            time.sleep(0.02)
        tuned = [v for v in versions if v["source"] == "fine-tune"]
        assert tuned and tuned[-1]["live"] and tuned[0]["metrics"]["fine_tune_interactions"] >= 4
        assert set(statuses) == {200}
