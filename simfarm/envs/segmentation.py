"""Instance and semantic labels for segmentation images.

An *instance* is one thing a person would point at: each object, each furniture piece (its
drawers and door included), each fixture (a button), the robot, the floor of each room, each wall,
and the goal marker. Instance ids are uint8, 0 for pixels that see nothing, 1.. in a fixed order
(robot, furniture and fixtures, objects, floors, walls, marker: the order of the SceneSpec), so an
episode's ids are stable for the whole episode and the same for the same scene.

The *semantic classes* are one list for every scene of this simfarm version: `background`, the
structural classes, every furniture kind and fixture kind of the catalog, then every object family
(procgen/objects.yaml), in that order; `classes[class_id]` names a class. The per-episode table
maps each instance id to its name, category, colour and class; `semantic_map` turns an instance
image into a class image.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mujoco
import numpy as np

from simfarm.errors import SceneError

STRUCTURAL_CLASSES = ("background", "floor", "wall", "robot", "goal_marker")
MAX_INSTANCES = 255  # uint8 ids


@lru_cache(maxsize=1)
def semantic_classes() -> tuple[str, ...]:
    from simfarm.scene.catalog import FIXTURE_KINDS, FURNITURE_KINDS, load_catalog

    families = tuple(sorted(load_catalog().families))
    return (*STRUCTURAL_CLASSES, *FURNITURE_KINDS, *FIXTURE_KINDS, *families)


@dataclass(frozen=True)
class Instance:
    id: int
    name: str
    category: str  # robot | floor | wall | furniture | fixture | marker | the object's category
    color: str | None
    class_id: int
    cls: str

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "category": self.category, "color": self.color,
                "class_id": self.class_id, "class": self.cls}


class InstanceTable:
    """Instance id of every geom of a built scene (`geom_instance`, uint8 over model.ngeom) and the table."""

    def __init__(self, model: mujoco.MjModel, built, robot_geom_ids) -> None:
        classes = semantic_classes()
        class_id = {c: k for k, c in enumerate(classes)}
        self.geom_instance = np.zeros(model.ngeom, np.uint8)
        self.instances: list[Instance] = []
        self.by_name: dict[str, int] = {}

        def add(name: str, category: str, cls: str, geoms, color: str | None = None) -> None:
            geoms = np.asarray(list(geoms), dtype=int)
            if geoms.size == 0:
                return
            k = len(self.instances) + 1
            if k > MAX_INSTANCES:
                raise SceneError(f"the scene has more than {MAX_INSTANCES} instances; segmentation ids are uint8")
            self.instances.append(Instance(k, name, category, color, class_id.get(cls, 0), cls))
            self.by_name[name] = k
            self.geom_instance[geoms] = k

        spec, index = built.spec, built.index
        add("robot", "robot", "robot", robot_geom_ids)
        body_geoms = _geoms_by_top_body(model)
        fixtures = _fixture_geoms(model)
        for f in spec.furniture:
            own = [g for g in body_geoms.get("furn/" + f.name, []) if g not in fixtures]
            add(f.name, "furniture", f.kind, own, color=f.materials.get("body"))
        for name, (kind, geoms) in sorted(fixtures_by_body(model, fixtures).items()):
            add(name, "fixture", kind, geoms)
        for obj in spec.objects:
            ids = index.objects.get(obj.name)
            if ids is not None:
                add(obj.name, obj.category, obj.family, ids.geom_ids, color=obj.color)
        for g in index.floor_geom_ids:
            add(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, int(g)) or f"floor_{g}", "floor", "floor", [g])
        for g in index.wall_geom_ids:
            add(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, int(g)) or f"wall_{g}", "wall", "wall", [g])
        if index.goal_geom_id >= 0:
            add("goal_marker", "marker", "goal_marker", [index.goal_geom_id])
        self.instance_class = np.zeros(MAX_INSTANCES + 1, np.uint8)
        for inst in self.instances:
            self.instance_class[inst.id] = inst.class_id

    def table(self) -> dict:
        """The per-episode table: instances (id, name, category, colour, class) and the class names."""
        return {"instances": [inst.to_dict() for inst in self.instances], "classes": list(semantic_classes())}


def semantic_map(instances: np.ndarray, table: dict) -> np.ndarray:
    """Class ids (uint8, same shape) of an instance-id image, from an episode's table."""
    lut = np.zeros(MAX_INSTANCES + 1, np.uint8)
    for inst in table["instances"]:
        lut[inst["id"]] = inst["class_id"]
    return lut[instances]


def _geoms_by_top_body(model: mujoco.MjModel) -> dict[str, list[int]]:
    """Geoms grouped by the name of their body's ancestor just below the world."""
    top = np.arange(model.nbody)
    for b in range(1, model.nbody):
        parent = model.body_parentid[b]
        top[b] = b if parent == 0 else top[parent]
    out: dict[str, list[int]] = {}
    for g in range(model.ngeom):
        b = int(top[model.geom_bodyid[g]])
        if b:
            out.setdefault(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "", []).append(g)
    return out


def _fixture_body(model: mujoco.MjModel, body: int) -> int:
    """The outermost ancestor (or self) whose name starts with `fixture/` (a button, not its cap), or -1."""
    found = -1
    while body > 0:
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body) or ""
        if name.startswith("fixture/"):
            found = body
        body = int(model.body_parentid[body])
    return found


def _fixture_geoms(model: mujoco.MjModel) -> set[int]:
    return {g for g in range(model.ngeom) if _fixture_body(model, int(model.geom_bodyid[g])) >= 0}


def fixtures_by_body(model: mujoco.MjModel, geoms: set[int]) -> dict[str, tuple[str, list[int]]]:
    """Fixture geoms grouped by fixture body: name (e.g. `cabinet_0/button_1`) -> (kind, geoms)."""
    out: dict[str, tuple[str, list[int]]] = {}
    for g in sorted(geoms):
        body = _fixture_body(model, int(model.geom_bodyid[g]))
        name = (mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body) or "")[len("fixture/"):]
        kind = name.rsplit("/", 1)[-1].split("_")[0] or "button"
        out.setdefault(name, (kind, []))[1].append(g)
    return out
