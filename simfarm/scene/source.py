"""Where a job's scenes come from: a room program (sampled per episode) or a fixed scene file.

`scene=kitchen` and `scene=tabletop` work the same way everywhere: `load_scene_source(name)` returns
a SceneSource whose `sample(rng, robot, request)` gives a SceneSpec (a fixed scene ignores the rng).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from simfarm.errors import ConfigError, SceneError
from simfarm.paths import scenes_dir
from simfarm.scene.catalog import available_programs, load_program
from simfarm.scene.robot_info import robot_info, with_mount_height
from simfarm.scene.sampler import SceneRequest, sample_scene
from simfarm.scene.schema import load_yaml
from simfarm.scene.spec import RobotPlacement, SceneSpec

SCENE_CONFIG_KEYS = ("name", "program", "fixed")


def fixed_scene_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in scenes_dir().glob("*.yaml")))


@dataclass(frozen=True)
class SceneSource:
    """A named source of SceneSpecs: a room program (`fixed=False`) or a fixed scene file."""

    name: str
    fixed: bool
    program: str | None = None  # program name or YAML path for sampled sources

    def sample(self, rng: np.random.Generator, robot: Any = "arm", request: SceneRequest | None = None) -> SceneSpec:
        """A SceneSpec for `robot` meeting `request` (SceneError when it cannot)."""
        if self.fixed:
            spec = fixed_scene(self.name, robot=robot)
            _check_fixed_request(spec, request or SceneRequest())
            return spec
        return sample_scene(self.program or self.name, rng, robot=robot, request=request)


def load_scene_source(name: str) -> SceneSource:
    """`tabletop` (scenes/*.yaml), a room program name, or a path to a program YAML."""
    if name in fixed_scene_names():
        return SceneSource(name=name, fixed=True)
    load_program(name)  # raises ConfigError listing the accepted names
    return SceneSource(name=str(name), fixed=False, program=str(name))


def resolve_scene_source(config: str | dict[str, Any] | SceneSource) -> SceneSource:
    """A SceneSource from a name or the job config's `scene` group ({name, program} or {name, fixed})."""
    if isinstance(config, SceneSource):
        return config
    if isinstance(config, str):
        return load_scene_source(config)
    cfg = dict(config)
    unknown = sorted(set(cfg) - set(SCENE_CONFIG_KEYS))
    if unknown:
        raise ConfigError(f"scene.{unknown[0]}: unknown key; accepted: {', '.join(SCENE_CONFIG_KEYS)}")
    if cfg.get("fixed"):
        fixed = str(cfg["fixed"])
        if fixed not in fixed_scene_names():
            raise ConfigError(f"scene.fixed: unknown fixed scene {fixed!r}; accepted: {', '.join(fixed_scene_names())}")
        return SceneSource(name=str(cfg.get("name", fixed)), fixed=True)
    program = cfg.get("program") or cfg.get("name")
    if not program:
        raise ConfigError("scene: give `program` (a room program: " + ", ".join(available_programs()) + ") or `fixed`")
    load_program(str(program))
    return SceneSource(name=str(cfg.get("name", program)), fixed=False, program=str(program))


def validate_config(cfg: dict[str, Any]) -> None:
    """Config hook: the `scene` group names a known program or fixed scene."""
    if cfg.get("scene") is not None:
        source = resolve_scene_source(cfg["scene"])
        robot = cfg.get("robot")
        name = robot if isinstance(robot, str) else (robot or {}).get("name")
        if not source.fixed and name not in (None, "mix") and not str(name).startswith("menagerie:"):
            params = {} if isinstance(robot, str) else {k: v for k, v in robot.items() if k != "name"}
            if robot_info({"name": name, **params}).arms > 1:
                raise ConfigError(f"scene: robot {name!r} has two arms facing each other across its own table; room "
                                  f"programs ({source.name}) do not place it yet: use scene=tabletop "
                                  f"(accepted: {', '.join(fixed_scene_names())})")


def fixed_scene(name: str = "tabletop", robot: Any = "arm") -> SceneSpec:
    """A hand-authored scene from scenes/<name>.yaml with `robot` at its base pose."""
    path = scenes_dir() / f"{name}.yaml"
    if not path.exists():
        raise ConfigError(f"scene: unknown fixed scene {name!r}; accepted: {', '.join(fixed_scene_names())}")
    data = load_yaml(path)
    try:
        spec = SceneSpec.from_dict(data)
    except SceneError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    info = robot_info(robot)
    placement = spec.robot
    if placement is None:
        raise ConfigError(f"{path}: robot: missing the robot's base pose")
    pos = placement.pos
    if spec.workspace is not None:
        table = spec.furniture_named(spec.workspace)
        top = max(s.center[2] for s in table.surfaces)
        if info.arms > 1:
            # A bimanual robot straddles its table: its frame at the table's centre, arms on the top.
            pos = _table_centre(table)
            info = with_mount_height(info, top)
        elif info.mount_below_surface_m == 0 and info.has_arm and not info.has_base:
            # A table-top arm (SO-101) is clamped on the table at its near edge, facing the same way.
            pos = _on_near_edge(table, placement, inset_m=0.06)
            info = with_mount_height(info, 0.0)
        else:
            info = with_mount_height(info, top - info.mount_below_surface_m)
    robot_spec = RobotPlacement(name=info.name, params=dict(info.params), pos=pos, yaw_rad=placement.yaw_rad)
    return dataclasses.replace(spec, robot=robot_spec)


def _table_centre(table) -> tuple[float, float, float]:
    import math

    surface = max(table.surfaces, key=lambda s: s.center[2])
    c, s = math.cos(table.yaw_rad), math.sin(table.yaw_rad)
    return (round(table.pos[0] + c * surface.center[0] - s * surface.center[1], 4),
            round(table.pos[1] + s * surface.center[0] + c * surface.center[1], 4), 0.0)


def _on_near_edge(table, placement, inset_m: float) -> tuple[float, float, float]:
    """The point of the table's top `inset_m` inside its edge nearest the placement, on the line the robot faces."""
    import math

    surface = max(table.surfaces, key=lambda s: s.center[2])
    c, s = math.cos(table.yaw_rad), math.sin(table.yaw_rad)
    center = (table.pos[0] + c * surface.center[0] - s * surface.center[1], table.pos[1] + s * surface.center[0] + c * surface.center[1])
    fx, fy = math.cos(placement.yaw_rad), math.sin(placement.yaw_rad)
    # Extent of the top along the robot's facing direction (the table's local axes, yaw-rotated).
    hx, hy = surface.half_extents
    half = abs(fx * c + fy * s) * hx + abs(-fx * s + fy * c) * hy
    along = (center[0] - placement.pos[0]) * fx + (center[1] - placement.pos[1]) * fy
    d = along - half + inset_m
    return (round(placement.pos[0] + fx * d, 4), round(placement.pos[1] + fy * d, 4), round(surface.center[2], 4))


def _check_fixed_request(spec: SceneSpec, request: SceneRequest) -> None:
    kind = request.workspace or "surface"
    if spec.workspace_kind != kind:
        raise SceneError(
            f"fixed scene offers workspace={spec.workspace_kind!r}, the task asks for workspace={kind!r}; "
            f"use a room program ({', '.join(available_programs())})"
        )
    n = len(spec.workspace_objects())
    if n < request.min_workspace_objects:
        raise SceneError(
            f"min_workspace_objects: fixed scene has {n} workspace object(s), the task asks for {request.min_workspace_objects}"
        )
    if request.need_receptacle and not any(o.receptacle for o in spec.workspace_objects()):
        raise SceneError("need_receptacle: the fixed scene has no receptacle on its workspace")
