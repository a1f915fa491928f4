"""Light parameters: how many lights are on (`light_active`), where (`light_pos`), how bright and
what colour (`light_diffuse`: a scalar draw scales brightness, a 3-axis draw tints)."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from simfarm.errors import RandomizationError
from simfarm.randomization.base import ModelGroups, Nominal, ParamDef, Selection, field_param
from simfarm.randomization.distributions import ParamSpec, parse_param


def _parse_count(cfg: Any, path: str) -> ParamSpec:
    spec = parse_param(cfg, path, modes=("absolute",), default_mode="absolute")
    lo, hi = spec.dist.support()
    values = getattr(spec.dist, "values", None)
    integral = values is not None and all(float(v[0]).is_integer() for v in values)
    if spec.dist.name == "constant":
        integral = float(lo[0]).is_integer()
    if not integral or lo[0] < 0:
        raise RandomizationError(
            f"{path}: the number of active lights takes non-negative integers: a constant or "
            f"{{dist: choice, values: [1, 2, 3]}}; got {cfg!r}"
        )
    return spec


def _sample_count(spec: ParamSpec, nominal: Nominal, sel: Selection, groups: ModelGroups, rng: np.random.Generator) -> np.ndarray:
    n = len(sel)
    k = int(min(spec.sample(rng, 1)[0, 0], n))
    active = np.zeros(n, dtype=np.int64)
    active[rng.permutation(n)[:k]] = 1
    return active[:, None]


def _write_active(model: mujoco.MjModel, sel: Selection, values: np.ndarray, nominal: Nominal) -> None:
    model.light_active[sel.ids] = values.reshape(-1) != 0


light_count = ParamDef(
    name="light_count", group="visual", fields=("light_active",), select=lambda g: g.lights,
    sample=_sample_count, write=_write_active, width=1, dtype=np.int64, parse=_parse_count,
    doc="light_active of light_* lights: a random subset of the drawn size is on (records 0/1 per light).",
)
light_position = field_param(
    "light_position", "visual", "light_pos", None, lambda g: g.lights,
    "light_pos of light_* lights (metres; a scalar range jitters each axis independently), one draw per light.", axes=3, default_mode="add", width=3, independent_axes=True,
)
light_diffuse = field_param(
    "light_diffuse", "visual", "light_diffuse", None, lambda g: g.lights,
    "light_diffuse of light_* lights: scalar = brightness, 3 axes = colour; one draw per light.",
    axes=3, low=0.0, dtype=np.float32, width=3,
)

PARAMS = (light_count, light_position, light_diffuse)

