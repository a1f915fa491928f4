import numpy as np
import pytest

from simfarm.scene import build_scene, sample_scene

PROGRAMS = ("kitchen", "living_room", "workshop")


@pytest.fixture(scope="module")
def kitchen_built():
    return build_scene(sample_scene("kitchen", np.random.default_rng(7)))
