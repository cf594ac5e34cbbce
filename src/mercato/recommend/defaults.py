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
}


def model_for(dataset: str | None, name: str, *, seed: int = 0, **overrides) -> Recommender:
    cls = model_class(name)
    params = {**DEFAULT_PARAMS.get((dataset, name), {}), **overrides}
    if "random_state" in inspect.signature(cls.__init__).parameters:
        params.setdefault("random_state", seed)
    return cls(**params)
