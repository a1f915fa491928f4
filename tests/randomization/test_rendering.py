"""Randomization seen through a real offscreen renderer (MUJOCO_GL=egl)."""

import mujoco
import numpy as np
import pytest

from simfarm.randomization import ModelRandomizer, load_preset
from simfarm.randomization.synthetic import synthetic_model
from simfarm.render import CameraRenderer


@pytest.fixture
def scene():
    model = synthetic_model(4, 3)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    renderer = CameraRenderer(model, 64, 64)
    yield model, data, renderer
    renderer.close()


def test_heavy_randomization_changes_the_rendered_image_and_replay_restores_it(scene):
    model, data, renderer = scene
    nominal = renderer.render(data, "workspace").copy()
    randomizer = ModelRandomizer(model, "heavy")
    values = randomizer.apply(model, np.random.default_rng(1))
    mujoco.mj_forward(model, data)  # camera poses come from kinematics
    randomized = renderer.render(data, "workspace").copy()
    assert np.abs(randomized.astype(int) - nominal.astype(int)).mean() > 2.0

    randomizer.apply_values(model, {})
    mujoco.mj_forward(model, data)
    assert np.array_equal(renderer.render(data, "workspace"), nominal)
    randomizer.apply_values(model, values)
    mujoco.mj_forward(model, data)
    assert np.array_equal(renderer.render(data, "workspace"), randomized)


def test_image_noise_applies_to_a_rendered_frame(scene):
    model, data, renderer = scene
    frame = renderer.render(data, "workspace").copy()
    noisy = load_preset("heavy").noisy_image(frame, np.random.default_rng(0))
    assert noisy.shape == frame.shape and noisy.dtype == np.uint8
    assert 3.0 < np.std(noisy.astype(float) - frame.astype(float)) < 9.0
