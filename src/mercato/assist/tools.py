"""Tools that read the shop's store: order status, return eligibility, product facts.

Orders are the purchase and return events sharing an ``order_id`` (importers turn an invoice
into one; see ``mercato.importers.online_retail``). The tools only ever read the signed-in
user's own history: an order id that is not among that user's orders gets the same answer
whether it does not exist or belongs to someone else, so the assistant can neither show nor
confirm another customer's order (no enumeration of order numbers by guessing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from mercato.events.schema import Item

# Order ids as shops write them: digits, maybe a letter prefix (Online Retail: 536365, C536379).
ORDER_ID = re.compile(r"(?<![\w-])#?([A-Za-z]{0,3}-?\d{4,}[A-Za-z0-9-]*)(?![\w-])")


def order_ids_in(text: str) -> list[str]:
    return list(dict.fromkeys(match.group(1) for match in ORDER_ID.finditer(text)))


@dataclass
class ToolResult:
    name: str
    status: str  # e.g. "found", "not_found", "sign_in_required", "need_order_id", "eligible", "not_eligible"
    facts: dict = field(default_factory=dict)
    sources: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Order:
    order_id: str
    placed_at: datetime
    lines: list[tuple[str, int]]  # (item_id, quantity)
    total_minor: int | None
    currency: str | None
    returned_items: list[str]
    status: str


def _orders_of(history: pd.DataFrame) -> dict[str, Order]:
    """The user's orders from their purchase/return events (oldest first). Plain Python over the rows:
    one customer has few events, and a pandas group-by costs more than the whole chat turn's budget."""
    grouped: dict[str, dict] = {}
    for row in history.itertuples(index=False):
        if row.order_id is None or (isinstance(row.order_id, float) and pd.isna(row.order_id)):
            continue
        order = grouped.setdefault(str(row.order_id), {"bought": [], "returned": [], "statuses": [], "placed_at": None,
                                                       "amounts": [], "currency": None})
        if isinstance(row.attrs, dict) and row.attrs.get("status"):
            order["statuses"].append(str(row.attrs["status"]))  # a shop's fulfilment feed: the latest wins
        if row.type == "purchase":
            order["bought"].append((str(row.item_id), 1 if pd.isna(row.quantity) else int(row.quantity)))
            order["placed_at"] = order["placed_at"] or row.occurred_at.to_pydatetime()
            if not pd.isna(row.amount_minor):
                order["amounts"].append(int(row.amount_minor))
            order["currency"] = order["currency"] or row.currency
        elif row.type == "return":
            order["returned"].append(str(row.item_id))
    orders = {}
    for order_id, o in grouped.items():
        if not o["bought"]:
            continue
        status = o["statuses"][-1] if o["statuses"] else ("returned" if o["returned"] else "placed")
        orders[order_id] = Order(order_id, o["placed_at"], o["bought"], sum(o["amounts"]) if o["amounts"] else None,
                                 o["currency"], o["returned"], status)
    return orders


class OrderTools:
    """Order status and return eligibility for the signed-in user, from the store's events."""

    def __init__(self, store, *, return_window_days: int = 30, policy_source: dict | None = None) -> None:
        self.store = store
        self.return_window = timedelta(days=return_window_days)
        self.return_window_days = return_window_days
        self.policy_source = policy_source or {"id": "returns.md#return-window", "title": "Returns and refunds — Return window", "kind": "doc"}

    def _lookup(self, name: str, user_id: str | None, message: str) -> tuple[ToolResult | None, Order | None, str | None]:
        candidates = order_ids_in(message)
        if user_id is None:
            return ToolResult(name, "sign_in_required", {"order_ids": candidates}), None, None
        if not candidates:
            return ToolResult(name, "need_order_id"), None, None
        history = self.store.user_history(user_id, types=["purchase", "return"])
        orders = _orders_of(history)
        for order_id in candidates:
            if order_id in orders:
                return None, orders[order_id], order_id
        return ToolResult(name, "not_found", {"order_id": candidates[0]}), None, candidates[0]

    def order_status(self, user_id: str | None, message: str) -> ToolResult:
        refused, order, _ = self._lookup("order_status", user_id, message)
        if refused is not None:
            return refused
        return ToolResult("order_status", "found", _order_facts(order), [_order_source(order)])

    def return_eligibility(self, user_id: str | None, message: str, now: datetime) -> ToolResult:
        refused, order, _ = self._lookup("return_eligibility", user_id, message)
        if refused is not None:
            return refused
        deadline = order.placed_at + self.return_window
        facts = _order_facts(order) | {
            "return_window_days": self.return_window_days,
            "return_deadline": deadline.date().isoformat(),
            "days_since_order": (now - order.placed_at).days,
        }
        if order.status == "returned" or (order.returned_items and len(order.returned_items) >= len(order.lines)):
            status = "already_returned"
        elif now <= deadline:
            status = "eligible"
        else:
            status = "not_eligible"
        return ToolResult("return_eligibility", status, facts, [_order_source(order), self.policy_source])


def _order_facts(order: Order) -> dict:
    return {
        "order_id": order.order_id,
        "placed_on": order.placed_at.date().isoformat(),
        "items": [{"item_id": item, "quantity": qty} for item, qty in order.lines],
        "total_minor": order.total_minor,
        "currency": order.currency,
        "status": order.status,
        "returned_items": order.returned_items,
    }


def _order_source(order: Order) -> dict:
    return {"id": f"order:{order.order_id}", "title": f"Order {order.order_id}", "kind": "order"}


class ProductTools:
    """Product facts from catalog attributes. The catalog is read once; ``refresh`` re-reads it."""

    def __init__(self, items: list[Item]) -> None:
        self.items = {item.item_id: item for item in items}
        self._lower = {item_id.lower(): item_id for item_id in self.items}

    def item_named_in(self, message: str) -> Item | None:
        for token in re.findall(r"[A-Za-z0-9-]+", message):
            item_id = self._lower.get(token.lower())
            if item_id is not None and any(ch.isdigit() for ch in token):
                return self.items[item_id]
        return None

    def facts(self, item: Item, message: str = "") -> ToolResult:
        facts: dict = {"item_id": item.item_id, "title": item.title}
        if item.category:
            facts["category"] = " > ".join(item.category)
        if item.brand:
            facts["brand"] = item.brand
        if item.price_minor is not None:
            facts["price"] = f"{item.price_minor / 100:.2f} {item.currency or ''}".strip()
        if item.stock is not None:
            facts["in_stock"] = item.stock > 0
        facts["attributes"] = dict(item.attributes)
        asked = [key for key in item.attributes if key.replace("_", " ").lower() in message.lower()]
        facts["asked_attributes"] = asked
        return ToolResult("product_facts", "found", facts, [{"id": f"item:{item.item_id}", "title": item.title or item.item_id, "kind": "item"}])
