"""Every per-dataset default is a setting its model accepts (a typo or a bad value fails here, not
an hour into a benchmark run)."""

import pytest

from mercato.recommend.defaults import DEFAULT_PARAMS, model_for


@pytest.mark.parametrize(("dataset", "name"), sorted(DEFAULT_PARAMS))
def test_defaults_build_a_model_with_those_settings(dataset, name):
    model = model_for(dataset, name, seed=3)
    for key, value in DEFAULT_PARAMS[(dataset, name)].items():
        assert model.params[key] == value
    if hasattr(model, "_validate_params"):
        model._validate_params()  # the value checks fit() runs first
