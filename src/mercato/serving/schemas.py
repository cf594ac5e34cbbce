"""Request and response bodies of the HTTP API (pydantic), and their conversion to domain objects.

Events are the exception: ``POST /v1/events`` parses its body with ``mercato.events``
validation, which reports each bad event by index, field and reason instead of rejecting
the whole batch; ``EVENT_SCHEMA`` documents that body in the OpenAPI description.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from mercato.events import EVENT_TYPES, Item, User
from mercato.events.schema import MAX_ID_LENGTH
from mercato.serving.engine import MAX_BATCH

Id = Field(min_length=1, max_length=MAX_ID_LENGTH)
MAX_MINOR = 2**53  # money and stock beyond this lose precision in JSON clients


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ItemFields(_Strict):
    title: str = Field(default="", max_length=1000)
    category: list[str] = Field(default_factory=list, max_length=10, description="category path, most general first")
    price_minor: int | None = Field(default=None, ge=0, le=MAX_MINOR, description="price in minor units (cents)")
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    brand: str | None = Field(default=None, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)
    stock: int | None = Field(default=None, ge=0, le=MAX_MINOR, description="None: not tracked; 0: out of stock")
    created_at: AwareDatetime | None = None

    def to_item(self, item_id: str) -> Item:
        fields = self.model_dump(exclude={"item_id"})
        return Item(item_id=item_id, **{**fields, "category": tuple(self.category)})


class ItemWithId(ItemFields):
    item_id: str = Id


class ItemBatch(_Strict):
    items: list[ItemWithId] = Field(max_length=MAX_BATCH)


class UserFields(_Strict):
    attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: AwareDatetime | None = None

    def to_user(self, user_id: str) -> User:
        return User(user_id=user_id, attributes=self.attributes, created_at=self.created_at)


class UserWithId(UserFields):
    user_id: str = Id


class UserBatch(_Strict):
    users: list[UserWithId] = Field(max_length=MAX_BATCH)


class SessionRequest(_Strict):
    item_ids: list[str] = Field(max_length=200, description="the session's items, oldest first")
    k: int = Field(default=10, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=999)
    category: str | None = None
    min_price: int | None = Field(default=None, ge=0)
    max_price: int | None = Field(default=None, ge=0)
    diversity: float = Field(default=0.0, ge=0.0, le=1.0)
    exclude: list[str] = Field(default_factory=list, max_length=1000)


class RecommendedItem(BaseModel):
    item_id: str
    title: str
    score: float
    reason: str


class RecommendationList(BaseModel):
    model_version: int | None
    items: list[RecommendedItem]


class IngestResponse(BaseModel):
    inserted: int
    duplicates: int
    rejected: int
    errors: list[dict[str, Any]]


class Stored(BaseModel):
    stored: int


EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["event_id", "type", "occurred_at", "user_id"],
    "properties": {
        "event_id": {"type": "string", "description": "unique; a repeated id is stored once (idempotency)"},
        "type": {"type": "string", "enum": sorted(EVENT_TYPES)},
        "occurred_at": {"type": "string", "format": "date-time", "description": "with a timezone"},
        "user_id": {"type": "string"},
        "session_id": {"type": "string"},
        "item_id": {"type": "string", "description": "required for item events (view, purchase, …)"},
        "quantity": {"type": "integer"},
        "amount_minor": {"type": "integer"},
        "currency": {"type": "string"},
        "order_id": {"type": "string"},
        "attrs": {"type": "object"},
    },
}
EVENTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        EVENT_SCHEMA,
                        {"type": "array", "items": EVENT_SCHEMA, "maxItems": MAX_BATCH},
                        {
                            "type": "object",
                            "required": ["events"],
                            "properties": {"events": {"type": "array", "items": EVENT_SCHEMA, "maxItems": MAX_BATCH}},
                        },
                    ]
                }
            }
        },
    }
}


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
