"""The demo's live part: a real server on loopback, the last days of Online Retail streamed into it."""

from __future__ import annotations

from mercato.replay_live import run_live_demo


def test_live_demo_streams_into_a_server_and_stops_it(tmp_path, capsys):
    summary = run_live_demo(tmp_path, stream_days=2, history_days=14)
    out = capsys.readouterr().out
    assert "== 4. Live" in out and f"mercato serving at {summary['url']}" in out
    assert summary["streamed"] > 1000 and summary["model_version"] == 2
    assert "recommendations from the live server" in out and out.rstrip().endswith("server stopped")
