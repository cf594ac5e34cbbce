"""The harness against published reference numbers on real data (skips without the datasets).

Sanity reference from the foundation issue, measured with full ranking on amazon-beauty
leave-one-out with history items excluded: EASE (λ=500, trained on all but the last item)
HR@10 ≈ 0.073 / NDCG@10 ≈ 0.040, popularity ≈ 0.014 / 0.006. The S3-Rec repository's
full-ranking table gives PopRec HR@10 0.0152 on the same files.
"""

import pytest

from mercato.evaluation.datasets import load_split
from mercato.evaluation.runner import evaluate
from mercato.recommend.registry import create_model


@pytest.fixture(scope="module")
def beauty_split(dataset):
    folder = dataset("amazon-beauty")
    return load_split("amazon-beauty", folder.parent)


def test_beauty_split_matches_published_shape(beauty_split):
    assert beauty_split.n_cases == 22_363
    assert len(beauty_split.train) == 198_502 - 22_363


def test_popularity_lands_on_reference(beauty_split):
    metrics = evaluate(beauty_split, create_model("popularity"))["metrics"]
    assert metrics["hr@10"] == pytest.approx(0.014, abs=0.002)
    assert metrics["ndcg@10"] == pytest.approx(0.006, abs=0.001)


def test_ease_lands_on_reference(beauty_split):
    metrics = evaluate(beauty_split, create_model("ease", l2=500.0))["metrics"]
    assert metrics["hr@10"] == pytest.approx(0.073, abs=0.003)
    assert metrics["ndcg@10"] == pytest.approx(0.040, abs=0.002)
