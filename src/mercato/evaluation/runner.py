"""Fit a model on a split's training data and rank the whole catalog for every test case."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from mercato.evaluation.metrics import CUTOFFS, RankingMetrics
from mercato.evaluation.protocols import Split
from mercato.recommend.base import Recommender, top_k_indices

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    pass


def evaluate(
    split: Split,
    model: Recommender,
    *,
    batch_size: int = 1024,
    progress: Progress = _silent,
) -> dict:
    """Fit ``model`` on ``split.train``, score every case over all items, return the report dict.

    The report has the shape ``{"dataset", "protocol", "model", "params", "metrics", "fit_s",
    "eval_s", "n_cases", "n_items", ...}``; metrics keys look like ``"ndcg@10"``.
    """
    progress(
        f"fitting {model.name} on {len(split.train):,} interactions "
        f"({split.train.n_users:,} users × {split.train.n_items:,} items)"
    )
    started = time.perf_counter()
    model.fit(split.train)
    fit_s = time.perf_counter() - started
    progress(f"fitted in {fit_s:.1f} s; ranking {split.n_cases:,} cases over all items")

    started = time.perf_counter()
    metrics = rank_cases(split, model, batch_size=batch_size, progress=progress)
    eval_s = time.perf_counter() - started
    return {
        "dataset": split.info.get("dataset"),
        "protocol": split.protocol,
        "model": model.name,
        "params": model.params,
        "metrics": metrics,
        "fit_s": round(fit_s, 3),
        "eval_s": round(eval_s, 3),
        "n_cases": split.n_cases,
        "n_items": split.train.n_items,
        "n_train_interactions": len(split.train),
        "split_info": {k: v for k, v in split.info.items() if k != "dataset"},
        "machine": machine_description(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def rank_cases(split: Split, model: Recommender, *, batch_size: int = 1024, progress: Progress = _silent) -> dict:
    """Metrics of a fitted ``model`` ranking the whole catalog for every case of ``split``."""
    metrics = RankingMetrics(split.train.n_items, CUTOFFS)
    started = time.perf_counter()
    last_report = started
    for begin in range(0, split.n_cases, batch_size):
        end = min(begin + batch_size, split.n_cases)
        # A copy: exclusions are written into it, and a model may return shared arrays.
        scores = np.array(model.score_histories(split.histories[begin:end], split.users[begin:end]), dtype=np.float32)
        for row, banned in enumerate(split.excluded[begin:end]):
            if len(banned):
                scores[row, banned] = -np.inf
        metrics.update(top_k_indices(scores, max(CUTOFFS)), split.targets[begin:end])
        now = time.perf_counter()
        if now - last_report > 10:
            progress(f"  {end:,}/{split.n_cases:,} cases ranked ({now - started:.0f} s)")
            last_report = now
    return {name: round(value, 6) for name, value in metrics.result().items()}


def machine_description() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
