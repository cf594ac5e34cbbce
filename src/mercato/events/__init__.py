"""Events and catalog: the schema and its validation."""

from mercato.events.schema import EVENT_COLUMNS, EVENT_TYPES, EventType, Item, User, conform, empty_event_frame
from mercato.events.validation import EventError, Validated, parse_records, validate_frame, validate_or_raise

__all__ = [
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "EventError",
    "EventType",
    "Item",
    "User",
    "Validated",
    "conform",
    "empty_event_frame",
    "parse_records",
    "validate_frame",
    "validate_or_raise",
]
