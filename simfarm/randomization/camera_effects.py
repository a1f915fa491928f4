"""Camera realism at the sensor stage: lens distortion, blur, exposure, white balance and JPEG-like
compression, applied to RGB frames only (depth and segmentation never pass through here).

A preset names them in its `sensor` group (each a distribution, drawn once per episode):

    sensor:
      exposure: {dist: log_uniform, low: 0.8, high: 1.25}        # gain on pixel values
      white_balance: {dist: uniform, low: [0.93, 0.97, 0.93], high: [1.07, 1.03, 1.07]}  # per-channel gains
      blur_sigma_px: {dist: uniform, low: 0.0, high: 0.8}         # Gaussian blur std, pixels
      jpeg_quality: {dist: choice, values: [50, 70, 90]}          # Pillow JPEG round trip
      lens_k1: {dist: uniform, low: -0.08, high: 0.04}            # radial distortion, normalized radius

A frame goes lens -> blur -> exposure and white balance -> (Gaussian pixel noise, SensorNoise) ->
JPEG, the order of a real camera's optics, sensor and encoder. The episode's draw comes from a
stream derived from the sensor stream without consuming it, so presets with these parameters keep
the sensor noise and action delay draws of presets without them.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from simfarm.errors import RandomizationError
from simfarm.randomization.distributions import ParamSpec, parse_param
from simfarm.seeding import derived_rng

# name -> (axes, accepted [low, high] of any draw, what it is)
CAMERA_PARAMS = {
    "exposure": (1, (0.1, 10.0), "gain on RGB pixel values (1: as rendered), drawn per episode"),
    "white_balance": (3, (0.1, 10.0), "per-channel RGB gains [r, g, b] (1: neutral), drawn per episode"),
    "blur_sigma_px": (1, (0.0, 10.0), "Gaussian blur std in pixels on RGB (0: sharp), drawn per episode"),
    "jpeg_quality": (1, (1.0, 100.0), "JPEG round trip at this quality (Pillow, 1-100) on RGB, drawn per episode"),
    "lens_k1": (1, (-0.5, 0.5), "radial lens distortion k1 on RGB (normalized radius; <0 barrel), drawn per episode"),
}


@dataclass(frozen=True)
class CameraEffectsSpec:
    """The preset's distributions (absent: that effect is off)."""

    params: dict[str, ParamSpec]

    @property
    def enabled(self) -> bool:
        return bool(self.params)

    def draw(self, sensor_rng: np.random.Generator) -> CameraEffects:
        """The episode's effects, from a stream derived from `sensor_rng` (left untouched)."""
        if not self.params:
            return CameraEffects()
        rng = derived_rng(sensor_rng, "camera_effects")
        values = {}
        for name in CAMERA_PARAMS:  # fixed order
            if name in self.params:
                values[name] = [float(v) for v in self.params[name].sample(rng, 1)[0]]
        return CameraEffects.from_values(values)


def parse_camera_effects(cfg: dict[str, Any], group: str = "sensor") -> CameraEffectsSpec:
    params = {}
    for name, (axes, (lo, hi), _) in CAMERA_PARAMS.items():
        if cfg.get(name) is None:
            continue
        path = f"randomization.{group}.{name}"
        spec = parse_param(cfg[name], path, modes=("absolute",), default_mode="absolute", axes=axes)
        low, high = spec.dist.support()
        if np.any(low < lo) or np.any(high > hi):
            raise RandomizationError(f"{path}: draws must lie within [{lo}, {hi}]; got {cfg[name]!r}")
        params[name] = spec
    return CameraEffectsSpec(params)


