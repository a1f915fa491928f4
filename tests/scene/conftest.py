import numpy as np
import pytest

from simfarm.scene import build_scene, sample_scene

PROGRAMS = ("kitchen", "living_room", "workshop")


@pytest.fixture(scope="module")
def kitchen_built():
    return build_scene(sample_scene("kitchen", np.random.default_rng(7)))


@pytest.fixture
def fresh_asset_cache(tmp_path, monkeypatch):
    """An empty asset cache folder and an empty in-memory mesh cache for one test."""
    from simfarm.scene import meshes

    monkeypatch.setenv("SIMFARM_CACHE", str(tmp_path / "cache"))
    meshes._MEMO.clear()
    yield
    meshes._MEMO.clear()
