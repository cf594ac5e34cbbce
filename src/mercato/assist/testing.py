"""A small shop whose right answers are known, for the assistant's tests and latency benchmark.

- ``NOW`` is the clock the unit tests pass to the assistant; orders are dated relative to it.
- Customer ``ana`` has order ``100045`` placed 10 days before NOW (returnable: 30-day window) and
  order ``100012`` placed 60 days before NOW (not returnable); customer ``ben`` has order ``200077``.
- Items: ``D100`` a viscose wrap dress (``clothing_id`` 1078 in the reviews data), ``J200`` slim
  jeans, ``M300`` a ceramic mug that is out of stock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mercato.events.schema import Item

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)

ITEMS = [
    Item("D100", "Floral wrap dress", ("Women", "Dresses"), 5995, "EUR", "Fleur",
         {"material": "100% viscose", "care": "machine wash cold", "colour": "navy with white flowers", "clothing_id": 1078}, 12),
    Item("J200", "Slim stretch jeans", ("Women", "Jeans"), 7950, "EUR", "Denimo",
         {"material": "98% cotton, 2% elastane", "fit": "slim", "clothing_id": 1094}, 4),
    Item("M300", "Speckled ceramic mug", ("Home", "Kitchen"), 1200, "EUR", None,
         {"material": "stoneware", "capacity": "350 ml", "dishwasher_safe": "yes"}, 0),
]


def events(now: datetime = NOW) -> list[dict]:
    def purchase(n: int, user: str, order: str, item: str, days_ago: float, qty: int, amount: int) -> dict:
        return {"event_id": f"assist-seed-{n}", "type": "purchase", "occurred_at": (now - timedelta(days=days_ago)).isoformat(),
                "user_id": user, "item_id": item, "quantity": qty, "amount_minor": amount, "currency": "EUR", "order_id": order}

    return [
        purchase(1, "ana", "100045", "D100", 10, 1, 5995),
        purchase(2, "ana", "100045", "M300", 10, 2, 2400),
        purchase(3, "ana", "100012", "J200", 60, 1, 7950),
        purchase(4, "ben", "200077", "J200", 3, 1, 7950),
    ]


def seed_store(store_url: str, now: datetime = NOW) -> None:
    """Items and orders, dated relative to ``now`` (a server test passes the wall clock it will answer with)."""
    from mercato.storage import open_store

    with open_store(store_url) as store:
        store.put_items(ITEMS)
        result = store.ingest(events(now))
        assert not result.errors, result.errors


def write_reviews(path: Path) -> Path:
    """A tiny reviews file in the Women's Clothing E-Commerce Reviews layout: dress 1078 runs small."""
    import pandas as pd

    rows = [
        (1078, "Lovely print. It runs small, order a size up.", 4, 12, "Dresses"),
        (1078, "Beautiful dress but it runs small in the chest.", 4, 3, "Dresses"),
        (1078, "Runs small; I sized up and it is perfect.", 5, 7, "Dresses"),
        (1078, "Fits true to size for me.", 5, 1, "Dresses"),
        (1094, "True to size and comfortable.", 5, 2, "Jeans"),
        (1094, "These run large, size down.", 3, 4, "Jeans"),
        (1094, "Great jeans, true to size.", 5, 0, "Jeans"),
        (1078, None, 5, 0, "Dresses"),
    ]
    frame = pd.DataFrame(rows, columns=["Clothing ID", "Review Text", "Rating", "Positive Feedback Count", "Class Name"])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path)
    return path
