"""Where the shared research datasets live, for the tests that read slices of them.

``MERCATO_DATASETS_DIR`` overrides the default, ``../shared/datasets`` beside the project
root; tests that need a dataset skip when its folder is absent (a fresh checkout has none).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def datasets_dir() -> Path:
    return Path(os.environ.get("MERCATO_DATASETS_DIR", PROJECT_ROOT / ".." / "shared" / "datasets"))


@pytest.fixture(scope="session")
def dataset():
    """``dataset("movielens-1m")`` -> that folder, or skip the test when it is absent."""

    def folder(name: str) -> Path:
        path = datasets_dir() / name
        if not path.is_dir():
            pytest.skip(f"dataset folder {path} is absent")
        return path

    return folder
