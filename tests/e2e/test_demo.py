"""The demo job end to end on the bundled Online Retail data: what `make demo` runs."""

from mercato.demo import run_demo


def test_demo_imports_evaluates_and_recommends(tmp_path, capsys):
    run_demo(tmp_path / "demo", progress=lambda _: None)
    out = capsys.readouterr().out
    assert "== 2. Evaluation" in out
    for model in ("popularity", "itemknn", "ease", "als"):
        assert f"{model} " in out  # one table row per model
    assert out.count("recommended by ease:") == 3
    assert (tmp_path / "demo" / "mercato.db").exists()
    assert (tmp_path / "demo" / "models" / "ease" / "config.json").exists()
