"""Business rules applied to every recommendation list, and the reason each item carries.

The model says how relevant each item is; the rules say which items may be shown at all and
in what mix:

- never an item that is out of stock or not in the catalog;
- never an item the user bought, unless the request says otherwise;
- category and price filters; no duplicates; pages that do not repeat each other;
- a diversity knob: maximal marginal relevance (Carbonell & Goldstein 1998) with
  "same top-level category" as the similarity, so diversity=0 is pure relevance and
  diversity=1 cycles through categories.

``Catalog`` is an immutable snapshot of the items as arrays (one row per item) so that the
filters are vectorized; a catalog change builds a new snapshot and swaps the reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from mercato.errors import InvalidInput
from mercato.events.schema import Item

MAX_PAGE_END = 1000  # offset + k: deeper pages cost more than any shop shows


@dataclass(frozen=True)
class Catalog:
    """The catalog as arrays. ``position`` maps an item id to its row."""

    items: tuple[Item, ...]
    item_ids: np.ndarray  # (n,) str
    in_stock: np.ndarray  # (n,) bool: stock None (not tracked) counts as in stock
    price_minor: np.ndarray  # (n,) float64, NaN when unknown
    top_category: np.ndarray  # (n,) int32 code of category[0], -1 when none
    category_names: tuple[str, ...]  # code -> name
    position: dict[str, int] = field(repr=False)

    @classmethod
    def build(cls, items: Iterable[Item]) -> Catalog:
        by_id = {item.item_id: item for item in items}
        ordered = tuple(by_id[key] for key in sorted(by_id))
        names = sorted({item.category[0] for item in ordered if item.category})
        code = {name: i for i, name in enumerate(names)}
        return cls(
            items=ordered,
            item_ids=np.array([item.item_id for item in ordered], dtype=object),
            in_stock=np.array([item.stock is None or item.stock > 0 for item in ordered], dtype=bool),
            price_minor=np.array(
                [np.nan if item.price_minor is None else float(item.price_minor) for item in ordered], dtype=np.float64
            ),
            top_category=np.array([code[item.category[0]] if item.category else -1 for item in ordered], dtype=np.int32),
            category_names=tuple(names),
            position={item.item_id: i for i, item in enumerate(ordered)},
        )

    def updated(self, items: Iterable[Item]) -> Catalog:
        """A new snapshot with ``items`` inserted or replaced."""
        merged = {item.item_id: item for item in self.items}
        merged.update((item.item_id, item) for item in items)
        return Catalog.build(merged.values())

    def __len__(self) -> int:
        return len(self.items)

    def get(self, item_id: str) -> Item | None:
        pos = self.position.get(item_id)
        return None if pos is None else self.items[pos]

    def positions(self, item_ids: Iterable[str]) -> np.ndarray:
        return np.array([self.position.get(i, -1) for i in item_ids], dtype=np.int64)

    def title(self, item_id: str) -> str:
        item = self.get(item_id)
        return item.title if item is not None and item.title else item_id


@dataclass(frozen=True)
class ListRequest:
    """What the caller asked for, already validated."""

    k: int = 10
    offset: int = 0
    category: str | None = None
    min_price_minor: int | None = None
    max_price_minor: int | None = None
    exclude_purchased: bool = True
    diversity: float = 0.0
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.k <= 100:
            raise InvalidInput(f"k must be between 1 and 100, got {self.k}", field="k")
        if not 0 <= self.offset:
            raise InvalidInput(f"offset must be >= 0, got {self.offset}", field="offset")
        if self.offset + self.k > MAX_PAGE_END:
            raise InvalidInput(f"offset + k must be at most {MAX_PAGE_END}, got {self.offset + self.k}", field="offset")
        if not 0.0 <= self.diversity <= 1.0:
            raise InvalidInput(f"diversity must be between 0 and 1, got {self.diversity}", field="diversity")
        if (
            self.min_price_minor is not None
            and self.max_price_minor is not None
            and self.min_price_minor > self.max_price_minor
        ):
            raise InvalidInput("min_price must not exceed max_price", field="min_price")


def allowed_mask(catalog: Catalog, request: ListRequest, banned: Iterable[str] = ()) -> np.ndarray:
    """(n,) bool: the catalog items the rules allow for this request."""
    mask = catalog.in_stock.copy()
    if request.category is not None:
        mask &= np.array([request.category in item.category for item in catalog.items], dtype=bool)
    if request.min_price_minor is not None:
        mask &= catalog.price_minor >= request.min_price_minor  # NaN (unknown price) compares False
    if request.max_price_minor is not None:
        mask &= catalog.price_minor <= request.max_price_minor
    positions = catalog.positions([*banned, *request.exclude])
    mask[positions[positions >= 0]] = False
    return mask


def select(catalog: Catalog, scores: np.ndarray, mask: np.ndarray, request: ListRequest) -> list[tuple[int, float]]:
    """The page ``[offset, offset + k)`` of the ranked allowed items, as (catalog row, score).

    Scores are (n,) over the catalog; disallowed and non-finite scores never appear. The
    whole list up to the page end is ranked the same way for every page, so consecutive
    pages of an unchanged state never repeat an item.
    """
    end = request.offset + request.k
    allowed = np.flatnonzero(mask & np.isfinite(scores))
    if len(allowed) == 0:
        return []
    # MMR only reorders a shortlist: three times the page end is plenty to draw categories from.
    shortlist_size = min(len(allowed), end * 3 if request.diversity > 0 else end)
    top = allowed[np.argpartition(-scores[allowed], shortlist_size - 1)[:shortlist_size]]
    top = top[np.lexsort((top, -scores[top]))]  # best first; ties by catalog row, deterministic
    ranked = mmr_order(top, scores[top], catalog.top_category[top], request.diversity, end)
    return [(int(row), float(scores[row])) for row in ranked[request.offset : end]]


def mmr_order(rows: np.ndarray, relevance: np.ndarray, categories: np.ndarray, diversity: float, n: int) -> list[int]:
    """Greedy MMR: next = argmax (1 - diversity) · relevance - diversity · [category already shown].

    ``rows`` are sorted by relevance; relevance is rescaled to [0, 1] within the shortlist so
    that the knob means the same whatever the model's score scale. Items without a category
    (-1) never count as similar to each other.
    """
    if diversity <= 0 or len(rows) == 0:
        return [int(r) for r in rows[:n]]
    low, high = float(relevance.min()), float(relevance.max())
    scaled = (relevance - low) / (high - low) if high > low else np.ones_like(relevance)
    chosen: list[int] = []
    shown: set[int] = set()
    remaining = np.ones(len(rows), dtype=bool)
    while len(chosen) < min(n, len(rows)):
        penalty = np.array([c >= 0 and c in shown for c in categories], dtype=np.float64)
        value = (1 - diversity) * scaled - diversity * penalty
        value[~remaining] = -np.inf
        best = int(np.argmax(value))  # argmax takes the first of equals: the more relevant
        remaining[best] = False
        chosen.append(int(rows[best]))
        shown.add(int(categories[best]))
    return chosen


# ---- reasons ----------------------------------------------------------------------------

_VERBS = {"purchase": "bought", "add_to_cart": "added to your cart", "rating": "rated"}


def because_of(event_type: str, title: str) -> str:
    return f"because you {_VERBS.get(event_type, 'viewed')} {title}"


def bought_with(title: str) -> str:
    return f"often bought with {title}"


def popular_reason(catalog: Catalog, row: int) -> str:
    code = int(catalog.top_category[row])
    return f"popular in {catalog.category_names[code]}" if code >= 0 else "popular right now"


def strongest_source(contributions: Sequence[np.ndarray], row: int) -> int | None:
    """Index of the history item whose contribution to ``row`` is largest, or None if all are 0."""
    best, best_value = None, 0.0
    for i, contribution in enumerate(contributions):
        value = float(contribution[row])
        if value > best_value:
            best, best_value = i, value
    return best
