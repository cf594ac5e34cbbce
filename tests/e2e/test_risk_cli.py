"""`mercato risk evaluate` on the real creditcard-fraud data, time-ordered (issue 6's protocol)."""

import json

import pytest

from mercato.cli import main


@pytest.mark.datasets
def test_creditcard_fraud_time_split_meets_the_issue_targets(dataset, tmp_path, capsys):
    data_dir = dataset("creditcard-fraud").parent
    report_path = tmp_path / "report.json"
    assert main(["risk", "evaluate", "--dataset", "creditcard-fraud", "--data-dir", str(data_dir),
                 "--json", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert report["train_rows"] + report["test_rows"] == 284_807
    metrics = report["metrics"]
    assert metrics["fraud"] > 100  # frauds of the last 30 % of the time span
    assert metrics["roc_auc"] >= 0.98 and metrics["recall_at_1pct_fpr"] >= 0.85
    assert "time split" in capsys.readouterr().err
