"""SceneSpec-level randomization: parameters that change geometry and so need a (re)build.

`table_height` moves the workspace table's top by dz and everything resting on it by the same dz:
the furniture's height (`size[2]`), its top support surfaces and the objects whose `support` is one
of those surfaces. Only surface workspaces (tables, counters) are changed; cabinets with drawers
and trolleys keep their geometry (their drawer layout depends on their height).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from simfarm.randomization.presets import Preset, load_preset

# A table lower than this stops being a table the arm can work over.
MIN_TABLE_HEIGHT_M = 0.2


def randomize_scene_spec(spec: Any, preset: Preset | str | dict[str, Any], rng: np.random.Generator) -> tuple[Any, dict[str, list]]:
    """A new SceneSpec with the preset's structural parameters applied, and the values drawn.

    Returns `(spec, {})` untouched when the preset has no structural parameter or the scene has
    nothing they apply to. The values record the resulting height, e.g. {"table_height": [0.78]}.
    """
    preset = load_preset(preset)
    values: dict[str, list] = {}
    param = preset.structural.get("table_height")
    if param is None:
        return spec, values
    table = _workspace_table(spec)
    if table is None:
        return spec, values
    height0 = float(table.size[2])
    height = float(param.combine(np.array([[height0]]), param.sample(rng, 1))[0, 0])
    height = max(height, MIN_TABLE_HEIGHT_M)
    values["table_height"] = [height]
    return set_table_height(spec, height), values


def set_table_height(spec: Any, height_m: float) -> Any:
    """The SceneSpec with the workspace table at `height_m` and everything on its top moved with it."""
    table = _workspace_table(spec)
    if table is None:
        return spec
    dz = float(height_m) - float(table.size[2])
    top = [k for k, s in enumerate(table.surfaces) if s.center[2] >= table.size[2] - 1e-6]
    surfaces = tuple(
        dataclasses.replace(s, center=(s.center[0], s.center[1], s.center[2] + dz)) if k in top else s
        for k, s in enumerate(table.surfaces)
    )
    new_table = dataclasses.replace(table, size=(table.size[0], table.size[1], float(height_m)), surfaces=surfaces)
    supports = {f"furn/{table.name}/surface_{k}" for k in top}
    objects = tuple(
        dataclasses.replace(o, pos=(o.pos[0], o.pos[1], o.pos[2] + dz)) if o.support in supports else o
        for o in spec.objects
    )
    furniture = tuple(new_table if f.name == table.name else f for f in spec.furniture)
    return dataclasses.replace(spec, furniture=furniture, objects=objects)


def _workspace_table(spec: Any) -> Any:
    if getattr(spec, "workspace", None) is None or getattr(spec, "workspace_kind", None) not in (None, "surface"):
        return None
    for f in spec.furniture:
        if f.name == spec.workspace:
            return f
    return None
