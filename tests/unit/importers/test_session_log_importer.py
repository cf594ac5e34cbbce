"""Raw timestamped session logs (Diginetica views csv, YooChoose clicks tsv), told apart by header."""

from __future__ import annotations

import pandas as pd
import pytest

from mercato import importers
from mercato.errors import InvalidInput

DIGINETICA = (
    "sessionId;userId;itemId;timeframe;eventdate\n"
    "1;NA;81766;526309;2016-05-09\n"
    "1;NA;31331;1031018;2016-05-09\n"
    "48;2;24764;8863;2016-04-09\n"
)
YOOCHOOSE = "SessionId\tItemId\tTime\n3\t214716935\t1396437466.94\n3\t214832672\t1396438212.318\n"


def write(tmp_path, text, name):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_diginetica_views(tmp_path):
    batch = importers.read("session-log", write(tmp_path, DIGINETICA, "views.csv"))
    events = batch.events
    assert list(events["event_id"]) == ["diginetica:1:2", "diginetica:1:3", "diginetica:48:4"]
    assert list(events["user_id"]) == ["session:1", "session:1", "2"]  # NA -> the session stands in
    assert list(events["session_id"]) == ["1", "1", "48"]
    assert events["occurred_at"].iat[0] == pd.Timestamp("2016-05-09T00:08:46.309Z")  # day + 526,309 ms
    assert (events["type"] == "view").all()
    assert [user.user_id for user in batch.users] == ["2"]
    assert [item.item_id for item in batch.items] == ["81766", "31331", "24764"]


def test_yoochoose_clicks(tmp_path):
    events = importers.read("session-log", write(tmp_path, YOOCHOOSE, "clicks.txt")).events
    assert list(events["event_id"]) == ["yoochoose:3:2", "yoochoose:3:3"]
    assert list(events["user_id"]) == ["session:3", "session:3"]
    assert list(events["occurred_at"]) == [
        pd.Timestamp("2014-04-02T11:17:46.940Z"),
        pd.Timestamp("2014-04-02T11:30:12.318Z"),
    ]


def test_snake_case_header_and_limit(tmp_path):
    path = write(tmp_path, DIGINETICA.replace("sessionId;userId;itemId", "session_id;user_id;item_id"), "v.csv")
    assert len(importers.read("session-log", path, limit=2).events) == 2


def test_unknown_header_lists_the_known_ones(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n", "x.csv")
    with pytest.raises(InvalidInput, match=r"line 1: header 'a,b,c' is not a known session log.*SessionId"):
        importers.read("session-log", path)


@pytest.mark.parametrize(
    ("text", "name", "message"),
    [
        (DIGINETICA + "2;NA;5;soon;2016-05-09\n", "v.csv", "line 5: 'soon' timeframe"),
        (DIGINETICA + "2;NA;5;10;09.05.2016\n", "v.csv", "line 5: '09.05.2016' eventdate"),
        (DIGINETICA + "2;NA;;10;2016-05-09\n", "v.csv", "line 5: the item id is empty"),
        (YOOCHOOSE + "4\t5\tnow\n", "c.txt", "line 4: 'now' Time is not unix seconds"),
    ],
)
def test_malformed_row_names_file_and_line(tmp_path, text, name, message):
    path = write(tmp_path, text, name)
    with pytest.raises(InvalidInput) as caught:
        importers.read("session-log", path)
    assert str(path) in str(caught.value) and message in str(caught.value)


@pytest.mark.datasets
def test_real_samples(dataset):
    root = dataset("session-samples")
    diginetica = importers.read("session-log", root / "diginetica_sample_train-item-views.csv", limit=50).events
    assert diginetica["event_id"].iat[0] == "diginetica:1:2"
    assert diginetica["occurred_at"].iat[0] == pd.Timestamp("2016-05-09T00:08:46.309Z")
    assert diginetica["item_id"].iat[0] == "81766"
    full = importers.read("session-log", root / "diginetica_sample_train-item-views.csv")
    assert len(full.events) == 12_391 and full.events["session_id"].nunique() == 2_986 and len(full.items) == 7_139
    yoochoose = importers.read("session-log", root / "yoochoose-clicks-100k_train_full.txt")
    assert len(yoochoose.events) == 70_278 and yoochoose.events["session_id"].nunique() == 17_794
    assert yoochoose.events["event_id"].iat[0] == "yoochoose:3:2"
