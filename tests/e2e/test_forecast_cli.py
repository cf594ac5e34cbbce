"""`mercato forecast` end to end: store → train → per-SKU answer with a plot; backtests on real data."""

import json

import pytest

from mercato.cli import main
from mercato.importers import bundled_online_retail_path


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_train_then_forecast_one_sku_from_the_store(tmp_path, capsys):
    store = f"sqlite:///{tmp_path / 'shop.db'}"
    # The first 25,000 invoice lines: about two weeks of December 2010, forecast per day.
    run(capsys, "--store", store, "import", "online-retail", str(bundled_online_retail_path()), "--limit", "25000")
    models = tmp_path / "models"
    summary = json.loads(
        run(capsys, "--store", store, "forecast", "train", "--model", "moving_average", "--horizon", "4", "--freq", "D",
            "--timezone", "Europe/London", "--model-dir", str(models))
    )
    assert summary["series"] > 500 and summary["horizon"] == 4
    plot, report = tmp_path / "85123A.png", tmp_path / "85123A.json"
    out = run(capsys, "--store", store, "forecast", "forecast", "--sku", "85123A", "--model-dir", str(models),
              "--lead-time", "2", "--stock", "0", "--plot", str(plot), "--json", str(report))
    answer = json.loads(out)
    assert answer == json.loads(report.read_text())
    assert len(answer["forecast"]) == 4 and answer["forecast"][0]["p50"] > 0
    assert all(row["p10"] <= row["p50"] <= row["p90"] for row in answer["forecast"])
    assert answer["inventory"]["reorder_now"] is True and answer["inventory"]["reorder_point"] > 0
    assert plot.read_bytes()[:4] == b"\x89PNG"
    code = main(["--store", store, "forecast", "forecast", "--sku", "NO-SUCH-SKU", "--model-dir", str(models)])
    assert code == 2 and "NO-SUCH-SKU" in capsys.readouterr().err


@pytest.mark.datasets
def test_stallion_backtest_reports_every_metric(dataset, tmp_path, capsys):
    data_dir = dataset("stallion").parent
    report_path = tmp_path / "stallion.json"
    run(capsys, "forecast", "backtest", "--dataset", "stallion", "--data-dir", str(data_dir), "--model",
        "seasonal_naive", "--model", "naive", "--horizon", "6", "--test-periods", "6", "--json", str(report_path))
    reports = {r["model"]: r for r in json.loads(report_path.read_text())}
    for report in reports.values():
        # 350 series, origins 54..59 forecasting 6, 5, ..., 1 months inside the data.
        assert report["metrics"]["n_forecasts"] == 350 * 21
        assert 0.6 <= report["metrics"]["coverage_p10_p90"] <= 0.95
    assert 0.1 < reports["seasonal_naive"]["metrics"]["wape"] < 0.4
