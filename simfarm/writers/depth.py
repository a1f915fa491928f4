"""Depth as LeRobot stores it: 12-bit codes (log-quantized metres) in a single-channel HEVC video.

Format read from huggingface/lerobot at commit 7427f31801f944f5ec9ce53cda02862ce7d1638b (2026-08-23):
`src/lerobot/datasets/depth_utils.py` (quantize_depth / dequantize_depth), `src/lerobot/configs/video.py`
(DepthEncoderConfig: vcodec "hevc", pix_fmt "gray12le", extra_options {"x265-params": "lossless=1"},
depth_min 0.01, depth_max 10.0, shift 3.5, use_log True; DEPTH_QMAX 4095),
`src/lerobot/datasets/video_utils.py` (get_video_info: the `video.*` keys, `is_depth_map`;
decode_video_frames_pyav: depth frames decoded as gray12le whatever the backend asked),
`src/lerobot/datasets/dataset_writer.py` (`depth_unit` recorded from the input dtype: float -> "m"),
`src/lerobot/utils/feature_utils.py` (hw_to_dataset_features: `<camera>_depth`, shape (H, W, 1)),
`src/lerobot/datasets/compute_stats.py` (depth stats per channel, (1, 1, 1), not divided by 255).

The mapping (ours, same numbers): with L(d) = log(d + shift), code = rint(4095 * (L(d) - L(min)) /
(L(max) - L(min))) clipped to 0..4095; decoding inverts it and clamps to [depth_min, depth_max].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simfarm.errors import ConfigError

DEPTH_QMAX = 4095  # 12-bit codes
DEPTH_PIX_FMT = "gray12le"
DEPTH_ENCODER = "libx265"  # LeRobot's vcodec "hevc"; info.json records the stream's codec name, "hevc"
DEPTH_CODEC_NAME = "hevc"
# x265's fastest preset for the lossless depth and segmentation streams: the same frames back, 3x
# faster than its default (medium) for twice the bytes (13.3 -> 4.4 ms per 224x224 depth frame,
# 290 -> 579 KiB per 40 frames; benchmarks/README.md). A farm is short of CPU, not of disk.
LOSSLESS_PRESET = "ultrafast"
DEPTH_UNIT = "m"  # simfarm's depth is float32 metres; LeRobot infers "m" from a float dtype


@dataclass(frozen=True)
class DepthCoding:
    """The quantizer's settings (metres), as LeRobot's DepthEncoderConfig names them."""

    depth_min: float = 0.01
    depth_max: float = 10.0
    shift: float = 3.5
    use_log: bool = True

    def __post_init__(self) -> None:
        if not self.depth_max > self.depth_min:
            raise ConfigError(f"writer.depth_max={self.depth_max} must exceed writer.depth_min={self.depth_min}")
        if self.use_log and self.depth_min + self.shift <= 0:
            raise ConfigError(f"writer.depth_min + writer.depth_shift must be > 0 for log quantization, "
                              f"got {self.depth_min} + {self.shift}")

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> DepthCoding:
        """The coding a depth feature's info.json `info` block declares (LeRobot's defaults where absent)."""
        d = cls()
        return cls(depth_min=float(info.get("video.depth_min", d.depth_min)),
                   depth_max=float(info.get("video.depth_max", d.depth_max)),
                   shift=float(info.get("video.shift", d.shift)),
                   use_log=bool(info.get("video.use_log", d.use_log)))

    def _bounds(self) -> tuple[float, float]:
        if self.use_log:
            return math.log(self.depth_min + self.shift), math.log(self.depth_max + self.shift)
        return self.depth_min, self.depth_max

    def code_step(self) -> float:
        """One code's width in the quantizer's space (log metres, or metres when linear)."""
        lo, hi = self._bounds()
        return (hi - lo) / DEPTH_QMAX

    def step_m(self, depth_m: np.ndarray) -> np.ndarray:
        """The width in metres of the code that holds `depth_m` (the round-trip error is at most half of it)."""
        if not self.use_log:
            return np.full(np.shape(depth_m), self.code_step())
        d = np.clip(np.asarray(depth_m, np.float64), self.depth_min, self.depth_max)
        return (d + self.shift) * (math.exp(self.code_step()) - 1.0)


def quantize(depth_m: np.ndarray, coding: DepthCoding) -> np.ndarray:
    """uint16 codes 0..4095 of float depth in metres (any shape); out-of-range depth saturates."""
    d = np.asarray(depth_m, dtype=np.float32)
    lo, hi = coding._bounds()
    if coding.use_log:
        x = np.log(np.maximum(d + np.float32(coding.shift), np.float32(1e-12)))
    else:
        x = d
    norm = (x - np.float32(lo)) / np.float32(hi - lo)
    norm = np.nan_to_num(norm, nan=1.0, posinf=1.0, neginf=0.0)  # nothing hit (inf) reads as far
    return np.rint(norm * DEPTH_QMAX).clip(0, DEPTH_QMAX).astype(np.uint16)


def dequantize(codes: np.ndarray, coding: DepthCoding) -> np.ndarray:
    """float32 metres of 12-bit codes, clamped to [depth_min, depth_max] (as LeRobot decodes them)."""
    lo, _ = coding._bounds()
    x = np.asarray(codes, dtype=np.float32) * np.float32(coding.code_step()) + np.float32(lo)
    if coding.use_log:
        x = np.exp(x) - np.float32(coding.shift)
    return np.clip(x, coding.depth_min, coding.depth_max).astype(np.float32)


def depth_video_info(height: int, width: int, fps: int, gop: int, crf: int, codec_options: dict[str, str],
                     coding: DepthCoding, preset: str | None = LOSSLESS_PRESET) -> dict[str, Any]:
    """A depth feature's info.json `info` block: the keys LeRobot's get_video_info writes for a
    DepthEncoderConfig (stream-derived, then encoder fields as `video.<field>`), plus `depth_unit`."""
    extra = {k: v for k, v in codec_options.items() if k == "x265-params"}
    return {
        "video.height": height,
        "video.width": width,
        "video.codec": DEPTH_CODEC_NAME,
        "video.pix_fmt": DEPTH_PIX_FMT,
        "video.fps": fps,
        "video.channels": 1,
        "has_audio": False,
        "video.g": gop,
        "video.crf": crf,
        "video.preset": preset,
        "video.fast_decode": 0,
        "video.video_backend": "pyav",
        "video.extra_options": extra,
        "video.depth_min": coding.depth_min,
        "video.depth_max": coding.depth_max,
        "video.shift": coding.shift,
        "video.use_log": coding.use_log,
        "is_depth_map": True,
        "depth_unit": DEPTH_UNIT,
    }
