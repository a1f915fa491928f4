"""Stats aggregated from episodes equal stats computed over all frames at once."""

from __future__ import annotations

import numpy as np
import pytest

from simfarm.errors import ConfigError
from simfarm.writers import DatasetSpec, validate_config
from simfarm.writers import stats as stats_mod
from simfarm.writers.synthetic import synthetic_episode


def test_aggregated_episode_stats_equal_stats_of_all_frames():
    rng = np.random.default_rng(0)
    parts = [rng.normal(i, 1 + i, (n, 4)) for i, n in enumerate((5, 17, 40))]
    agg = stats_mod.aggregate([{"x": stats_mod.array_stats(p)} for p in parts])["x"]
    full = np.concatenate(parts)
    np.testing.assert_allclose(agg["mean"], full.mean(0))
    np.testing.assert_allclose(agg["std"], full.std(0))
    np.testing.assert_allclose(agg["min"], full.min(0))
    np.testing.assert_allclose(agg["max"], full.max(0))
    assert agg["count"].tolist() == [62]


def test_image_stats_are_per_channel_in_unit_range():
    frames = synthetic_episode(0, 12).images["workspace"]
    st = stats_mod.image_stats(frames)
    assert st["mean"].shape == (3, 1, 1) and st["count"].tolist() == [12]
    np.testing.assert_allclose(st["mean"].reshape(3), frames.reshape(-1, 3).mean(0) / 255.0)
    assert 0.0 <= st["min"].min() and st["max"].max() <= 1.0
    pixels = frames.reshape(-1, 3).astype(np.float64) / 255.0
    np.testing.assert_allclose(st["std"].reshape(3), pixels.std(0))
    for name, q in stats_mod.QUANTILES.items():  # histogram quantiles interpolate exactly like np.quantile
        np.testing.assert_allclose(st[name].reshape(3), np.quantile(pixels, q, axis=0), atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 4, 6, 3), (1, 3, 3, 3)])  # an even and an odd number of pixels
def test_channel_histograms_count_each_channel_exactly(shape):
    frames = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    frames[0, 0, 0] = (0, 255, 7)  # extremes, and channels that differ
    hists = stats_mod.channel_histograms(frames)
    for c in range(3):
        np.testing.assert_array_equal(hists[c], np.bincount(frames[..., c].ravel(), minlength=256))


def test_spec_from_episode_declares_shapes_and_names():
    spec = DatasetSpec.from_episode(synthetic_episode(0, 4), video_codec="h264")
    assert spec.features["action"] == {"dtype": "float32", "shape": [7], "names": [f"a{i}" for i in range(7)]}
    assert spec.features["next.reward"]["shape"] == [1]
    assert "physics_state" not in spec.features and "timestamp" not in spec.features
    assert spec.cameras == {"workspace": (64, 80), "wrist": (48, 48)}
    assert spec.codec_name == "libx264"


@pytest.mark.parametrize("writer, key", [
    ({"kind": "parquet"}, "writer.kind"),
    ({"kind": "lerobot", "video_codec": "vp9"}, "video_codec"),
    ({"kind": "lerobot", "crf": 99}, "crf"),
    ({"kind": "lerobot", "colour": 1}, "unknown keys"),
])
def test_bad_writer_config_is_refused_naming_the_key(writer, key):
    with pytest.raises(ConfigError, match=key):
        validate_config({"writer": writer})
