import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mercato.evaluation.metrics import RankingMetrics, reference_ranks
from mercato.recommend.base import top_k_indices

N_ITEMS = 25


def _top(first: list[int]) -> np.ndarray:
    """A full ranking whose head is ``first`` and whose tail is the other items in index order."""
    rest = [i for i in range(N_ITEMS) if i not in first]
    return np.array([first + rest])


def test_single_target_at_rank_two_hand_computed():
    m = RankingMetrics(N_ITEMS)
    m.update(_top([3, 1, 2]), [np.array([1])])
    r = m.result()
    assert r["hr@10"] == 1.0
    assert r["ndcg@10"] == pytest.approx(1 / math.log2(3))
    assert r["mrr@10"] == pytest.approx(0.5)
    assert r["recall@20"] == 1.0


def test_two_targets_hand_computed():
    m = RankingMetrics(N_ITEMS)
    m.update(_top([3, 1, 2]), [np.array([1, 2])])
    r = m.result()
    dcg = 1 / math.log2(3) + 1 / math.log2(4)
    idcg = 1 + 1 / math.log2(3)
    assert r["ndcg@10"] == pytest.approx(dcg / idcg)
    assert r["recall@10"] == 1.0
    assert r["mrr@10"] == pytest.approx(0.5)


def test_target_past_cutoff_counts_for_20_not_10():
    m = RankingMetrics(N_ITEMS)
    head = list(range(10, 25))  # 15 items before target 0
    m.update(_top(head + [0]), [np.array([0])])
    r = m.result()
    assert r["hr@10"] == 0.0 and r["ndcg@10"] == 0.0
    assert r["hr@20"] == 1.0
    assert r["mrr@20"] == pytest.approx(1 / 16)


def test_unknown_target_is_a_miss_and_still_counted():
    m = RankingMetrics(N_ITEMS)
    m.update(np.vstack([_top([5]), _top([5])]), [np.array([5]), np.array([-1])])
    r = m.result()
    assert m.n_cases == 2
    assert r["hr@10"] == 0.5
    assert r["ndcg@10"] == 0.5


def test_coverage_counts_distinct_recommended_items():
    m = RankingMetrics(N_ITEMS)
    top = np.vstack([_top([]), _top([]), _top(list(range(10, 20)))])
    m.update(top, [np.array([0])] * 3)
    assert m.result()["coverage@10"] == pytest.approx(20 / N_ITEMS)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8))
def test_fast_path_matches_full_sort_reference(seed, batch):
    rng = np.random.default_rng(seed)
    scores = rng.permutation(batch * N_ITEMS).reshape(batch, N_ITEMS).astype(np.float64)  # no ties
    targets = rng.integers(0, N_ITEMS, size=batch)
    m = RankingMetrics(N_ITEMS)
    m.update(top_k_indices(scores, 20), [np.array([t]) for t in targets])
    ranks = [reference_ranks(s, t) for s, t in zip(scores, targets)]
    expected_hr10 = np.mean([0 <= r < 10 for r in ranks])
    expected_ndcg10 = np.mean([1 / math.log2(r + 2) if 0 <= r < 10 else 0.0 for r in ranks])
    expected_mrr20 = np.mean([1 / (r + 1) if 0 <= r < 20 else 0.0 for r in ranks])
    r = m.result()
    assert r["hr@10"] == pytest.approx(expected_hr10)
    assert r["ndcg@10"] == pytest.approx(expected_ndcg10)
    assert r["mrr@20"] == pytest.approx(expected_mrr20)


def test_top_k_orders_ties_by_index():
    scores = np.array([[1.0, 3.0, 3.0, 2.0, 0.0]])
    assert top_k_indices(scores, 3).tolist() == [[1, 2, 3]]
    assert top_k_indices(scores, 10).tolist() == [[1, 2, 3, 0, 4]]
