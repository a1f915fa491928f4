"""Robots: simfarm's own primitive-built robots, the optional Menagerie source, and `RobotHandle`.

robot = make_robot("panda", mount_height_m=0.75)  # any name of `simfarm list robots`
spec = robot.build_spec()                      # root body "base" at the origin, facing +x
frame.attach_body(spec.body("base"), "robot/", "")
handle = robot.bind(model)                     # prefix "robot/"
handle.reset(data); handle.apply_action(data, action, "ee_delta")
"""

from __future__ import annotations

import inspect
from typing import Any

from simfarm.errors import ConfigError, RobotError
from simfarm.robots.builtin import ArmRobot, MobileArmRobot, MobileBaseRobot, Robot
from simfarm.robots.handle import RobotHandle, control_modes_for
from simfarm.robots.layout import RobotLayout
from simfarm.robots.registry import (
    aliases,
    canonical_name,
    register_robot,
    registered_robots,
    robot_class,
)

MENAGERIE_PREFIX = "menagerie:"


def robot_names(include_aliases: bool = False) -> list[str]:
    """Accepted robot names: the library's, then Menagerie models as `menagerie:<model>`."""
    from simfarm.robots.menagerie import KNOWN_MODELS

    names = [*registered_robots(), *(sorted(aliases()) if include_aliases else ())]
    return [*names, *(MENAGERIE_PREFIX + m for m in KNOWN_MODELS)]


def _check_params(name: str, factory, params: dict[str, Any]) -> None:
    accepted = [p for p in inspect.signature(factory).parameters if p not in ("self", "model")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigError(
            f"robot {name!r}: unknown parameter(s) {', '.join(unknown)}; accepted: {', '.join(accepted) or 'none'}"
        )


def make_robot(name: str, **params: Any) -> Robot:
    """A robot by name (`simfarm list robots`; aliases such as `arm` too) or "menagerie:<model>"."""
    if isinstance(name, str) and name.startswith(MENAGERIE_PREFIX):
        from simfarm.robots.menagerie import MenagerieRobot

        _check_params(name, MenagerieRobot.__init__, params)
        return MenagerieRobot(name[len(MENAGERIE_PREFIX) :], **params)
    factory = robot_class(name) if isinstance(name, str) else None
    if factory is None:
        from simfarm.checks import did_you_mean

        raise RobotError(
            f"unknown robot {name!r}{did_you_mean(str(name), robot_names(include_aliases=True))}; "
            f"accepted: {', '.join(robot_names())} (or menagerie:<model>)"
        )
    _check_params(name, factory.__init__, params)
    return factory(**params)


def validate_config(cfg: dict[str, Any]) -> None:
    """Config hook: the robot exists, its params are accepted, and it offers the control mode."""
    robot_cfg = cfg.get("robot")
    if robot_cfg is None:
        return
    robot_cfg = {"name": robot_cfg} if isinstance(robot_cfg, str) else dict(robot_cfg)
    if "name" not in robot_cfg:
        raise ConfigError("robot: missing key 'name'; accepted robots: " + ", ".join(robot_names()))
    name = robot_cfg.pop("name")
    if name == "mix":
        from simfarm.robots.mix import mix_weights

        mix_weights({"name": name, **robot_cfg})
        return  # each robot of the mix is checked with the task (simfarm.tasks.validate_config)
    robot = make_robot(name, **robot_cfg)
    mode = cfg.get("control_mode")
    if mode is not None and mode not in robot.control_modes:
        raise ConfigError(
            f"control_mode: got {mode!r}; robot {name!r} accepts: {', '.join(robot.control_modes)}"
        )


__all__ = [
    "ArmRobot",
    "canonical_name",
    "register_robot",
    "registered_robots",
    "MobileArmRobot",
    "MobileBaseRobot",
    "Robot",
    "RobotHandle",
    "RobotLayout",
    "control_modes_for",
    "make_robot",
    "robot_names",
    "validate_config",
]
