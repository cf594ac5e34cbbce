"""The command line end to end on a small generated Online Retail file and a SQLite store."""

import json

import pytest

from mercato.cli import build_parser, main

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
# Customers 1..6 each buy a basket; "A" and "B" always go together, "C" and "D" too.
LINES = [
    "100,A,APPLE MUG,2,2011-01-03 10:00:00,1.50,1.0,United Kingdom",
    "100,B,BANANA MUG,1,2011-01-03 10:00:00,2.00,1.0,United Kingdom",
    "101,A,APPLE MUG,1,2011-01-04 10:00:00,1.50,2.0,United Kingdom",
    "101,B,BANANA MUG,1,2011-01-04 10:00:00,2.00,2.0,United Kingdom",
    "102,C,CHERRY BOWL,3,2011-01-05 10:00:00,3.00,3.0,France",
    "102,D,DATE BOWL,1,2011-01-05 10:00:00,3.50,3.0,France",
    "103,C,CHERRY BOWL,1,2011-01-06 10:00:00,3.00,4.0,France",
    "103,D,DATE BOWL,1,2011-01-06 10:00:00,3.50,4.0,France",
    "104,A,APPLE MUG,1,2011-01-07 10:00:00,1.50,5.0,United Kingdom",
    "105,C,CHERRY BOWL,1,2011-01-08 10:00:00,3.00,6.0,France",
    "C106,A,APPLE MUG,-1,2011-01-09 10:00:00,1.50,5.0,United Kingdom",
]


@pytest.fixture
def retail_file(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text(HEADER + "\n".join(LINES) + "\n")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_command_has_help(capsys):
    commands = build_parser()._subparsers._group_actions[0].choices
    assert {"import", "evaluate", "train", "recommend", "demo", "serve"} <= set(commands)
    for command in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: mercato {command}" in capsys.readouterr().out


def test_import_is_idempotent_and_train_recommend_answer(tmp_path, retail_file, capsys):
    store = f"sqlite:///{tmp_path / 'm.db'}"
    code, out, err = run(capsys, "--store", store, "import", "online-retail", str(retail_file))
    assert code == 0, err
    summary = json.loads(out)
    assert summary["events_inserted"] == 11  # 10 purchases + 1 return
    code, out, _ = run(capsys, "--store", store, "import", "online-retail", str(retail_file))
    again = json.loads(out)
    assert again["events_inserted"] == 0 and again["events_duplicate"] == 11

    model_dir = tmp_path / "itemknn"
    code, out, err = run(capsys, "--store", store, "train", "--model", "itemknn", "--out", str(model_dir))
    assert code == 0, err
    assert json.loads(out)["interactions"] == 10

    # Customer 5 bought A; B always goes with A, so it must come first.
    code, out, err = run(capsys, "recommend", "--model-dir", str(model_dir), "--user", "5", "-k", "2")
    assert code == 0, err
    assert json.loads(out)[0]["item_id"] == "B"
    code, out, _ = run(capsys, "recommend", "--model-dir", str(model_dir), "--items", "C", "unknown-id", "-k", "1")
    assert json.loads(out)[0]["item_id"] == "D"
    code, out, _ = run(capsys, "recommend", "--model-dir", str(model_dir), "--similar-to", "D", "-k", "1")
    assert json.loads(out)[0]["item_id"] == "C"


def test_bad_input_exits_2_with_one_line_reason(tmp_path, capsys):
    code, _, err = run(capsys, "evaluate", "--dataset", "amazon-beauty", "--model", "ease")
    assert code == 2 and "--data-dir" in err
    code, _, err = run(capsys, "evaluate", "--dataset", "amazon-beauty", "--model", "ease", "--data-dir", str(tmp_path))
    assert code == 2 and "Beauty.txt" in err
    code, _, err = run(capsys, "--store", "mysql://x", "train", "--model", "ease")
    assert code == 2 and "sqlite" in err
    code, _, err = run(capsys, "recommend", "--model-dir", str(tmp_path / "nothing"), "--user", "1")
    assert code == 2 and "config.json" in err
    code, _, err = run(capsys, "evaluate", "--dataset", "online-retail", "--model", "ease", "--param", "l2")
    assert code == 2 and "KEY=VALUE" in err


def test_config_file_with_unknown_key_is_rejected(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('store_url = "sqlite:///x.db"\ncolour = "red"\n')
    code, _, err = run(capsys, "--config", str(config), "train", "--model", "ease")
    assert code == 2 and "colour" in err
