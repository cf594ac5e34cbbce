"""SR-GNN session lists: as events (synthetic order-only times) and as plain lists for the harness."""

from __future__ import annotations

import pytest

from mercato import importers
from mercato.errors import InvalidInput
from mercato.importers import SYNTHETIC_EPOCH, read_session_file, read_session_test


def test_clicks_become_views_in_sessions_named_by_line(tmp_path):
    path = tmp_path / "train_sessions.txt"
    path.write_text("5 6 6\n\n7\n")
    batch = importers.read("sessions", path)
    events = batch.events
    assert list(events["event_id"]) == ["sessions:1:0", "sessions:1:1", "sessions:1:2", "sessions:3:0"]
    assert list(events["item_id"]) == ["5", "6", "6", "7"]
    assert list(events["session_id"]) == ["session:1"] * 3 + ["session:3"]
    assert (events["user_id"] == events["session_id"]).all() and (events["type"] == "view").all()
    seconds = (events["occurred_at"] - SYNTHETIC_EPOCH).dt.total_seconds().tolist()
    assert seconds == [1000, 1001, 1002, 3000]
    assert batch.skipped == {"empty_line": 1}
    assert [item.item_id for item in batch.items] == ["5", "6", "7"] and batch.users == []


def test_tab_in_session_list_points_to_the_test_reader(tmp_path):
    path = tmp_path / "train_sessions.txt"
    path.write_text("1 2\n3 4\t5\n")
    with pytest.raises(InvalidInput, match=r"line 2: a tab in a session list.*read_session_test"):
        importers.read("sessions", path)


def test_read_session_file_and_test(tmp_path):
    train = tmp_path / "train_sessions.txt"
    train.write_text("1 2\n\n3 4 5\n")
    assert read_session_file(train) == [["1", "2"], ["3", "4", "5"]]
    test = tmp_path / "test.tsv"
    test.write_text("1 2 3\t4\n1 2\t3\n")
    assert read_session_test(test) == ([["1", "2", "3"], ["1", "2"]], ["4", "3"])


@pytest.mark.parametrize("line", ["1 2 3", "\t4", "1 2\t", "1\t2 3"])
def test_malformed_test_line_names_file_and_line(tmp_path, line):
    path = tmp_path / "test.tsv"
    path.write_text("1 2\t3\n" + line + "\n")
    with pytest.raises(InvalidInput) as caught:
        read_session_test(path)
    assert f"{path} line 2: expected" in str(caught.value)


def test_non_utf8_bytes_are_traced_to_their_line(tmp_path):
    path = tmp_path / "train_sessions.txt"
    path.write_bytes(b"1 2\n3 \xff\n")
    with pytest.raises(InvalidInput, match=r"line 2: not valid utf-8"):
        importers.read("sessions", path)


@pytest.mark.datasets
@pytest.mark.parametrize(
    ("folder", "first_session", "sessions", "tests"),
    [
        ("diginetica", ["1", "2"], 186_670, 60_858),
        ("yoochoose-1-64", ["37151", "37149", "37149", "37146"], 116_167, 55_898),
    ],
)
def test_real_session_lists(dataset, folder, first_session, sessions, tests):
    root = dataset(folder)
    batch = importers.read("sessions", root / "train_sessions.txt", limit=100)
    first = batch.events[batch.events["session_id"] == "session:1"]
    assert list(first["item_id"]) == first_session
    assert batch.events["session_id"].nunique() == 100
    assert len(read_session_file(root / "train_sessions.txt")) == sessions
    prefixes, targets = read_session_test(root / "test.tsv")
    assert len(prefixes) == len(targets) == tests


@pytest.mark.datasets
def test_real_diginetica_first_lines(dataset):
    events = importers.read("sessions", dataset("diginetica") / "train_sessions.txt", limit=3).events
    assert list(events["event_id"]) == [f"sessions:{n}" for n in ("1:0", "1:1", "2:0", "2:1", "2:2", "3:0", "3:1")]
    assert list(events["item_id"]) == ["1", "2", "3", "4", "5", "6", "7"]
