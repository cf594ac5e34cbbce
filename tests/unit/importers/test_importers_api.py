"""The package-level API: format dispatch, errors for bad arguments, the bundled dataset."""

from __future__ import annotations

import pytest

from mercato import importers
from mercato.errors import InvalidInput, NotFound
from mercato.events.validation import validate_frame


def test_formats_are_the_documented_five():
    assert set(importers.FORMATS) == {"online-retail", "amazon", "movielens", "sessions", "session-log"}


def test_unknown_format_lists_the_known_ones(tmp_path):
    with pytest.raises(InvalidInput) as caught:
        importers.read("parquet", tmp_path / "x")
    for name in importers.FORMATS:
        assert name in str(caught.value)


@pytest.mark.parametrize("format", sorted(importers.FORMATS))
def test_missing_file_is_not_found_and_names_the_path(tmp_path, format):
    missing = tmp_path / "no-such-file.txt"
    with pytest.raises(NotFound, match="no-such-file"):
        importers.read(format, missing)


@pytest.mark.parametrize("limit", [-1, 1.5, "10", True])
def test_limit_must_be_a_non_negative_integer(tmp_path, limit):
    path = tmp_path / "s.txt"
    path.write_text("1 2\n")
    with pytest.raises(InvalidInput, match="limit"):
        importers.read("sessions", path, limit=limit)


def test_limit_zero_gives_an_empty_valid_frame(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("1 2\n3\n")
    batch = importers.read("sessions", path, limit=0)
    assert batch.events.empty and batch.items == []


def test_bundled_online_retail_is_shipped():
    path = importers.bundled_online_retail_path()
    assert path.name == "online_retail.csv.gz" and path.is_file()
    assert (path.parent / "online_retail.SOURCE.txt").is_file()


def test_full_bundled_online_retail_accounts_for_every_line():
    batch = importers.read("online-retail", importers.bundled_online_retail_path())
    events = batch.events
    counts = events["type"].value_counts().to_dict()
    assert set(counts) == {"purchase", "return"}
    assert counts["purchase"] + counts["return"] + sum(batch.skipped.values()) == 541_909
    assert counts["return"] == 9_288  # every 'C' line, per the dataset's SOURCE.txt
    assert batch.skipped == {"negative_price": 2, "accounting_adjustment": 1, "non_positive_quantity": 1_336}
    customers = events.loc[~events["user_id"].str.startswith("guest:"), "user_id"]
    assert customers.nunique() == 4_372
    assert len(batch.users) == 4_372
    assert events["event_id"].is_unique
    assert not validate_frame(events).errors
    assert events["occurred_at"].min().isoformat() == "2010-12-01T08:26:00+00:00"
    # 2011-12-09 12:50 London is GMT in December
    assert events["occurred_at"].max().isoformat() == "2011-12-09T12:50:00+00:00"
    assert {item.item_id for item in batch.items} == set(events["item_id"])
