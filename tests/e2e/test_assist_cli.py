"""`mercato assist train | chat | evaluate` end to end, on the model-free hashing embedder (fast, no weights)."""

import json

import pytest

from mercato.assist.testing import NOW, seed_store
from mercato.cli import main


@pytest.fixture()
def config(tmp_path):
    store = f"sqlite:///{tmp_path / 'shop.db'}"
    seed_store(store, now=NOW)
    path = tmp_path / "mercato.toml"
    path.write_text(
        f'store_url = "{store}"\nmodel_dir = "{tmp_path / "models"}"\nassist_embedding_model = "hashing"\n'
        f'assist_transcripts_path = "{tmp_path / "t.db"}"\nassist_cache_dir = "{tmp_path / "cache"}"\n'
    )
    return path


def test_train_then_chat(config, tmp_path, capsys):
    assert main(["--config", str(config), "assist", "train", "--json", str(tmp_path / "train.json")]) == 0
    report = json.loads((tmp_path / "train.json").read_text())
    assert "order_status" in report["intents"] and report["embedding_model"] == "hashing-512"
    assert (tmp_path / "models" / "assist" / "intents.npz").is_file()
    capsys.readouterr()
    assert main(["--config", str(config), "assist", "chat", "how do I change my delivery address", "--session", "cli"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["intent"] == "change_address" and answer["sources"][0]["id"].startswith("account.md#")


def test_chat_before_training_says_what_to_run(config, capsys):
    assert main(["--config", str(config), "assist", "chat", "hello"]) == 2
    assert "mercato assist train" in capsys.readouterr().err


@pytest.mark.datasets
def test_evaluate_bitext_writes_a_json_report(config, dataset, tmp_path, capsys):
    data_dir = dataset("bitext-support").parent
    out = tmp_path / "bitext.json"
    assert main(["--config", str(config), "assist", "evaluate", "--dataset", "bitext-support", "--data-dir", str(data_dir),
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["split"]["test"] == 903 and report["split"]["intents"] == 27
    # Even the model-free embedder with the n-gram regression separates these 27 intents well.
    assert report["test"]["accuracy"] > 0.95
    assert "test accuracy" in capsys.readouterr().out
