"""The live part of ``mercato demo``: a real server fed the last weeks of Online Retail as a stream.

The store is filled with everything before the cut; ``mercato serve``'s app starts on it (the
learner trains the first model, printed as it goes), and the events after the cut are POSTed
in time order, in batches, as a shop's site would send them. Then it shows what the server
learned and answers for a customer of the stream, and stops the server: the demo ends by
itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pandas as pd

from mercato import importers
from mercato.serving import create_app
from mercato.serving.background import running_server
from mercato.settings import Settings
from mercato.storage import open_store

STREAM_BATCH = 500  # events per POST: what a site's event collector might flush at once
SHOWN_ITEMS = 5


def run_live_demo(
    workdir: Path,
    *,
    stream_days: float = 14.0,
    history_days: float | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> dict:
    """``history_days`` keeps only that much history before the cut in the store (None: all)."""
    batch = importers.read("online-retail", importers.bundled_online_retail_path())
    events = batch.events.sort_values("occurred_at", kind="stable")
    cut = events["occurred_at"].max() - pd.Timedelta(days=stream_days)
    before, stream = events[events["occurred_at"] < cut], events[events["occurred_at"] >= cut]
    if history_days is not None:
        before = before[before["occurred_at"] >= cut - pd.Timedelta(days=history_days)]
    store_url = f"sqlite:///{workdir / 'live.db'}"
    with open_store(store_url) as store:
        store.put_items(batch.items)
        store.put_users(batch.users)
        store.append(before)
    settings = Settings.build(store_url=store_url, model_dir=workdir / "live-models", refit_interval_s=0)
    app = create_app(settings)
    print(f"\n== 4. Live: the last {stream_days:g} days of Online Retail streamed into a running server", flush=True)
    progress("starting the server and training its first model …")
    with running_server(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        print(f"mercato serving at {url} (API docs at {url}/docs) on {len(before):,} stored events", flush=True)
        engine = app.state.engine
        engine.learner.started.wait(600)
        records = _records(stream)
        started = time.perf_counter()
        inserted = 0
        for begin in range(0, len(records), STREAM_BATCH):
            response = http.post("/v1/events", json={"events": records[begin : begin + STREAM_BATCH]})
            response.raise_for_status()
            inserted += response.json()["inserted"]
        stream_s = time.perf_counter() - started
        engine.learner.wait_learned(engine.learner.learned + engine.learner.backlog, timeout_s=60)
        refit = http.post("/v1/models/refit").json()
        print(
            f"streamed {inserted:,} events ({cut:%Y-%m-%d} .. {stream['occurred_at'].max():%Y-%m-%d}) in {stream_s:.1f} s "
            f"({inserted / stream_s:,.0f} events/s, each batch acknowledged after a durable commit); "
            f"learned online: {engine.learner.learned:,}; refitted as model version {refit['version']}",
            flush=True,
        )
        customer = _latest_customer(stream)
        answer = http.get(f"/v1/users/{customer}/recommendations", params={"k": SHOWN_ITEMS}).json()
        print(f"customer {customer} (bought during the stream) — recommendations from the live server:")
        for item in answer["items"]:
            print(f"    {item['item_id']:<8} {item['title'][:40]:<40} {item['reason']}")
    print("server stopped", flush=True)
    return {"url": url, "streamed": inserted, "stream_s": stream_s, "model_version": refit["version"]}


def _records(stream: pd.DataFrame) -> list[dict]:
    """Event frame rows as the JSON a client sends (ISO times, no nulls)."""
    records = []
    for row in stream.to_dict("records"):
        record = {k: v for k, v in row.items() if v is not None and not (isinstance(v, float) and pd.isna(v))}
        record["occurred_at"] = row["occurred_at"].isoformat()
        for key in ("quantity", "amount_minor"):
            if key in record:
                record[key] = int(record[key])
        records.append(record)
    return records


def _latest_customer(stream: pd.DataFrame) -> str:
    purchases = stream[stream["type"] == "purchase"]
    counts = purchases.groupby("user_id").size()
    return str(counts[counts >= 3].index[-1] if (counts >= 3).any() else purchases["user_id"].iloc[-1])
