"""Geom parameters: colours (`geom_rgba`), floor/wall materials (`geom_matid`), friction (`geom_friction`).

Object colours jitter in HSV around the nominal colour and never leave it: tasks name objects by
colour ("the red mug"), so a hue shift is bounded (`MAX_OBJECT_HUE_SHIFT`). Furniture, floors and
walls may take any colour. A geom whose rgba is MuJoCo's default (0.5, 0.5, 0.5, 1) shows its
material's colour, so colour jitter starts from the material colour for those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from simfarm.errors import RandomizationError
from simfarm.randomization.base import ModelGroups, Nominal, ParamDef, Selection, field_param
from simfarm.randomization.distributions import ParamSpec, parse_param

# Largest hue shift (fraction of the colour wheel) and saturation/value shift an object colour may
# take: a guard against gross mistakes. Named colours sit closer than it looks (red-pink-orange,
# brown-orange differ mostly in value), so the shipped presets stay well inside it and a test checks
# that, at every corner of their ranges, each procgen palette colour stays nearest to itself (CIELAB).
MAX_OBJECT_HUE_SHIFT = 0.03
MAX_OBJECT_SV_SHIFT = 0.15
_DEFAULT_RGBA = np.array([0.5, 0.5, 0.5, 1.0], dtype=np.float32)


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """Vectorised RGB -> HSV on (..., 3) arrays in [0, 1]; hue in [0, 1)."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(axis=-1)
    c = v - rgb.min(axis=-1)
    s = np.where(v > 0, c / np.where(v > 0, v, 1), 0.0)
    safe_c = np.where(c > 0, c, 1)
    h = np.where(
        v == r, ((g - b) / safe_c) % 6, np.where(v == g, (b - r) / safe_c + 2, (r - g) / safe_c + 4)
    )
    h = np.where(c > 0, h / 6.0, 0.0) % 1.0
    return np.stack([h, s, v], axis=-1)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """Vectorised HSV -> RGB on (..., 3) arrays in [0, 1]."""
    h, s, v = hsv[..., 0] % 1.0, hsv[..., 1], hsv[..., 2]
    k = (np.array([5.0, 3.0, 1.0]) + h[..., None] * 6.0) % 6.0
    return v[..., None] - v[..., None] * s[..., None] * np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)


def hue_distance(rgb_a: np.ndarray, rgb_b: np.ndarray) -> np.ndarray:
    """Circular hue distance (fraction of the wheel, 0..0.5) between two RGB arrays."""
    d = np.abs(rgb_to_hsv(np.asarray(rgb_a, dtype=np.float64))[..., 0] - rgb_to_hsv(np.asarray(rgb_b, dtype=np.float64))[..., 0])
    return np.minimum(d, 1.0 - d)


def effective_rgba(nominal: Nominal, ids: np.ndarray) -> np.ndarray:
    """The colour each geom is drawn with: its rgba, or its material's when the rgba is the default."""
    rgba = nominal["geom_rgba"][ids].astype(np.float64)
    matid = nominal["geom_matid"][ids]
    uses_material = (matid >= 0) & np.all(nominal["geom_rgba"][ids] == _DEFAULT_RGBA, axis=1)
    if uses_material.any():
        rgba[uses_material] = nominal["mat_rgba"][matid[uses_material]]
    return rgba


def _parse_object_color(cfg: Any, path: str) -> ParamSpec:
    spec = parse_param(cfg, path, modes=("add",), default_mode="add", axes=3)
    lo, hi = spec.dist.support()
    lo = np.broadcast_to(lo, 3)
    hi = np.broadcast_to(hi, 3)
    limits = np.array([MAX_OBJECT_HUE_SHIFT, MAX_OBJECT_SV_SHIFT, MAX_OBJECT_SV_SHIFT])
    if spec.dist.dims != 3 or np.any(lo < -limits) or np.any(hi > limits):
        raise RandomizationError(
            f"{path}: object colours must stay within their named colour: give [hue, saturation, value] "
            f"shifts bounded by ±{MAX_OBJECT_HUE_SHIFT} hue and ±{MAX_OBJECT_SV_SHIFT} saturation/value "
            f"(clip a normal distribution); got a range of {lo.tolist()}..{hi.tolist()}"
        )
    return spec


def _sample_object_color(spec: ParamSpec, nominal: Nominal, sel: Selection, groups: ModelGroups, rng: np.random.Generator) -> np.ndarray:
    base = groups.cached(("object_color", "rgba"), lambda: effective_rgba(nominal, sel.ids))
    hsv0 = groups.cached(("object_color", "hsv"), lambda: rgb_to_hsv(base[:, :3]))
    hsv = hsv0 + spec.sample(rng, sel.n_owners)[sel.owners]
    hsv[:, 1:] = np.clip(hsv[:, 1:], 0.0, 1.0)
    return np.concatenate([hsv_to_rgb(hsv), base[:, 3:]], axis=1)


