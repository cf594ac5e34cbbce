"""Per-dataset default hyper-parameters of each baseline, chosen on the validation split.

``mercato evaluate`` and the benchmarks start from these; ``--param KEY=VALUE`` overrides.
"""

from __future__ import annotations

import inspect

from mercato.recommend.base import Recommender
from mercato.recommend.registry import model_class

# (dataset, model) -> params. Datasets not listed use the model's own defaults.
DEFAULT_PARAMS: dict[tuple[str, str], dict] = {
    ("amazon-beauty", "ease"): {"l2": 500.0},
    # The sequential model: each dataset's wall-clock budget from the transformer issue.
    ("amazon-beauty", "sasrec"): {"max_len": 50, "dropout": 0.5, "max_minutes": 20.0},
    ("movielens-1m", "sasrec"): {"max_len": 200, "dropout": 0.2, "max_minutes": 60.0},
    ("diginetica", "sasrec"): {"max_len": 20, "dropout": 0.2, "valid_mode": "tail", "valid_exclude_seen": False, "max_minutes": 30.0},
    ("yoochoose-1-64", "sasrec"): {"max_len": 20, "dropout": 0.2, "valid_mode": "tail", "valid_exclude_seen": False, "max_minutes": 30.0},
}


def model_for(
    dataset: str | None, name: str, *, seed: int = 0, item_attributes: dict | None = None, **overrides
) -> Recommender:
    """The model with the dataset's defaults, the seed, and side features if it takes them."""
    cls = model_class(name)
    params = {**DEFAULT_PARAMS.get((dataset, name), {}), **overrides}
    accepted = inspect.signature(cls.__init__).parameters
    if "random_state" in accepted:
        params.setdefault("random_state", seed)
    if "item_attributes" in accepted and item_attributes:
        params.setdefault("item_attributes", item_attributes)
    return cls(**params)
