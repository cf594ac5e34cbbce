"""Prequential replay end to end: online learning beats the frozen model, and the CLI writes JSON + PNG."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from mercato.cli import main
from mercato.errors import InvalidInput
from mercato.events import conform
from mercato.replay import ReplayConfig, replay, window_hit_rates

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def drifting_shop() -> pd.DataFrame:
    """Weeks 0-1: sessions go a -> b. From week 2 a new item n appears and sessions go a -> n.

    A frozen model can never recommend n; the online one learns it from the first sessions.
    """
    rows = []
    for s in range(400):
        at = T0 + timedelta(hours=2 * s)
        second = "b" if at < T0 + timedelta(days=14) else "n"
        for step, item in enumerate(("a", second, f"x{s % 7}")):
            rows.append({"event_id": f"e{s}-{step}", "type": "view", "occurred_at": at + timedelta(minutes=step),
                         "user_id": f"s{s}", "item_id": item})
    return conform(pd.DataFrame(rows))


def test_online_learning_beats_frozen_when_the_shop_changes():
    config = ReplayConfig(since=pd.Timestamp(T0 + timedelta(days=14)), k=2, refit_every=pd.Timedelta(days=3),
                          window=pd.Timedelta(days=3), max_predictions=None)
    report = replay(drifting_shop(), config)
    assert report["online_hit_rate@2"] > report["frozen_hit_rate@2"] + 0.2
    assert report["sign_test_p_value"] < 1e-6 and report["online_refits"] >= 2
    rates = window_hit_rates(report)
    assert (rates[:, 1] >= rates[:, 0]).all()


def test_since_must_split_the_data():
    with pytest.raises(InvalidInput, match="both sides"):
        replay(drifting_shop(), ReplayConfig(since=pd.Timestamp(T0 - timedelta(days=1))))


@pytest.mark.datasets
def test_replay_command_on_the_yoochoose_sample(dataset, tmp_path, capsys):
    path = dataset("session-samples") / "yoochoose-clicks-100k_train_full.txt"
    code = main(["replay", "--dataset", "session-log", "--path", str(path), "--refit-every-days", "1",
                 "--window-days", "1", "--max-predictions", "600", "--out", str(tmp_path)])
    assert code == 0
    report = json.loads((tmp_path / "replay.json").read_text())
    assert report["online_hit_rate@10"] > report["frozen_hit_rate@10"] and report["sign_test_p_value"] < 0.01
    assert (tmp_path / "replay.png").read_bytes()[:4] == b"\x89PNG"
    assert '"online_hit_rate@10"' in capsys.readouterr().out
