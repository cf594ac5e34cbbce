"""Online Retail: tiny generated files whose right answers are known, then a slice of the real data."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import pandas as pd
import pytest

from mercato import importers
from mercato.errors import InvalidInput

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
ROWS = [
    "536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6.0,2010-12-01 08:26:00,2.55,17850.0,United Kingdom",  # line 2
    "536365,71053,WHITE METAL LANTERN,6.0,2010-12-01 08:26:00,3.39,17850.0,United Kingdom",  # 3
    "C536379,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-2.0,2010-12-01 09:41:00,2.55,17850.0,United Kingdom",  # 4
    "536414,22139,,56.0,2010-12-01 11:52:00,0.0,,United Kingdom",  # 5: guest, free
    "536589,21777,damaged,-10.0,2010-12-01 16:50:00,0.0,,United Kingdom",  # 6: stock write-off
    "A563186,B,Adjust bad debt,1.0,2011-08-12 14:51:00,-11062.06,,United Kingdom",  # 7
    "A563185,B,Adjust bad debt,1.0,2011-08-12 14:50:00,11062.06,,United Kingdom",  # 8
    "550000,85123A,WHITE HANGING HEART T-LIGHT HOLDER,1.0,2011-06-01 10:00:00,2.95,12345.0,France",  # 9: summer time
    "550001,85123A,white heart,3.0,2011-10-30 01:30:00,2.55,,United Kingdom",  # 10: the hour that repeats
    "550002,71053,WHITE METAL LANTERN,1.0,2011-03-27 01:30:00,3.39,,United Kingdom",  # 11: the hour that never was
]


def write_csv(tmp_path, rows=ROWS, name="retail.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    return path


def test_lines_become_purchases_returns_and_counted_skips(tmp_path):
    batch = importers.read("online-retail", write_csv(tmp_path))
    events = batch.events.set_index("event_id")
    assert list(events.index) == [f"online-retail:{inv}" for inv in (
        "536365:2", "536365:3", "C536379:4", "536414:5", "550000:9", "550001:10", "550002:11"
    )]
    assert batch.skipped == {"non_positive_quantity": 1, "negative_price": 1, "accounting_adjustment": 1}

    first = events.loc["online-retail:536365:2"]
    assert first["type"] == "purchase" and first["user_id"] == "17850"
    assert first["quantity"] == 6 and first["amount_minor"] == 1530 and first["currency"] == "GBP"
    assert first["session_id"] == first["order_id"] == "536365"
    assert first["attrs"] == {"country": "United Kingdom", "unit_price_minor": 255}
    assert first["occurred_at"] == pd.Timestamp("2010-12-01T08:26:00Z")  # GMT in winter

    returned = events.loc["online-retail:C536379:4"]
    assert returned["type"] == "return" and returned["quantity"] == 2 and returned["amount_minor"] == 510

    guest = events.loc["online-retail:536414:5"]
    assert guest["user_id"] == "guest:536414" and guest["amount_minor"] == 0

    assert events.loc["online-retail:550000:9", "occurred_at"] == pd.Timestamp("2011-06-01T09:00:00Z")  # BST
    # 01:30 on 2011-10-30 happened twice; the first (BST) occurrence is 00:30 UTC.
    assert events.loc["online-retail:550001:10", "occurred_at"] == pd.Timestamp("2011-10-30T00:30:00Z")
    # 01:30 on 2011-03-27 never happened; it moves to 02:00 BST = 01:00 UTC.
    assert events.loc["online-retail:550002:11", "occurred_at"] == pd.Timestamp("2011-03-27T01:00:00Z")


def test_items_and_users(tmp_path):
    batch = importers.read("online-retail", write_csv(tmp_path))
    items = {item.item_id: item for item in batch.items}
    heart = items["85123A"]
    assert heart.title == "WHITE HANGING HEART T-LIGHT HOLDER"  # 3 of 4 lines; "white heart" once
    assert heart.price_minor == 255  # median of 255, 255, 295, 255
    assert heart.currency == "GBP"
    assert heart.created_at == datetime(2010, 12, 1, 8, 26, tzinfo=timezone.utc)
    assert items["22139"].title == "" and items["22139"].price_minor is None  # only a free, undescribed line
    users = {user.user_id: user for user in batch.users}
    assert set(users) == {"17850", "12345"}  # guests are not customers
    assert users["12345"].attributes == {"country": "France"}
    assert users["17850"].created_at == datetime(2010, 12, 1, 8, 26, tzinfo=timezone.utc)


def test_reimport_gives_identical_ids_and_gzip_reads_the_same(tmp_path):
    plain = importers.read("online-retail", write_csv(tmp_path)).events
    again = importers.read("online-retail", write_csv(tmp_path)).events
    gz_path = tmp_path / "retail.csv.gz"
    gz_path.write_bytes(gzip.compress((HEADER + "".join(r + "\n" for r in ROWS)).encode()))
    zipped = importers.read("online-retail", gz_path).events
    pd.testing.assert_frame_equal(plain, again)
    pd.testing.assert_frame_equal(plain, zipped)


def test_limit_reads_the_first_lines(tmp_path):
    batch = importers.read("online-retail", write_csv(tmp_path), limit=3)
    assert list(batch.events["event_id"]) == [
        "online-retail:536365:2", "online-retail:536365:3", "online-retail:C536379:4"
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("536999,22139,X,six,2010-12-01 11:52:00,1.0,,United Kingdom", "line 4: 'six' Quantity is not a number"),
        ("536999,22139,X,1.5,2010-12-01 11:52:00,1.0,,United Kingdom", "line 4: '1.5' Quantity is not a whole"),
        ("536999,22139,X,1,yesterday,1.0,,United Kingdom", "line 4: 'yesterday' InvoiceDate"),
        ("536999,,X,1,2010-12-01 11:52:00,1.0,,United Kingdom", "line 4: StockCode is empty"),
        ("536999,22139,X,1,2010-12-01 11:52:00,,,United Kingdom", "line 4: UnitPrice is empty"),
        ("536999,22139,X,1,2010-12-01 11:52:00,1.0,abc,United Kingdom", "line 4: 'abc' CustomerID"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, row, message):
    path = write_csv(tmp_path, ROWS[:2] + [row])
    with pytest.raises(InvalidInput) as caught:
        importers.read("online-retail", path)
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text("InvoiceNo,StockCode,Quantity\n1,2,3\n")
    with pytest.raises(InvalidInput, match=r"missing column\(s\) \['Description', 'InvoiceDate'"):
        importers.read("online-retail", path)


def test_empty_file_is_invalid(tmp_path):
    path = tmp_path / "retail.csv"
    path.write_text("")
    with pytest.raises(InvalidInput, match="empty file"):
        importers.read("online-retail", path)


def test_uci_spreadsheet_date_format_is_read(tmp_path):
    path = write_csv(tmp_path, ["536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom"])
    event = importers.read("online-retail", path).events.iloc[0]
    assert event["occurred_at"] == pd.Timestamp("2010-12-01T08:26:00Z") and event["user_id"] == "17850"


@pytest.mark.datasets
def test_real_first_invoice(dataset):
    batch = importers.read("online-retail", dataset("online-retail") / "online_retail.csv.gz", limit=700)
    events = batch.events
    first = events[events["order_id"] == "536365"]
    assert len(first) == 7
    assert set(first["user_id"]) == {"17850"}
    local = first["occurred_at"].dt.tz_convert("Europe/London")
    assert set(local) == {pd.Timestamp("2010-12-01 08:26", tz="Europe/London")}
    assert (first["type"] == "purchase").all()
    cancelled = events[events["order_id"] == "C536379"].iloc[0]  # file: Quantity -1.0, item D (Discount)
    assert cancelled["type"] == "return" and cancelled["quantity"] == 1 and cancelled["item_id"] == "D"
    guest = events[events["event_id"] == "online-retail:536414:624"].iloc[0]  # first line without a customer
    assert guest["user_id"] == "guest:536414" and guest["quantity"] == 56
    assert len(events) + sum(batch.skipped.values()) == 700
