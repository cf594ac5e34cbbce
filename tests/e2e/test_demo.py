"""The demo job end to end on the bundled Online Retail data: what `make demo` runs."""

import pytest

from mercato.demo import run_demo


# The demo imports 540k events, evaluates five models (the transformer for one minute) and
# runs a live server: minutes on a 2-core machine, so it gets its own, longer time limit.
@pytest.mark.timeout(900)
def test_demo_imports_evaluates_recommends_and_serves(tmp_path, capsys):
    run_demo(tmp_path / "demo", progress=lambda _: None)
    out = capsys.readouterr().out
    assert "== 2. Evaluation" in out
    for model in ("popularity", "itemknn", "ease", "als", "sasrec"):
        assert f"{model} " in out  # one table row per model
    assert out.count("recommended by ease:") == 3
    assert "mercato serving at http://127.0.0.1:" in out
    assert "recommendations from the live server:" in out
    assert "server stopped" in out
    assert (tmp_path / "demo" / "mercato.db").exists()
    assert (tmp_path / "demo" / "models" / "ease" / "config.json").exists()
