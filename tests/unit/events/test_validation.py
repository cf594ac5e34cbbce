from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.errors import InvalidInput
from mercato.events import EVENT_TYPES, parse_records, validate_frame, validate_or_raise


def _event(**overrides):
    event = {
        "event_id": "e1",
        "type": "view",
        "occurred_at": "2024-05-01T12:00:00Z",
        "user_id": "u1",
        "item_id": "i1",
    }
    event.update(overrides)
    return {k: v for k, v in event.items() if v is not None}


def _errors(result):
    return [(e.index, e.field) for e in result.errors]


def test_good_events_of_every_type_parse():
    records = [
        _event(event_id="v", type="view"),
        _event(event_id="p", type="purchase", quantity=2, amount_minor=1999, currency="EUR", order_id="o1"),
        _event(event_id="r", type="rating", attrs={"rating": 4.5}),
        _event(event_id="s", type="search", item_id=None, attrs={"query": "red shoes"}),
        _event(event_id="pay", type="payment", item_id=None, amount_minor=500, currency="USD"),
        _event(event_id="m", type="support_message", item_id=None, attrs={"text": "where is my order?"}),
        _event(event_id="ad", type="ad_click", item_id=None, attrs={"ad_id": "a7"}),
    ]
    result = parse_records(records)
    assert result.errors == []
    assert result.events["event_id"].tolist() == ["v", "p", "r", "s", "pay", "m", "ad"]
    assert str(result.events["occurred_at"].dtype) == "datetime64[us, UTC]"
    assert result.events.loc[1, "amount_minor"] == 1999


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"event_id": None}, "event_id"),
        ({"event_id": "  "}, "event_id"),
        ({"user_id": None}, "user_id"),
        ({"type": "teleport"}, "type"),
        ({"occurred_at": "2024-05-01T12:00:00"}, "occurred_at"),  # no timezone
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": None}, "occurred_at"),
        ({"item_id": None}, "item_id"),
        ({"quantity": 0, "type": "purchase"}, "quantity"),
        ({"quantity": "two"}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"amount_minor": 100}, "currency"),
        ({"amount_minor": 100, "currency": "euro"}, "currency"),
        ({"amount_minor": -1, "currency": "EUR"}, "amount_minor"),
        ({"type": "payment", "item_id": None}, "amount_minor"),
        ({"type": "rating"}, "attrs.rating"),
        ({"type": "rating", "attrs": {"rating": True}}, "attrs.rating"),
        ({"type": "search", "attrs": {}}, "attrs.query"),
        ({"type": "ad_impression", "item_id": None}, "item_id"),
        ({"attrs": [1, 2]}, "attrs"),
        ({"event_id": "x" * 201}, "event_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_bad_field_is_reported_with_index_and_field(overrides, field):
    result = parse_records([_event(event_id="ok"), _event(event_id="bad", **overrides) if "event_id" not in overrides else _event(**overrides)])
    assert (1, field) in _errors(result)
    assert result.events["event_id"].tolist() == ["ok"]  # the good neighbour survives


def test_non_object_record_is_an_error_not_a_crash():
    result = parse_records(["not an event", _event()])
    assert _errors(result) == [(0, "")]
    assert len(result.events) == 1


def test_validate_or_raise_names_the_first_problem():
    frame = parse_records([_event()]).events
    frame.loc[frame.index[0], "type"] = "nope"
    with pytest.raises(InvalidInput, match="index 0: type"):
        validate_or_raise(frame)


def test_frame_without_required_column_is_rejected():
    with pytest.raises(InvalidInput, match="occurred_at"):
        validate_frame(pd.DataFrame({"event_id": ["a"], "type": ["view"], "user_id": ["u"]}))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "event_id": st.text(min_size=1, max_size=20).filter(str.strip),
                "type": st.sampled_from(sorted(EVENT_TYPES)),
                "user_id": st.text(min_size=1, max_size=10).filter(str.strip),
                "item_id": st.one_of(st.none(), st.text(min_size=1, max_size=10)),
                "quantity": st.one_of(st.none(), st.integers(-3, 3)),
                "occurred_at": st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
            }
        ),
        max_size=20,
    )
)
def test_every_record_is_either_kept_or_reported(records):
    result = parse_records(records)
    reported = {e.index for e in result.errors}
    kept = set(result.events.index)
    assert kept.isdisjoint(reported)
    assert kept | reported == set(range(len(records)))
    # Round trip: what is kept equals what was sent.
    for i in kept:
        assert result.events.loc[i, "event_id"] == records[i]["event_id"]
        assert result.events.loc[i, "occurred_at"] == pd.Timestamp(records[i]["occurred_at"])
