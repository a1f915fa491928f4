"""Encoder presets: `auto` picks a fast preset per codec, null leaves the encoder's default."""

import numpy as np
import pytest

from simfarm.writers.spec import spec_options
from simfarm.writers.video import AUTO_PRESETS, VideoEncoder


@pytest.mark.parametrize("codec", ["libsvtav1", "libx264"])
def test_auto_preset_is_valid_for_each_codec_and_encodes(tmp_path, codec):
    enc = VideoEncoder(tmp_path / f"{codec}.mp4", fps=10, height=32, width=32, codec_name=codec, preset="auto")
    frames = np.random.default_rng(0).integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
    enc.write(frames)
    enc.close()
    assert (tmp_path / f"{codec}.mp4").stat().st_size > 0
    expected = AUTO_PRESETS[codec]
    assert enc.options.get("preset") == expected


def test_null_preset_reaches_the_spec_as_the_encoders_default():
    assert spec_options({"kind": "lerobot", "preset": None, "crf": None})["preset"] is None
    assert "crf" not in spec_options({"kind": "lerobot", "crf": None})


@pytest.mark.parametrize("codec, option, value", [("libsvtav1", "svtav1-params", "lp=1"), ("libx264", "threads", "1")])
def test_encoders_use_one_thread_per_worker_by_default(tmp_path, codec, option, value):
    enc = VideoEncoder(tmp_path / "v.mp4", fps=10, height=32, width=32, codec_name=codec)
    enc.write(np.zeros((2, 32, 32, 3), np.uint8))
    enc.close()
    assert enc.options[option] == value
    free = VideoEncoder(tmp_path / "w.mp4", fps=10, height=32, width=32, codec_name=codec, threads=None)
    free.abort()
    assert option not in free.options
