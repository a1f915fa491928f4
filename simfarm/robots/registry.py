"""The robot library: every robot registers itself by name, in its own module.

    @register_robot("ur5e")
    class UR5e(SerialArmRobot): ...

`simfarm.robots.builtin` holds the Panda-based robots and the mobile base; every module of
`simfarm/robots/models/` is imported on first use, so adding a robot is adding one file there
(plus `configs/robot/<name>.yaml` for its defaults): tasks, experts, writers, the CLI and
`simfarm list robots` find it with no other edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

_ROBOTS: dict[str, type] = {}
_ALIASES: dict[str, str] = {}
_discovered = False


def register_robot(name: str, aliases: tuple[str, ...] = ()):
    """Class decorator: make `name` (and each alias, kept for older configs) build this robot."""

    def decorate(cls):
        if name in _ROBOTS and _ROBOTS[name] is not cls:
            raise ValueError(f"robot {name!r} is registered twice ({_ROBOTS[name].__module__}, {cls.__module__})")
        _ROBOTS[name] = cls
        for alias in aliases:
            _ALIASES[alias] = name
        cls.registered_name = name
        return cls

    return decorate


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    importlib.import_module("simfarm.robots.builtin")
    models = importlib.import_module("simfarm.robots.models")
    for info in sorted(pkgutil.iter_modules(models.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"simfarm.robots.models.{info.name}")


def canonical_name(name: str) -> str:
    """The registered name behind an alias (`arm` -> `panda`); other names unchanged."""
    _discover()
    return _ALIASES.get(name, name)


def robot_class(name: str) -> type | None:
    _discover()
    return _ROBOTS.get(_ALIASES.get(name, name))


def registered_robots() -> dict[str, type]:
    """name -> class, in name order (aliases left out)."""
    _discover()
    return dict(sorted(_ROBOTS.items()))


def aliases() -> dict[str, str]:
    _discover()
    return dict(_ALIASES)


def describe(robot: Any) -> dict[str, Any]:
    """What `simfarm list robots --json` shows of a robot instance."""
    layout = robot.layout
    arms = getattr(robot, "arms", None) or (("arm",) if robot.has_arm else ())
    return {
        "name": robot.name,
        "aliases": sorted(a for a, n in _ALIASES.items() if n == robot.name),
        "dof": len(layout.arm_joints) * max(1, len(arms)) + len(layout.base_joints),
        "arm_dof": len(layout.arm_joints),
        "arms": list(arms),
        "has_base": bool(robot.has_base),
        "cameras": list(getattr(robot, "camera_names", lambda: [])()),
        "control_modes": list(robot.control_modes),
        "reach_m": float(robot.reach_m),
        "source": (type(robot).__doc__ or "").strip().splitlines()[0] if type(robot).__doc__ else "",
    }
