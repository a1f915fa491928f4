"""Camera realism (exposure, white balance, blur, JPEG, lens distortion): RGB only, seeded, recorded."""

from __future__ import annotations

import numpy as np
import pytest

from simfarm.envs import SimfarmEnv
from simfarm.errors import RandomizationError
from simfarm.randomization.camera_effects import CameraEffects, blur, distort
from simfarm.randomization.presets import load_preset

SIZE = (48, 64)
CAMERA_ONLY = {"name": "camera_only", "sensor": {
    "exposure": {"dist": "log_uniform", "low": 0.7, "high": 1.4},
    "white_balance": {"dist": "uniform", "low": [0.9, 0.95, 0.9], "high": [1.1, 1.05, 1.1]},
    "blur_sigma_px": {"dist": "uniform", "low": 0.3, "high": 1.0},
    "jpeg_quality": {"dist": "choice", "values": [40, 70]},
    "lens_k1": {"dist": "uniform", "low": -0.1, "high": -0.03},
}}


def _image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, 64)[None, :, None] * np.ones((48, 1, 3))
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


def test_camera_effects_change_rgb_but_never_depth_or_segmentation():
    plain = SimfarmEnv(scene="kitchen", obs_mode="rgb+depth+segmentation", camera_size=SIZE, randomization="none")
    camera = SimfarmEnv(scene="kitchen", obs_mode="rgb+depth+segmentation", camera_size=SIZE, randomization=CAMERA_ONLY)
    a, info_a = plain.reset(seed=3)
    b, info_b = camera.reset(seed=3)
    for cam in plain.config.cameras:
        assert not np.array_equal(a["images"][cam], b["images"][cam])
        assert a["images"][cam].shape == b["images"][cam].shape and b["images"][cam].dtype == np.uint8
        np.testing.assert_array_equal(a["depth"][cam], b["depth"][cam])
        np.testing.assert_array_equal(a["segmentation"][cam], b["segmentation"][cam])
    plain.close()
    camera.close()


def test_camera_effects_are_seeded_and_recorded():
    env = SimfarmEnv(scene="tabletop", obs_mode="rgb", camera_size=SIZE, randomization=CAMERA_ONLY)
    first, _ = env.reset(seed=5)
    recorded = env.episode_info["randomization"]["camera"]
    again, _ = env.reset(seed=5)
    assert env.episode_info["randomization"]["camera"] == recorded
    for cam in env.config.cameras:
        np.testing.assert_array_equal(first["images"][cam], again["images"][cam])
    other, _ = env.reset(seed=6)
    assert env.episode_info["randomization"]["camera"] != recorded
    assert set(recorded) == {"exposure", "white_balance", "blur_sigma_px", "jpeg_quality", "lens_k1"}
    assert 0.7 <= recorded["exposure"][0] <= 1.4 and recorded["jpeg_quality"][0] in (40.0, 70.0)
    env.close()


def test_presets_without_camera_effects_keep_their_sensor_and_timing_draws():
    # The effects draw from a stream derived from the sensor stream: the pixel noise and the
    # action delay of the same preset without them are unchanged.
    with_fx = load_preset({"sensor": {"image_noise_std": 3.0, **CAMERA_ONLY["sensor"]}})
    without = load_preset({"sensor": {"image_noise_std": 3.0}})
    img = _image()
    r1, r2 = np.random.default_rng(1), np.random.default_rng(1)
    fx = with_fx.camera.draw(r1)
    assert not fx.is_identity and without.camera.draw(r2).is_identity
    assert r1.random() == r2.random()
    np.testing.assert_array_equal(without.camera_image(img, CameraEffects(), np.random.default_rng(4)),
                                  without.noisy_image(img, np.random.default_rng(4)))


def test_each_effect_does_what_it_says():
    img = _image()
    bright = CameraEffects(exposure=1.3).apply(img)
    assert bright.mean() > img.mean() * 1.15
    warm = CameraEffects(white_balance=(1.2, 1.0, 0.8)).apply(img)
    assert warm[..., 0].mean() > img[..., 0].mean() and warm[..., 2].mean() < img[..., 2].mean()
    soft = blur(img, 1.0)
    assert np.abs(np.diff(soft.astype(int), axis=1)).mean() < 0.6 * np.abs(np.diff(img.astype(int), axis=1)).mean()
    assert abs(float(soft.mean()) - float(img.mean())) < 1.0  # a blur keeps the mean
    jpeg = CameraEffects(jpeg_quality=30).apply(img)
    assert not np.array_equal(jpeg, img) and np.abs(jpeg.astype(int) - img).mean() < 25
    # Barrel distortion (k1 < 0) pulls the edge content inward: the centre row stays, the columns move.
    ramp = np.repeat(np.repeat(np.arange(64, dtype=np.uint8)[None, :, None] * 4, 48, 0), 3, 2)
    barrel = distort(ramp, -0.2)
    assert barrel[24, 32, 0] == pytest.approx(ramp[24, 32, 0], abs=4)
    assert barrel[24, 2, 0] > ramp[24, 2, 0] + 4 and barrel[24, 61, 0] < ramp[24, 61, 0] - 4
    np.testing.assert_array_equal(distort(ramp, 0.0), ramp)


def test_bad_camera_settings_fail_when_the_preset_loads():
    with pytest.raises(RandomizationError, match=r"sensor\.jpeg_quality"):
        load_preset({"sensor": {"jpeg_quality": {"dist": "uniform", "low": 0, "high": 120}}})
    with pytest.raises(RandomizationError, match=r"sensor\.white_balance"):
        load_preset({"sensor": {"white_balance": {"dist": "uniform", "low": [0.9, 0.9], "high": [1.1, 1.1]}}})
