"""S3-Rec sequence files: synthetic order-only times, attributes from the sibling json."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from mercato import importers
from mercato.errors import InvalidInput
from mercato.importers import SYNTHETIC_EPOCH


def write_sequences(tmp_path, text, attributes=None, name="Shop"):
    path = tmp_path / f"{name}.txt"
    path.write_text(text)
    if attributes is not None:
        (tmp_path / f"{name}_item2attributes.json").write_text(json.dumps(attributes))
    return path


def test_each_interaction_is_a_purchase_in_sequence_order(tmp_path):
    path = write_sequences(tmp_path, "u1 10 20 30\nu2 20 10\n", attributes={"10": [1, 2], "20": [3]})
    batch = importers.read("amazon", path)
    events = batch.events
    assert list(events["event_id"]) == ["amazon:u1:0", "amazon:u1:1", "amazon:u1:2", "amazon:u2:0", "amazon:u2:1"]
    assert list(events["item_id"]) == ["10", "20", "30", "20", "10"]
    assert (events["type"] == "purchase").all() and (events["quantity"] == 1).all()
    seconds = (events["occurred_at"] - SYNTHETIC_EPOCH).dt.total_seconds().tolist()
    assert seconds == [0, 1, 2, 0, 1]
    assert SYNTHETIC_EPOCH == pd.Timestamp("2000-01-01T00:00:00Z")
    items = {item.item_id: item for item in batch.items}
    assert items["10"].attributes == {"attribute_ids": [1, 2]}
    assert items["30"].attributes == {}  # not in the json
    assert [user.user_id for user in batch.users] == ["u1", "u2"]


def test_without_attributes_file_items_are_bare(tmp_path):
    batch = importers.read("amazon", write_sequences(tmp_path, "1 5 6\n"))
    assert [(item.item_id, item.attributes) for item in batch.items] == [("5", {}), ("6", {})]


def test_limit_reads_the_first_users(tmp_path):
    batch = importers.read("amazon", write_sequences(tmp_path, "1 5 6\n2 7\n3 8\n"), limit=2)
    assert list(batch.events["user_id"].unique()) == ["1", "2"]


def test_empty_lines_are_counted(tmp_path):
    batch = importers.read("amazon", write_sequences(tmp_path, "1 5 6\n\n2 7\n"))
    assert len(batch.events) == 3 and batch.skipped == {"empty_line": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 5 6\n2\n", "line 2: user '2' has no items"),
        ("1 5 6\n2 7\n1 8\n", "line 3: user '1' already has a sequence on line 1"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, text, message):
    path = write_sequences(tmp_path, text)
    with pytest.raises(InvalidInput) as caught:
        importers.read("amazon", path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_malformed_attributes_json_is_named(tmp_path):
    path = write_sequences(tmp_path, "1 5\n")
    (tmp_path / "Shop_item2attributes.json").write_text("{not json")
    with pytest.raises(InvalidInput, match="Shop_item2attributes.json"):
        importers.read("amazon", path)


def test_over_long_id_is_traced_to_its_line(tmp_path):
    path = write_sequences(tmp_path, "1 5\n2 " + "x" * 300 + "\n")
    with pytest.raises(InvalidInput, match=r"line 2: item_id is longer than 200"):
        importers.read("amazon", path)


@pytest.mark.datasets
def test_real_beauty_first_users(dataset):
    batch = importers.read("amazon", dataset("amazon-beauty") / "Beauty.txt", limit=3)
    events = batch.events
    first_user = events[events["user_id"] == "1"]
    assert list(first_user["item_id"]) == ["1", "2", "3", "4", "5"]
    assert list(events[events["user_id"] == "2"]["item_id"]) == ["6", "7", "8", "9", "10", "4", "11"]
    assert len(events) == 5 + 7 + 9
    items = {item.item_id: item for item in batch.items}
    assert items["4"].attributes == {"attribute_ids": [1, 2, 3]}