@dataclass(frozen=True)
class CameraEffects:
    """One episode's camera: what `apply` does to each RGB frame. The defaults change nothing."""

    exposure: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    blur_sigma_px: float = 0.0
    jpeg_quality: int = 0  # 0: no compression
    lens_k1: float = 0.0  # rounded to 0.01 (distortion maps are cached per value)

    @classmethod
    def from_values(cls, values: dict[str, list[float]]) -> CameraEffects:
        wb = values.get("white_balance", [1.0, 1.0, 1.0])
        if len(wb) == 1:
            wb = wb * 3
        return cls(
            exposure=float(values.get("exposure", [1.0])[0]),
            white_balance=tuple(float(v) for v in wb),
            blur_sigma_px=float(values.get("blur_sigma_px", [0.0])[0]),
            jpeg_quality=int(round(values.get("jpeg_quality", [0])[0])),
            lens_k1=round(float(values.get("lens_k1", [0.0])[0]), 2),
        )

    @property
    def values(self) -> dict[str, list[float]]:
        """What the episode drew (recorded beside the other randomization values)."""
        return {"exposure": [self.exposure], "white_balance": list(self.white_balance),
                "blur_sigma_px": [self.blur_sigma_px], "jpeg_quality": [float(self.jpeg_quality)],
                "lens_k1": [self.lens_k1]}

    @property
    def is_identity(self) -> bool:
        return self == CameraEffects()

    def optics(self, img: np.ndarray) -> np.ndarray:
        """Lens, blur, exposure and white balance (before the sensor's pixel noise); uint8 in and out."""
        if img.dtype != np.uint8:
            raise RandomizationError(f"camera effects: expected a uint8 RGB image, got {img.dtype}")
        out = img
        if self.lens_k1 != 0.0:
            out = distort(out, self.lens_k1)
        gains = (self.exposure * self.white_balance[0], self.exposure * self.white_balance[1],
                 self.exposure * self.white_balance[2])
        if self.blur_sigma_px >= 0.1:
            out = blur(out, self.blur_sigma_px)
        if any(abs(g - 1.0) > 1e-6 for g in gains):
            out = _tone(out, tuple(round(g, 4) for g in gains))
        return out

    def compress(self, img: np.ndarray) -> np.ndarray:
        """JPEG round trip (after the pixel noise, like a camera's encoder)."""
        if not self.jpeg_quality:
            return img
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(img, "RGB").save(buf, format="JPEG", quality=int(min(max(self.jpeg_quality, 1), 100)))
        buf.seek(0)
        with Image.open(buf) as im:
            return np.asarray(im.convert("RGB"))

    def apply(self, img: np.ndarray, noise=None, rng: np.random.Generator | None = None) -> np.ndarray:
        """The whole chain for one RGB frame; `noise(img, rng)` is the sensor's pixel noise, if any."""
        out = self.optics(img)
        if noise is not None:
            out = noise(out, rng)
        return self.compress(out)


@functools.lru_cache(maxsize=64)
def _tone_table(gains: tuple[float, float, float]) -> tuple[int, ...]:
    """768 levels (r, g, b): level * gain per channel, clipped (overexposure saturates, like a sensor)."""
    levels = np.arange(256, dtype=np.float64)
    return tuple(int(v) for g in gains for v in np.clip(np.rint(levels * g), 0, 255))


def _tone(img: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(img, "RGB").point(list(_tone_table(gains))))


@functools.lru_cache(maxsize=8)
def _distortion_map(h: int, w: int, c: int, k1: float) -> tuple[np.ndarray, np.ndarray]:
    """Per output value (flat over h, w, c), the 4 source indices and fixed-point bilinear weights
    (sum 256) of a radial k1 lens: source radius = r (1 + k1 r^2), r normalized by the half diagonal."""
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    norm = float(np.hypot(cx, cy))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dx, dy = (xx - cx) / norm, (yy - cy) / norm
    f = 1.0 + k1 * (dx * dx + dy * dy)
    sx = np.clip(cx + dx * f * norm, 0, w - 1)
    sy = np.clip(cy + dy * f * norm, 0, h - 1)
    x0, y0 = np.floor(sx).astype(np.int64), np.floor(sy).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    ax, ay = sx - x0, sy - y0
    pix = np.stack([y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1]).reshape(4, -1)
    idx = (pix[:, :, None] * c + np.arange(c)).reshape(4, -1).astype(np.int32)
    wts = np.stack([(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay]).reshape(4, -1)
    q = np.rint(wts * 256).astype(np.int64)
    q[0] += 256 - q.sum(axis=0)  # weights sum to exactly 256
    wq = np.repeat(q, c, axis=1).astype(np.uint16)
    idx.setflags(write=False)
    wq.setflags(write=False)
    return idx, wq


def distort(img: np.ndarray, k1: float) -> np.ndarray:
    """uint8 `img` (h, w, c) seen through a radial lens with coefficient `k1` (bilinear, cached map;
    k1 rounded to 0.01)."""
    h, w = img.shape[:2]
    c = img.shape[2] if img.ndim == 3 else 1
    idx, wq = _distortion_map(h, w, c, round(float(k1), 2))
    flat = img.reshape(-1)
    out = np.take(flat, idx[0]).astype(np.uint16) * wq[0]
    for k in range(1, 4):
        out += np.take(flat, idx[k]).astype(np.uint16) * wq[k]
    out += 128
    out >>= 8
    return out.astype(np.uint8).reshape(img.shape)


@functools.lru_cache(maxsize=32)
def _blur_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(np.ceil(2.5 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    q = np.rint(k / k.sum() * 256).astype(np.int64)
    q[radius] += 256 - q.sum()
    return q.astype(np.uint16)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of uint8 `img` (h, w, c), std `sigma` px (rounded to 0.05), edges replicated."""
    k = _blur_kernel(round(float(sigma), 2) if sigma < 1 else round(float(sigma), 1))
    r = len(k) // 2
    h, w = img.shape[:2]
    a = np.pad(img, ((r, r), (r, r), (0, 0)), mode="edge").astype(np.uint16)
    rows = a[:, 0:w] * k[0]
    for i in range(1, len(k)):
        rows += a[:, i:i + w] * k[i]
    rows >>= 8
    out = rows[0:h] * k[0]
    for i in range(1, len(k)):
        out += rows[i:i + h] * k[i]
    out >>= 8
    return out.astype(np.uint8)
