"""One contract suite for every event store backend.

SQLite always runs (a file under tmp_path). PostgreSQL runs when MERCATO_TEST_POSTGRES_URL is
set; each test then gets its own schema, named in the store URL through libpq's
``options=-csearch_path=...``, and dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mercato.errors import InvalidInput, MercatoError, NotFound, Unavailable
from mercato.events.schema import EVENT_COLUMNS, Item, User
from mercato.events.validation import parse_records
from mercato.storage import EventStore, codec, open_store

POSTGRES_URL = os.environ.get("MERCATO_TEST_POSTGRES_URL")
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def _postgres_schema_url(schema: str) -> str:
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        # tmp_path is absolute, so this is the four-slash absolute form; "store/" does not exist yet.
        yield f"sqlite:///{tmp_path}/store/events.db"
        return
    if not POSTGRES_URL:
        pytest.skip("set MERCATO_TEST_POSTGRES_URL to run the PostgreSQL backend")
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _postgres_schema_url(schema)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(store_url: str) -> Iterator[EventStore]:
    with open_store(store_url) as opened:
        yield opened


def view(event_id: str, minutes: float = 0, user_id: str = "u1", item_id: str = "i1", **extra) -> dict:
    occurred_at = T0 + timedelta(minutes=minutes)
    return {"event_id": event_id, "type": "view", "occurred_at": occurred_at.isoformat(), "user_id": user_id,
            "item_id": item_id, **extra}  # fmt: skip


def ids(frame: pd.DataFrame) -> list[str]:
    return frame["event_id"].tolist()


# --- events: round trip -----------------------------------------------------------------------

FULL_RECORDS = [
    {
        "event_id": "e-purchase",
        "type": "purchase",
        "occurred_at": "2024-05-01T14:30:00.123456+02:00",  # stored as UTC, microseconds kept
        "user_id": "u1",
        "session_id": "s1",
        "item_id": "i1",
        "quantity": 3,
        "amount_minor": 4599,
        "currency": "EUR",
        "order_id": "o1",
        "attrs": {"coupon": "SPRING", "nested": {"list": [1, 2.5, None, True]}, "text": "naïve — ünïcode"},
    },
    {"event_id": "e-view", "type": "view", "occurred_at": "2024-05-01T12:00:00Z", "user_id": "u2", "item_id": "i2"},
    {"event_id": "e-empty-attrs", "type": "view", "occurred_at": "2024-05-01T13:00:00Z", "user_id": "u2",
     "item_id": "i2", "attrs": {}},  # fmt: skip
]


def test_every_field_round_trips(store: EventStore) -> None:
    result = store.ingest(FULL_RECORDS)
    assert (result.inserted, result.duplicates, result.errors) == (3, 0, [])

    stored = store.read_events()
    expected = parse_records(FULL_RECORDS).events.sort_values("occurred_at").reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, expected)
    assert {name: str(dtype) for name, dtype in stored.dtypes.items()} == EVENT_COLUMNS
    purchase = stored.set_index("event_id").loc["e-purchase"]
    assert purchase["occurred_at"] == pd.Timestamp("2024-05-01T12:30:00.123456Z")
    assert purchase["attrs"]["nested"] == {"list": [1, 2.5, None, True]}
    # No attrs and empty attrs stay distinct.
    assert stored.set_index("event_id").loc["e-view", "attrs"] is None
    assert stored.set_index("event_id").loc["e-empty-attrs", "attrs"] == {}


def test_append_takes_an_event_frame(store: EventStore) -> None:
    frame = parse_records(FULL_RECORDS).events
    result = store.append(frame)
    assert (result.inserted, result.duplicates) == (3, 0)
    assert sorted(ids(store.read_events())) == sorted(frame["event_id"])


def test_append_validated_stores_the_good_events_of_a_parse(store: EventStore) -> None:
    checked = parse_records([*FULL_RECORDS, {"event_id": "bad", "type": "view"}])  # no time, no user
    assert {e.index for e in checked.errors} == {3}
    result = store.append_validated(checked)
    assert (result.inserted, result.duplicates) == (3, 0)
    assert sorted(ids(store.read_events())) == sorted(r["event_id"] for r in FULL_RECORDS)
    assert store.append_validated(checked).duplicates == 3  # idempotent like append
    with pytest.raises(InvalidInput, match="Validated"):
        store.append_validated(checked.events)  # a bare frame must go through append's checks


def test_empty_store_reads_an_empty_event_frame(store: EventStore) -> None:
    frame = store.read_events()
    assert frame.empty
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == EVENT_COLUMNS
    assert store.count_events() == 0
    assert store.user_history("nobody").empty
    assert store.append(parse_records([]).events).inserted == 0


# --- events: idempotency, bad records, atomicity ----------------------------------------------


def test_same_event_twice_is_stored_once(store: EventStore) -> None:
    assert store.ingest([view("e1")]).inserted == 1
    again = store.ingest([view("e1"), view("e2")])
    assert (again.inserted, again.duplicates) == (1, 1)
    assert store.count_events() == 2


def test_duplicates_within_one_batch_first_wins(store: EventStore) -> None:
    result = store.ingest([view("e1", quantity=1), view("e1", quantity=2), view("e2"), view("e1", quantity=3)])
    assert (result.inserted, result.duplicates) == (2, 2)
    stored = store.read_events().set_index("event_id")
    assert stored.loc["e1", "quantity"] == 1


def test_bad_events_are_reported_and_good_ones_stored(store: EventStore) -> None:
    records = [
        view("good-1"),
        {**view("bad-type"), "type": "teleport"},
        {**view("bad-time"), "occurred_at": "2024-05-01T12:00:00"},  # no timezone
        view("good-2", minutes=1),
        {**view("bad-item"), "item_id": None},
    ]
    result = store.ingest(records)
    assert (result.inserted, result.duplicates) == (2, 0)
    assert [(e.index, e.field) for e in result.errors] == [(1, "type"), (2, "occurred_at"), (4, "item_id")]
    assert all(e.reason for e in result.errors)
    assert ids(store.read_events()) == ["good-1", "good-2"]
    assert store.count_events() == 2


def test_append_with_an_invalid_row_stores_nothing(store: EventStore) -> None:
    frame = parse_records([view("e1"), view("e2")]).events
    frame.loc[frame.index[1], "type"] = "teleport"
    with pytest.raises(InvalidInput, match="invalid event"):
        store.append(frame)
    assert store.count_events() == 0


def test_failure_inside_the_transaction_rolls_back(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.ingest([view("before")])
    real_rows = codec.event_rows

    def rows_with_a_broken_last_one(frame: pd.DataFrame) -> list[tuple]:
        rows = real_rows(frame)
        # The database itself refuses the last row (type is NOT NULL), after the others went in.
        return [*rows[:-1], (rows[-1][0], None, *rows[-1][2:])]

    monkeypatch.setattr(codec, "event_rows", rows_with_a_broken_last_one)
    with pytest.raises(MercatoError):
        store.ingest([view("e1"), view("e2"), view("e3")])
    monkeypatch.undo()
    assert ids(store.read_events()) == ["before"]
    assert store.ingest([view("e1")]).inserted == 1  # the store is still usable


def test_attrs_that_are_not_json_are_refused(store: EventStore) -> None:
    frame = parse_records([view("e1")]).events
    frame.at[frame.index[0], "attrs"] = {"when": datetime(2024, 1, 1)}
    with pytest.raises(InvalidInput, match="attrs"):
        store.append(frame)
    assert store.count_events() == 0


# --- events: reads ----------------------------------------------------------------------------


@pytest.fixture
def timeline(store: EventStore) -> EventStore:
    # Appended out of time order; "tie-b" and "tie-a" share a timestamp (insertion order decides).
    store.ingest(
        [
            view("m30", 30, user_id="u1"),
            view("m10", 10, user_id="u2"),
            view("tie-b", 20, user_id="u1"),
            view("tie-a", 20, user_id="u1"),
            {**view("m40-search", 40, user_id="u1", item_id=None), "type": "search", "attrs": {"query": "shoes"}},
            view("m0", 0, user_id="u1"),
        ]
    )
    return store


def test_read_orders_by_time_then_insertion(timeline: EventStore) -> None:
    assert ids(timeline.read_events()) == ["m0", "m10", "tie-b", "tie-a", "m30", "m40-search"]


def test_read_time_range_is_since_inclusive_until_exclusive(timeline: EventStore) -> None:
    window = timeline.read_events(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=30))
    assert ids(window) == ["m10", "tie-b", "tie-a"]
    # Another timezone names the same instants.
    plus_two = timezone(timedelta(hours=2))
    assert ids(timeline.read_events(since=(T0 + timedelta(minutes=30)).astimezone(plus_two))) == ["m30", "m40-search"]


def test_read_filters_and_limit(timeline: EventStore) -> None:
    assert ids(timeline.read_events(user_id="u2")) == ["m10"]
    assert ids(timeline.read_events(types=["search"])) == ["m40-search"]
    assert ids(timeline.read_events(types="search")) == ["m40-search"]
    assert ids(timeline.read_events(types=[])) == []
    assert ids(timeline.read_events(limit=2)) == ["m0", "m10"]
    assert ids(timeline.read_events(user_id="u1", types=["view"], since=T0 + timedelta(minutes=5), limit=2)) == [
        "tie-b",
        "tie-a",
    ]


def test_user_history_is_oldest_first_and_limit_keeps_the_latest(timeline: EventStore) -> None:
    assert ids(timeline.user_history("u1")) == ["m0", "tie-b", "tie-a", "m30", "m40-search"]
    assert ids(timeline.user_history("u1", limit=3)) == ["tie-a", "m30", "m40-search"]
    assert ids(timeline.user_history("u1", types=["view"], limit=2)) == ["tie-a", "m30"]
    assert timeline.user_history("nobody").empty


def test_count_events_by_type(timeline: EventStore) -> None:
    assert timeline.count_events() == 6
    assert timeline.count_events(types=["view"]) == 5
    assert timeline.count_events(types=["search", "purchase"]) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {"since": datetime(2024, 5, 1)},  # naive: which timezone?
        {"until": "2024-05-01"},
        {"types": ["teleport"]},
        {"limit": -1},
    ],
)
def test_read_refuses_bad_arguments(store: EventStore, arguments: dict) -> None:
    with pytest.raises(InvalidInput):
        store.read_events(**arguments)


# --- catalog and users ------------------------------------------------------------------------


def test_items_upsert_get_and_list(store: EventStore) -> None:
    shoe = Item(
        item_id="i1",
        title="Trail shoe",
        category=("Shoes", "Running"),
        price_minor=8999,
        currency="EUR",
        brand="Acme",
        attributes={"sizes": [41, 42], "colour": "grün"},
        stock=7,
        created_at=datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
    )
    bare = Item(item_id="i0")
    assert store.put_items([shoe, bare]) == 2
    assert store.get_item("i1") == shoe
    assert store.get_item("i0") == bare

    cheaper = Item(item_id="i1", title="Trail shoe", price_minor=6999, currency="EUR", stock=0)
    assert store.put_items([cheaper]) == 1
    assert store.get_item("i1") == cheaper
    assert store.read_items() == [bare, cheaper]


def test_missing_item_is_not_found(store: EventStore) -> None:
    with pytest.raises(NotFound, match="i404"):
        store.get_item("i404")


@pytest.mark.parametrize(
    "item",
    [Item(item_id=""), Item(item_id="i1", price_minor=-1), Item(item_id="i1", currency="euro"),
     Item(item_id="i1", created_at=datetime(2024, 1, 1))],  # fmt: skip
)
def test_invalid_items_are_refused(store: EventStore, item: Item) -> None:
    with pytest.raises(InvalidInput):
        store.put_items([Item(item_id="ok"), item])
    assert store.read_items() == []


def test_users_upsert_and_get(store: EventStore) -> None:
    ada = User(user_id="u1", attributes={"segment": "vip"}, created_at=T0)
    assert store.put_users([ada, User(user_id="u2")]) == 2
    assert store.get_user("u1") == ada
    store.put_users([User(user_id="u1", attributes={"segment": "churned"})])
    assert store.get_user("u1") == User(user_id="u1", attributes={"segment": "churned"})
    with pytest.raises(NotFound):
        store.get_user("u404")


# --- lifetime ---------------------------------------------------------------------------------


def test_data_survives_reopening(store_url: str) -> None:
    with open_store(store_url) as first:
        first.ingest([view("e1"), view("e2", 1)])
        first.put_items([Item(item_id="i1", title="kept")])
    with open_store(store_url) as second:
        assert ids(second.read_events()) == ["e1", "e2"]
        assert second.get_item("i1").title == "kept"
        assert second.ingest([view("e1")]).duplicates == 1


def test_closed_store_says_so(store_url: str) -> None:
    opened = open_store(store_url)
    opened.close()
    opened.close()  # idempotent
    with pytest.raises(Unavailable, match="closed"):
        opened.count_events()


def test_unknown_scheme_names_the_accepted_ones() -> None:
    with pytest.raises(InvalidInput, match="'postgresql'.*'sqlite'"):
        open_store("mysql://user:secret@host/db")
    with pytest.raises(InvalidInput, match="sqlite"):
        open_store("events.db")


# --- property: repeated ids -------------------------------------------------------------------

event_draws = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 120), st.integers(1, 5)),  # (id number, minute, quantity)
    max_size=30,
)


# The store fixture is shared by all examples on purpose (a fresh database per example would
# be slow); each example namespaces its event ids and user, so examples cannot see each other.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(draws=event_draws)
def test_ingest_stores_exactly_the_distinct_ids(store: EventStore, draws: list[tuple[int, int, int]]) -> None:
    run = uuid.uuid4().hex[:8]
    records = [view(f"{run}-{n}", minute, user_id=run, quantity=quantity) for n, minute, quantity in draws]
    first_seen: dict[str, dict] = {}
    for record in records:
        first_seen.setdefault(record["event_id"], record)

    result = store.ingest(records)

    assert (result.inserted, result.duplicates, result.errors) == (len(first_seen), len(records) - len(first_seen), [])
    stored = store.read_events(user_id=run)
    assert sorted(ids(stored)) == sorted(first_seen)
    assert dict(zip(stored["event_id"], stored["quantity"])) == {k: r["quantity"] for k, r in first_seen.items()}
    assert list(stored["occurred_at"]) == sorted(stored["occurred_at"])