def _sample_free_color(spec: ParamSpec, nominal: Nominal, sel: Selection, groups: ModelGroups, rng: np.random.Generator) -> np.ndarray:
    base = groups.cached(("free_color", tuple(sel.ids.tolist())), lambda: effective_rgba(nominal, sel.ids))
    draws = spec.sample(rng, sel.n_owners)[sel.owners]
    rgb = np.clip(spec.combine(base[:, :3], draws), 0.0, 1.0)
    return np.concatenate([rgb, base[:, 3:]], axis=1)


def _write_rgba(model: mujoco.MjModel, sel: Selection, values: np.ndarray, nominal: Nominal) -> None:
    model.geom_rgba[sel.ids] = values


def _color_param(name: str, select, sampler, parse, doc: str) -> ParamDef:
    return ParamDef(
        name=name, group="visual", fields=("geom_rgba",), select=select, sample=sampler, write=_write_rgba,
        width=4, doc=doc, axes=3, dtype=np.float32, parse=parse, reads=("geom_matid", "mat_rgba"),
    )


object_color = _color_param(
    "object_color", lambda g: g.object_geoms, _sample_object_color, _parse_object_color,
    "geom_rgba of obj/ geoms: additive [hue, saturation, value] shift, one per object (hue bounded).",
)
furniture_color = _color_param(
    "furniture_color", lambda g: g.furniture_geoms, _sample_free_color, None,
    "geom_rgba[:, :3] of furn/ geoms, one draw per furniture piece; any colour allowed.",
)
room_color = _color_param(
    "room_color", lambda g: g.room_geoms, _sample_free_color, None,
    "geom_rgba[:, :3] of room/ geoms (floors, walls), one draw per geom; any colour allowed.",
)


@dataclass(frozen=True)
class MaterialSwap:
    """Each geom swaps its material with probability `swap_prob` for one drawn from the pool."""

    swap_prob: float

    def to_dict(self) -> dict[str, Any]:
        return {"swap_prob": self.swap_prob}


def _parse_material_swap(cfg: Any, path: str) -> MaterialSwap:
    if not isinstance(cfg, dict) or set(cfg) != {"swap_prob"}:
        raise RandomizationError(f"{path}: expected {{swap_prob: P}} with P in [0, 1], got {cfg!r}")
    p = cfg["swap_prob"]
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise RandomizationError(f"{path}.swap_prob: expected a number in [0, 1], got {p!r}")
    return MaterialSwap(float(p))


def _material_sampler(pool_of: Callable[[ModelGroups], np.ndarray]):
    def sample(spec: MaterialSwap, nominal: Nominal, sel: Selection, groups: ModelGroups, rng: np.random.Generator) -> np.ndarray:
        return _swap_materials(spec, nominal["geom_matid"][sel.ids].astype(np.int64), pool_of(groups), rng)

    return sample


def _swap_materials(spec: MaterialSwap, matid: np.ndarray, pool: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(matid)
    swap = rng.random(n) < spec.swap_prob
    picks = rng.integers(0, max(len(pool), 1), size=n)
    # Geoms drawn without a material stay without one: a material would change how they look
    # beyond a texture swap.
    if len(pool):
        matid = np.where(swap & (matid >= 0), pool[picks], matid)
    return matid[:, None]


def _write_matid(model: mujoco.MjModel, sel: Selection, values: np.ndarray, nominal: Nominal) -> None:
    model.geom_matid[sel.ids] = values.reshape(-1)


room_material = ParamDef(
    name="room_material", group="visual", fields=("geom_matid",), select=lambda g: g.room_geoms,
    sample=_material_sampler(lambda g: g.room_materials), write=_write_matid, width=1, dtype=np.int64,
    parse=_parse_material_swap,
    doc="geom_matid of room/ geoms: swap floor/wall materials (textures) among those the room uses.",
)
furniture_material = ParamDef(
    name="furniture_material", group="visual", fields=("geom_matid",), select=lambda g: g.furniture_geoms,
    sample=_material_sampler(lambda g: g.furniture_materials), write=_write_matid, width=1, dtype=np.int64,
    parse=_parse_material_swap,
    doc="geom_matid of furn/ geoms: swap materials (textures, finish) among those the furniture uses.",
)

object_friction = field_param(
    "object_friction", "physical", "geom_friction", 0, lambda g: g.object_geoms,
    "geom_friction[:, 0] (sliding) of obj/ geoms, one draw per object.", low=0.0,
)
surface_friction = field_param(
    "surface_friction", "physical", "geom_friction", 0, lambda g: g.surface_geoms,
    "geom_friction[:, 0] (sliding) of furn/ and room/ geoms, one draw per geom.", low=0.0,
)

PARAMS = (
    object_color, furniture_color, room_color, room_material, furniture_material, object_friction, surface_friction,
)
