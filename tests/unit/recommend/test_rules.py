"""Business rules: filters, pages, MMR diversity, reasons — each against a hand-computed answer."""

from __future__ import annotations

import numpy as np
import pytest

from mercato.errors import InvalidInput
from mercato.events import Item
from mercato.recommend import rules
from mercato.recommend.rules import Catalog, ListRequest


def shop() -> Catalog:
    return Catalog.build(
        [
            Item("a1", title="A one", category=("a",), price_minor=100, stock=5),
            Item("a2", title="A two", category=("a", "sub"), price_minor=200),
            Item("a3", category=("a",), price_minor=300, stock=0),  # out of stock
            Item("b1", category=("b",), price_minor=None),
            Item("b2", category=("b",), price_minor=500),
            Item("c1"),
        ]
    )


SCORES = np.array([6.0, 5.0, 9.0, 4.0, 3.0, 1.0])  # rows follow item id order: a1 a2 a3 b1 b2 c1


def ranked(request: ListRequest, banned=()) -> list[str]:
    catalog = shop()
    mask = rules.allowed_mask(catalog, request, banned)
    return [catalog.item_ids[row] for row, _ in rules.select(catalog, SCORES, mask, request)]


def test_out_of_stock_and_banned_items_never_appear():
    assert ranked(ListRequest(k=10)) == ["a1", "a2", "b1", "b2", "c1"]
    assert ranked(ListRequest(k=10, exclude=("a1",)), banned={"b1"}) == ["a2", "b2", "c1"]


def test_category_matches_any_level_and_price_needs_a_known_price():
    assert ranked(ListRequest(k=10, category="sub")) == ["a2"]
    assert ranked(ListRequest(k=10, category="b")) == ["b1", "b2"]
    assert ranked(ListRequest(k=10, min_price_minor=150, max_price_minor=500)) == ["a2", "b2"]


def test_pages_partition_the_ranking():
    pages = [ranked(ListRequest(k=2, offset=o)) for o in (0, 2, 4)]
    assert pages == [["a1", "a2"], ["b1", "b2"], ["c1"]]


def test_mmr_alternates_categories_at_full_diversity_and_keeps_relevance_at_zero():
    assert ranked(ListRequest(k=4, diversity=0.0)) == ["a1", "a2", "b1", "b2"]
    assert ranked(ListRequest(k=4, diversity=1.0)) == ["a1", "b1", "c1", "a2"]
    # Half diversity, relevance rescaled to [0, 1] (a2: 0.8, b1: 0.6): after a1, a2 is worth
    # 0.5·0.8 − 0.5 = −0.1 and b1 0.5·0.6 = 0.3, so b1 comes second.
    assert ranked(ListRequest(k=2, diversity=0.5)) == ["a1", "b1"]


def test_uncategorized_items_are_never_similar_to_each_other():
    rows = np.array([0, 1, 2])
    assert rules.mmr_order(rows, np.array([3.0, 2.0, 1.0]), np.array([-1, -1, 0]), 1.0, 3) == [0, 1, 2]


def test_non_finite_scores_are_dropped():
    catalog = shop()
    scores = SCORES.copy()
    scores[0] = -np.inf
    request = ListRequest(k=10)
    assert "a1" not in [catalog.item_ids[r] for r, _ in rules.select(catalog, scores, rules.allowed_mask(catalog, request), request)]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"k": 0}, "k"), ({"offset": -1}, "offset"), ({"k": 100, "offset": 950}, "offset"), ({"diversity": 1.5}, "diversity"),
     ({"min_price_minor": 5, "max_price_minor": 1}, "min_price")],
)
def test_bad_requests_name_the_field(kwargs, field):
    with pytest.raises(InvalidInput) as info:
        ListRequest(**kwargs)
    assert info.value.field == field


def test_reasons():
    catalog = shop()
    assert rules.because_of("purchase", "A one") == "because you bought A one"
    assert rules.because_of("view", "A one") == "because you viewed A one"
    assert rules.bought_with("A one") == "often bought with A one"
    assert rules.popular_reason(catalog, catalog.position["b2"]) == "popular in b"
    assert rules.popular_reason(catalog, catalog.position["c1"]) == "popular right now"
    assert rules.strongest_source([np.array([0.0, 1.0]), np.array([0.0, 2.0])], 1) == 1
    assert rules.strongest_source([np.array([0.0, 1.0])], 0) is None


def test_catalog_update_is_a_new_snapshot():
    old = shop()
    new = old.updated([Item("a3", stock=2), Item("z9", category=("z",))])
    assert not old.in_stock[old.position["a3"]] and new.in_stock[new.position["a3"]]
    assert old.get("z9") is None and new.get("z9").category == ("z",)
    assert new.title("a1") == "A one" and new.title("z9") == "z9"
