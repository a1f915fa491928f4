"""Every model-level parameter a preset may name, in the fixed order `apply` samples them.

Append only: inserting a parameter in the middle changes which random numbers the ones after it
draw, i.e. every dataset generated before.
"""

from __future__ import annotations

from simfarm.randomization import actuator, body, camera, dof, geom, light
from simfarm.randomization.base import ParamDef
from simfarm.randomization.camera_effects import CAMERA_PARAMS

MODEL_PARAMS: dict[str, ParamDef] = {
    p.name: p
    for p in (*geom.PARAMS, *light.PARAMS, *camera.PARAMS, *body.PARAMS, *dof.PARAMS, *actuator.PARAMS)
}

# Parameters applied to the SceneSpec (they change geometry, so they need a rebuild).
STRUCTURAL_PARAMS = {
    "table_height": "height of the workspace table (SceneSpec furniture size z), and everything on it, "
    "moved by the same dz; mode add (metres, default), scale or absolute.",
}
SENSOR_PARAMS = {
    "state_noise_std": "Gaussian noise std on observation.state (the state's units)",
    "image_noise_std": "Gaussian noise std per pixel and channel on camera images (0..255 levels)",
    # Camera realism on RGB only (simfarm/randomization/camera_effects.py), one draw per episode.
    **{name: doc for name, (_, _, doc) in CAMERA_PARAMS.items()},
}
TIMING_PARAMS = {
    "action_delay_steps": "latency in control steps: an integer, or {dist: choice, values: [0, 1]} per episode",
    "action_noise_std": "Gaussian noise std on actions, as a fraction of each dimension's range",
}


def accepted(group: str) -> list[str]:
    """Parameter names a preset group accepts."""
    if group == "sensor":
        return list(SENSOR_PARAMS)
    if group == "timing":
        return list(TIMING_PARAMS)
    names = [n for n, p in MODEL_PARAMS.items() if p.group == group]
    if group == "physical":
        names += list(STRUCTURAL_PARAMS)
    return names


def describe() -> str:
    """A table of every parameter and what it changes (for docs and `--help`)."""
    rows = [f"{p.group:9s} {p.name:26s} {p.doc}" for p in MODEL_PARAMS.values()]
    rows += [f"physical  {n:26s} {d}" for n, d in STRUCTURAL_PARAMS.items()]
    rows += [f"sensor    {n:26s} {d}" for n, d in SENSOR_PARAMS.items()]
    rows += [f"timing    {n:26s} {d}" for n, d in TIMING_PARAMS.items()]
    return "\n".join(rows)
