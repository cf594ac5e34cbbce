"""Model names -> classes: the closed list the CLI, the evaluation harness and ``load`` accept."""

from __future__ import annotations

from mercato.errors import InvalidInput


def _classes() -> dict[str, type]:
    # Imported here so that importing the registry does not load every model's dependencies.
    from mercato.recommend.als import ALSRecommender
    from mercato.recommend.ease import EASERecommender
    from mercato.recommend.itemknn import ItemKNNRecommender
    from mercato.recommend.popularity import PopularityRecommender
    from mercato.recommend.sasrec import SASRecRecommender

    classes = (PopularityRecommender, ItemKNNRecommender, EASERecommender, ALSRecommender, SASRecRecommender)
    return {cls.name: cls for cls in classes}


def model_names() -> list[str]:
    return sorted(_classes())


def model_class(name: str) -> type:
    classes = _classes()
    if name not in classes:
        raise InvalidInput(f"unknown model '{name}'; choose one of {sorted(classes)}")
    return classes[name]


def create_model(name: str, **params):
    return model_class(name)(**params)
