"""The benchmark datasets the harness knows, each with its protocol and where its files live.

Files are read at run time from a datasets folder (``--data-dir``) laid out as
``<data-dir>/<dataset>/<file>``; only Online Retail ships with mercato (CC0), so it also
works without one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mercato import importers
from mercato.errors import InvalidInput, NotFound
from mercato.evaluation import protocols
from mercato.importers.sessions import read_session_file, read_session_test
from mercato.recommend.interactions import Interactions


@dataclass(frozen=True)
class Dataset:
    name: str
    protocol: str
    files: tuple[str, ...]  # relative to <data-dir>/<name>/; the first must exist
    build: Callable[[Path, dict], protocols.Split]
    description: str


def _online_retail(folder: Path, options: dict) -> protocols.Split:
    path = folder / "online_retail.csv.gz"
    if not path.exists():
        path = importers.bundled_online_retail_path()
    events = importers.read("online-retail", path).events
    purchases = customer_purchases(events)
    cut_at = options.get("cut_at")
    return protocols.temporal(
        purchases, cut_at=pd.Timestamp(cut_at) if cut_at else None, split=options.get("split", "test")
    )


def customer_purchases(events: pd.DataFrame) -> pd.DataFrame:
    """Purchase events of identified customers (guest checkouts have no history to learn from)."""
    mask = (events["type"] == "purchase") & ~events["user_id"].str.startswith("guest:")
    return events[mask]


def _leave_one_out(fmt: str, filename: str) -> Callable[[Path, dict], protocols.Split]:
    def build(folder: Path, options: dict) -> protocols.Split:
        batch = importers.read(fmt, folder / filename)
        interactions = Interactions.from_frame(batch.events)
        split = protocols.leave_one_out(interactions, split=options.get("split", "test"))
        split.item_attributes = _item_attributes(batch.items)
        return split

    return build


def _item_attributes(items) -> dict[str, list[str]] | None:
    """Category path, brand and listed attribute ids of each item, as side-feature tokens."""
    attributes = {}
    for item in items:
        tokens = [f"category:{c}" for c in item.category]
        if item.brand:
            tokens.append(f"brand:{item.brand}")
        tokens += [f"attribute:{a}" for a in item.attributes.get("attribute_ids", [])]
        if tokens:
            attributes[item.item_id] = tokens
    return attributes or None


def _session(folder: Path, options: dict) -> protocols.Split:
    train = read_session_file(folder / "train_sessions.txt")
    prefixes, targets = read_session_test(folder / "test.tsv")
    return protocols.session(train, prefixes, targets, split=options.get("split", "test"))


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "online-retail",
            "temporal",
            ("online_retail.csv.gz",),
            _online_retail,
            "UCI Online Retail purchases of identified customers; cut at the 90% time quantile",
        ),
        Dataset(
            "amazon-beauty",
            "leave-one-out",
            ("Beauty.txt",),
            _leave_one_out("amazon", "Beauty.txt"),
            "S3-Rec Amazon Beauty 5-core sequences",
        ),
        Dataset(
            "movielens-1m",
            "leave-one-out",
            ("ratings.dat",),
            _leave_one_out("movielens", "ratings.dat"),
            "MovieLens 1M, every rating an interaction, ordered by time",
        ),
        Dataset(
            "diginetica",
            "session",
            ("train_sessions.txt", "test.tsv"),
            _session,
            "CIKM Cup 2016 sessions, SR-GNN split",
        ),
        Dataset(
            "yoochoose-1-64",
            "session",
            ("train_sessions.txt", "test.tsv"),
            _session,
            "RecSys Challenge 2015 clicks, 1/64, SR-GNN split",
        ),
    )
}


def load_split(name: str, data_dir: Path | None, **options) -> protocols.Split:
    """Read a dataset and cut it by its protocol. ``options``: split ('test'|'valid'), cut_at."""
    if name not in DATASETS:
        raise InvalidInput(f"unknown dataset '{name}'; choose one of {sorted(DATASETS)}")
    dataset = DATASETS[name]
    folder = Path(data_dir) / name if data_dir is not None else Path("__no_data_dir__")
    if name != "online-retail":
        if data_dir is None:
            raise InvalidInput(f"dataset '{name}' is read from --data-dir DIR (expects DIR/{name}/{dataset.files[0]})")
        for file in dataset.files:
            if not (folder / file).exists():
                raise NotFound(f"{folder / file} not found; --data-dir must hold {name}/{file}")
    split = dataset.build(folder, options)
    split.info.setdefault("dataset", name)
    return split
