"""Prequential replay: stream a timestamped dataset in time order, predicting each interaction before learning it.

Both contenders answer through the server's own path (``RecommendationService``: recent
history, online statistics, rules), and both see each user's own events as they happen,
as the live server does. They differ only in learning:

- **frozen**: the model fitted on the events before ``since``, and statistics frozen there;
- **online**: the same start, then every event is learned by ``OnlineItemStats`` as it
  arrives, and the model is refitted on everything seen every ``refit_every`` of stream time
  (what the learner thread does in the server).

Each interaction after ``since`` is first predicted (hit if its item is in the top ``k``),
then learned (Gama et al. 2013, "On evaluating stream learning algorithms"). Only every
n-th interaction is scored when ``max_predictions`` caps the work; all are learned. Results
are reported per time window, with a sign test on the events where exactly one of the two
hit, and drawn as a PNG.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mercato.errors import InvalidInput
from mercato.events import Item
from mercato.models.registry import ModelVersion
from mercato.models.slot import ModelSlot
from mercato.online.histories import HISTORY_TYPES, RecentHistories
from mercato.online.service import RecommendationService
from mercato.online.stats import OnlineItemStats
from mercato.online.training import fit_model
from mercato.recommend.rules import Catalog, ListRequest


@dataclass(frozen=True)
class ReplayConfig:
    since: pd.Timestamp
    model: str = "itemknn"
    k: int = 10
    refit_every: pd.Timedelta = pd.Timedelta(days=7)
    window: pd.Timedelta = pd.Timedelta(days=7)
    max_predictions: int | None = 5000


def default_since(events: pd.DataFrame, fraction: float = 0.75) -> pd.Timestamp:
    """The time ``fraction`` of the way from the first event to the last: the last quarter is streamed."""
    first, last = events["occurred_at"].min(), events["occurred_at"].max()
    return first + (last - first) * fraction


def replay(events: pd.DataFrame, config: ReplayConfig, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    events = events[events["item_id"].notna() & events["type"].isin(HISTORY_TYPES)]
    events = events.sort_values("occurred_at", kind="stable").reset_index(drop=True)
    before = events[events["occurred_at"] < config.since]
    stream = events[events["occurred_at"] >= config.since]
    if before.empty or stream.empty:
        raise InvalidInput(
            f"--since {config.since.isoformat()} must leave events on both sides "
            f"(data spans {events['occurred_at'].min()} .. {events['occurred_at'].max()})",
            field="since",
        )
    started = time.perf_counter()
    catalog = Catalog.build(Item(item_id=i) for i in events["item_id"].unique())
    histories = RecentHistories(_history_loader(before), length=50)
    frozen = _contender(before, config, histories, catalog)
    online = _contender(before, config, histories, catalog)
    progress(f"fitted {config.model} on {len(before):,} events before {config.since}; streaming {len(stream):,}")

    stride = max(1, math.ceil(len(stream) / config.max_predictions)) if config.max_predictions else 1
    request = ListRequest(k=config.k, exclude_purchased=False)
    rows: list[tuple[pd.Timestamp, bool, bool]] = []
    next_refit = config.since + config.refit_every
    seen = [before]
    pending: list[dict[str, Any]] = []
    refits = 0
    for position, event in enumerate(stream.to_dict("records")):
        if event["occurred_at"] >= next_refit:
            seen.append(pd.DataFrame(pending, columns=stream.columns))
            pending = []
            _refit(online, pd.concat(seen, ignore_index=True), config)
            refits += 1
            next_refit += config.refit_every
            progress(f"  {event['occurred_at']:%Y-%m-%d}: refitted the online model ({refits})")
        if position % stride == 0:
            hit_frozen = _hit(frozen, event, request)
            hit_online = _hit(online, event, request)
            rows.append((event["occurred_at"], hit_frozen, hit_online))
        histories.observe([event])
        online.stats.learn_one(event)
        pending.append(event)
    report = _report(rows, config, len(before), len(stream), refits)
    report["replay_s"] = round(time.perf_counter() - started, 1)
    return report


def _contender(before: pd.DataFrame, config: ReplayConfig, histories: RecentHistories, catalog: Catalog) -> RecommendationService:
    stats = OnlineItemStats()
    stats.warm_start(before)
    service = RecommendationService(catalog=catalog, slot=ModelSlot(), stats=stats, histories=histories)
    _refit(service, before, config)
    return service


def _refit(service: RecommendationService, seen: pd.DataFrame, config: ReplayConfig) -> None:
    trained = fit_model(seen, config.model)
    version = service.slot.current.version.version + 1 if service.slot.current else 1
    record = ModelVersion(version, config.model, dict(trained.model.params), trained.metrics, trained.window, "", "", "replay")
    service.slot.swap(record, trained.model)
    service.stats.reset_pairs()


def _hit(service: RecommendationService, event: dict[str, Any], request: ListRequest) -> bool:
    return any(r.item_id == event["item_id"] for r in service.for_user(event["user_id"], request))


def _history_loader(before: pd.DataFrame):
    by_user = {user: rows for user, rows in before.groupby("user_id", sort=False)}
    empty = before.iloc[:0]

    def load(user_id: str, length: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        rows = by_user.get(user_id, empty)
        return rows.tail(length), rows[rows["type"] == "purchase"]

    return load


def _report(rows, config: ReplayConfig, n_before: int, n_stream: int, refits: int) -> dict[str, Any]:
    from scipy.stats import binomtest

    frame = pd.DataFrame(rows, columns=["at", "frozen", "online"])
    frame["window"] = ((frame["at"] - config.since) // config.window).astype(int)
    windows = []
    for index, part in frame.groupby("window"):
        windows.append({
            "start": (config.since + index * config.window).isoformat(),
            "predictions": len(part),
            "frozen_hit_rate": round(float(part["frozen"].mean()), 4),
            "online_hit_rate": round(float(part["online"].mean()), 4),
        })
    online_only = int((frame["online"] & ~frame["frozen"]).sum())
    frozen_only = int((frame["frozen"] & ~frame["online"]).sum())
    discordant = online_only + frozen_only
    p_value = binomtest(online_only, discordant, 0.5, alternative="greater").pvalue if discordant else 1.0
    return {
        "protocol": "prequential: predict each interaction, then learn it",
        "model": config.model,
        "k": config.k,
        "since": config.since.isoformat(),
        "train_events": n_before,
        "stream_events": n_stream,
        "predictions": len(frame),
        "online_refits": refits,
        "refit_every_days": config.refit_every / pd.Timedelta(days=1),
        f"frozen_hit_rate@{config.k}": round(float(frame["frozen"].mean()), 4),
        f"online_hit_rate@{config.k}": round(float(frame["online"].mean()), 4),
        "online_only_hits": online_only,
        "frozen_only_hits": frozen_only,
        "sign_test_p_value": float(p_value),
        "windows": windows,
    }


def write_report(report: dict[str, Any], out_dir: Path, title: str) -> tuple[Path, Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, png_path = out_dir / "replay.json", out_dir / "replay.png"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    starts = [pd.Timestamp(w["start"]) for w in report["windows"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    for key, label in (("frozen_hit_rate", "frozen"), ("online_hit_rate", "online")):
        ax.plot(starts, [w[key] for w in report["windows"]], marker="o", label=label)
    ax.set_title(f"{title}: prequential HR@{report['k']} per window ({report['model']})")
    ax.set_ylabel(f"hit rate @{report['k']}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return json_path, png_path


def window_hit_rates(report: dict[str, Any]) -> np.ndarray:
    """(n_windows, 2) frozen and online hit rates, for tests and plots."""
    return np.array([[w["frozen_hit_rate"], w["online_hit_rate"]] for w in report["windows"]])
