"""What the scene stage needs to know about a robot (footprint, reach, mount height), via `simfarm.robots`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simfarm.errors import ConfigError, RobotError, SceneError


@dataclass(frozen=True)
class RobotInfo:
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    has_arm: bool = True
    has_base: bool = False
    footprint_radius_m: float = 0.15
    reach_m: float = 0.855
    mount_height_m: float = 0.75
    mount_below_surface_m: float = 0.05  # 0: a table-top arm, set on its workspace surface
    arms: int = 1  # 2: a bimanual robot whose arms face each other across its table (ALOHA)

    @property
    def adjustable_mount(self) -> bool:
        """Whether the scene may choose the arm's mount height (builtin arms take `mount_height_m`)."""
        return "mount_height_m" in self.params


def make_robot_object(name: str, params: dict[str, Any]):
    """`simfarm.robots.make_robot(name, **params)`."""
    from simfarm.robots import make_robot

    return make_robot(name, **params)


def robot_info(robot: Any) -> RobotInfo:
    """RobotInfo from a robot name, a `{"name": ..., **params}` dict, or a `simfarm.robots.Robot`."""
    if isinstance(robot, str):
        obj = make_robot_object(robot, {})
    elif isinstance(robot, dict):
        params = dict(robot)
        if "name" not in params:
            raise SceneError(f"robot: a robot given as a mapping needs a 'name' key; got keys {sorted(params)}")
        obj = make_robot_object(params.pop("name"), params)
    else:
        obj = robot
    return RobotInfo(
        name=obj.name, params=dict(getattr(obj, "params", {}) or {}), has_arm=bool(obj.has_arm),
        has_base=bool(obj.has_base), footprint_radius_m=float(obj.footprint_radius_m),
        reach_m=float(obj.reach_m), mount_height_m=float(obj.mount_height_m),
        mount_below_surface_m=float(getattr(obj, "mount_below_surface_m", 0.05)),
        arms=len(getattr(obj, "arms", ("arm",))) if obj.has_arm else 0,
    )


def with_mount_height(info: RobotInfo, mount_height_m: float) -> RobotInfo:
    """The same robot with its arm mounted at `mount_height_m`, when the robot allows that height."""
    if not info.adjustable_mount:
        return info
    params = {**info.params, "mount_height_m": round(float(mount_height_m), 4)}
    try:
        obj = make_robot_object(info.name, params)
    except (ConfigError, RobotError):
        return info
    return robot_info(obj)
