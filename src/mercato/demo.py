"""``mercato demo``: the whole offline loop on the bundled Online Retail data.

1. import the bundled file into a fresh SQLite store;
2. evaluate every baseline with the temporal protocol (full ranking) and print the table;
3. train every baseline on all purchases, save it, and show recommendations for real customers;
4. start the HTTP server on the 60 days before the last two weeks and stream those weeks into it
   as live events (``mercato.replay_live``), then stop it.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mercato import importers
from mercato.evaluation import protocols
from mercato.evaluation.datasets import customer_purchases
from mercato.evaluation.runner import evaluate
from mercato.evaluation.table import format_table
from mercato.ingest import import_file
from mercato.recommend.base import Recommender
from mercato.recommend.defaults import model_for
from mercato.recommend.interactions import Interactions
from mercato.recommend.registry import model_names
from mercato.replay_live import run_live_demo
from mercato.storage import open_store

SHOWN_CUSTOMERS = 3
SHOWN_ITEMS = 5


def run_demo(workdir: Path, progress: Callable[[str], None]) -> None:
    started = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    store_url = f"sqlite:///{workdir / 'mercato.db'}"

    print("== 1. Import: bundled UCI Online Retail (CC0) into a fresh SQLite store", flush=True)
    summary = import_file("online-retail", importers.bundled_online_retail_path(), store_url, progress=progress)
    print(
        f"{summary['events_inserted']:,} events ({summary['items']:,} items, {summary['users']:,} customers) "
        f"stored in {summary['total_s']:.1f} s; skipped source rows: {summary['skipped_source_rows']}"
    )

    with open_store(store_url) as store:
        purchases = customer_purchases(store.read_events(types=["purchase"]))
        titles = {item.item_id: item.title for item in store.read_items()}

    print("\n== 2. Evaluation: temporal split at the 90% time quantile, full ranking over all items", flush=True)
    split = protocols.temporal(purchases)
    split.info["dataset"] = "online-retail"
    print(f"train before {split.info['cut_at']}; {split.n_cases:,} customers to predict")
    reports = [evaluate(split, model_for("online-retail", name), progress=progress) for name in model_names()]
    print(format_table(reports))

    print("\n== 3. Recommendations from models trained on every purchase", flush=True)
    interactions = Interactions.from_frame(purchases)
    models: dict[str, Recommender] = {}
    for name in ("ease", "itemknn"):
        model = model_for("online-retail", name).fit(interactions)
        model.save(workdir / "models" / name)
        models[name] = Recommender.load(workdir / "models" / name)  # answer from the saved artifact
    for user_id in _example_customers(interactions):
        history = purchases[purchases["user_id"] == user_id]
        print(f"\ncustomer {user_id}: {len(history):,} purchase lines; latest items:")
        for item_id in history["item_id"].iloc[::-1].drop_duplicates().head(SHOWN_ITEMS):
            print(f"    {item_id:<8} {titles.get(item_id, '?')}")
        for name, model in models.items():
            print(f"  recommended by {name}:")
            for item_id, score in model.recommend(user_id, k=SHOWN_ITEMS):
                print(f"    {item_id:<8} {titles.get(item_id, '?'):<40} score {score:.3f}")
    run_live_demo(workdir, history_days=60, progress=progress)
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s; store and models under {workdir}/")


def _example_customers(interactions: Interactions) -> list[str]:
    """Customers at the median, 75th and 90th percentile of activity: typical, not the wholesalers."""
    counts = np.diff(interactions.user_offsets)
    order = np.argsort(counts, kind="stable")
    picks = [order[int(q * (len(order) - 1))] for q in (0.5, 0.75, 0.9)][:SHOWN_CUSTOMERS]
    return [str(interactions.user_ids[i]) for i in picks]
