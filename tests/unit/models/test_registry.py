"""The model registry: rising versions with their metadata, live alias, rollback, digest checks."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from mercato.errors import Conflict, InvalidInput, NotFound
from mercato.models.registry import ModelRegistry
from mercato.models.slot import ModelSlot
from mercato.recommend.interactions import Interactions
from mercato.recommend.popularity import PopularityRecommender


def fitted(n_items: int = 3) -> PopularityRecommender:
    sequences = [[f"i{j}" for j in range(n_items)], ["i0"]]
    return PopularityRecommender().fit(Interactions.from_sequences(sequences))


def test_versions_rise_and_keep_params_metrics_window_and_digest(tmp_path):
    registry = ModelRegistry(tmp_path)
    first = registry.publish(fitted(), metrics={"fit_s": 0.1}, window={"events": 4})
    second = registry.publish(fitted(4))
    assert (first.version, second.version) == (1, 2)
    again = registry.get(1)
    assert again.params == {"half_life_days": None} and again.metrics == {"fit_s": 0.1}
    assert again.window == {"events": 4} and len(again.digest) == 64 and again.model == "popularity"
    assert [v.version for v in registry.versions()] == [1, 2]
    assert registry.load(2).item_ids.tolist() == ["i0", "i1", "i2", "i3"]
    with pytest.raises(NotFound):
        registry.get(3)
    with pytest.raises(InvalidInput):
        registry.get(0)


def test_live_alias_promote_and_rollback(tmp_path):
    registry = ModelRegistry(tmp_path)
    assert registry.live_version() is None
    for n in (2, 3, 4):
        registry.publish(fitted(n), promote=True)
    assert registry.live_version() == 3
    registry.promote(1)
    assert registry.rollback().version == 3
    assert registry.rollback().version == 2
    assert registry.rollback().version == 1
    with pytest.raises(Conflict, match="roll back"):
        registry.rollback()


def test_a_tampered_artifact_is_refused(tmp_path):
    registry = ModelRegistry(tmp_path)
    registry.publish(fitted(), promote=True)
    registry.publish(fitted(4))
    arrays = tmp_path / "versions" / "2" / "artifact" / "arrays.npz"
    data = bytearray(arrays.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    arrays.write_bytes(bytes(data))
    with pytest.raises(Conflict, match="digest"):
        registry.load(2)
    with pytest.raises(Conflict, match="digest"):
        registry.promote(2)
    assert registry.live_version() == 1


def test_concurrent_publishers_get_distinct_versions(tmp_path):
    registry = ModelRegistry(tmp_path)
    with ThreadPoolExecutor(4) as pool:
        versions = list(pool.map(lambda n: registry.publish(fitted(2 + n % 3)).version, range(12)))
    assert sorted(versions) == list(range(1, 13))


def test_slot_follows_the_live_alias(tmp_path):
    registry = ModelRegistry(tmp_path)
    slot = ModelSlot()
    assert slot.sync(registry) is None
    registry.publish(fitted(), promote=True)
    first = slot.sync(registry)
    assert first.version.version == 1 and slot.sync(registry) is first  # unchanged: no reload
    registry.publish(fitted(4), promote=True)
    assert slot.sync(registry).version.version == 2 and slot.swaps == 2



def test_train_command_publishes_and_promotes(tmp_path, capsys, monkeypatch):
    import json

    from mercato.cli import main
    from mercato.serving.testing import events
    from mercato.storage import open_store

    monkeypatch.setenv("MERCATO_MODEL_DIR", str(tmp_path / "models"))
    store = f"sqlite:///{tmp_path / 'm.db'}"
    with open_store(store) as opened:
        opened.ingest(events())
    args = ["--store", store, "train", "--model", "itemknn", "--types", "view", "purchase", "--out", str(tmp_path / "out")]
    assert main([*args, "--promote"]) == 0
    assert json.loads(capsys.readouterr().out)["registry_version"] == 1
    registry = ModelRegistry(tmp_path / "models" / "registry")
    assert registry.live_version() == 1 and registry.get(1).source == "cli"
    assert registry.get(1).metrics["interactions"] == len([e for e in events() if e["type"] in ("view", "purchase")])
