"""open_store's closed registry of schemes and the errors it gives before any backend answers."""

from __future__ import annotations

import socket

import pytest

from mercato.errors import InvalidInput, Unavailable
from mercato.storage import SCHEMES, open_store
from mercato.storage.base import redact


def test_schemes_are_a_closed_list() -> None:
    assert SCHEMES == ("postgres", "postgresql", "sqlite")


@pytest.mark.parametrize("url", ["redis://localhost", "mysql://u@h/db", "", "var/mercato.db"])
def test_unknown_scheme_is_invalid_input(url: str) -> None:
    with pytest.raises(InvalidInput, match="one of"):
        open_store(url)


def test_error_message_hides_the_password() -> None:
    with pytest.raises(InvalidInput) as caught:
        open_store("mysql://shop:hunter2@db.example/shop")
    assert "hunter2" not in str(caught.value)
    assert "mysql://shop:***@db.example/shop" in str(caught.value)


def test_redact_leaves_urls_without_password_alone() -> None:
    assert redact("postgresql://postgres@127.0.0.1:5432/test") == "postgresql://postgres@127.0.0.1:5432/test"
    assert redact("sqlite:////srv/mercato.db") == "sqlite:////srv/mercato.db"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_postgres_is_unavailable_without_the_password() -> None:
    url = f"postgresql://shop:hunter2@127.0.0.1:{_closed_port()}/shop?connect_timeout=2"
    with pytest.raises(Unavailable) as caught:
        open_store(url)
    assert "hunter2" not in str(caught.value)
