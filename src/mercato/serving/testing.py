"""Helpers for testing the HTTP API: a TestClient factory and a small shop with known answers.

The shop whose right answers are known: two categories, item pairs, baskets.

- Category "garden": g0…g9; category "kitchen": k0…k9; k9 is out of stock; prices 100·(n+1).
- Gardeners c0…c3 view g0, g1, g4 (in that order); cooks c4…c7 view k0, k1, k4 and k9.
- Gardeners also buy g2 and g3 in one order each (bought together).
- Passers-by p0…p9 view only g5: the most popular item, tied to nothing (cold-start answer).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mercato.serving.background import running_server  # noqa: F401  (re-exported for tests)
from mercato.settings import Settings

START = datetime(2024, 3, 1, tzinfo=UTC)


def catalog() -> list[dict]:
    items = []
    for prefix, category in (("g", "garden"), ("k", "kitchen")):
        for n in range(10):
            items.append(
                {
                    "item_id": f"{prefix}{n}",
                    "title": f"{category} thing {n}",
                    "category": [category],
                    "price_minor": 100 * (n + 1),
                    "currency": "EUR",
                    "stock": 0 if f"{prefix}{n}" == "k9" else 10,
                }
            )
    return items


def events() -> list[dict]:
    out: list[dict] = []
    clock = [START]

    def add(kind: str, user: str, item: str, order: str | None = None) -> None:
        clock[0] += timedelta(minutes=1)
        event = {
            "event_id": f"seed-{len(out)}",
            "type": kind,
            "occurred_at": clock[0].isoformat(),
            "user_id": user,
            "item_id": item,
        }
        if order:
            event["order_id"] = order
        out.append(event)

    for c in range(8):
        user = f"c{c}"
        for item in ("g0", "g1", "g4") if c < 4 else ("k0", "k1", "k4", "k9"):
            add("view", user, item)
        if c < 4:
            add("purchase", user, "g2", order=f"o{c}")
            add("purchase", user, "g3", order=f"o{c}")
    for p in range(10):
        add("view", f"p{p}", "g5")
    return out


def event(event_id: str, user: str, item: str, kind: str = "view", minutes: int = 10_000) -> dict:
    return {
        "event_id": event_id,
        "type": kind,
        "occurred_at": (START + timedelta(minutes=minutes)).isoformat(),
        "user_id": user,
        "item_id": item,
    }


def client_class():
    # starlette's TestClient prefers the httpx2 package, which mercato does not depend on;
    # the warning is about that preference, not about our code.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    return TestClient


def settings_for(tmp_path: Path, **overrides) -> Settings:
    values = {
        "store_url": f"sqlite:///{tmp_path / 'mercato.db'}",
        "model_dir": tmp_path / "models",
        "refit_interval_s": 0,  # tests refit explicitly
    }
    values.update(overrides)
    return Settings.build(**values)


def seed(client) -> None:
    """Catalog, events and a first model version (v1) through the API itself."""
    assert client.put("/v1/items", json={"items": catalog()}).status_code == 200
    assert client.post("/v1/events", json={"events": events()}).status_code == 200
    assert client.post("/v1/models/refit").status_code == 200


@contextmanager
def seeded_client(tmp_path: Path, **overrides) -> Iterator:
    """A TestClient (lifespan run) over a fresh store holding the shop, with model v1 live."""
    from mercato.serving import create_app

    with client_class()(create_app(settings_for(tmp_path, **overrides))) as client:
        if not client.app.state.engine.learner.started.wait(60):
            raise RuntimeError("the learner did not start")
        seed(client)
        yield client
