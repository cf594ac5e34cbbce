from pathlib import Path

import pytest

from mercato.errors import InvalidInput
from mercato.settings import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "mercato.example.toml"


def test_example_config_loads_and_documents_every_key():
    settings = Settings.from_file(EXAMPLE)
    assert settings.store_url == "sqlite:///var/mercato.db"
    text = EXAMPLE.read_text()
    for key in Settings.model_fields:
        assert key in text, f"mercato.example.toml does not document '{key}'"


def test_environment_overrides_default(monkeypatch):
    monkeypatch.setenv("MERCATO_STORE_URL", "sqlite:///elsewhere.db")
    assert Settings.build().store_url == "sqlite:///elsewhere.db"


def test_unknown_key_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(InvalidInput, match="nope"):
        Settings.build(nope=1)
    with pytest.raises(InvalidInput, match="not found"):
        Settings.from_file(tmp_path / "missing.toml")
