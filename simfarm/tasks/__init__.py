"""Tasks: what a robot is asked to do in a scene, with a scripted expert for each."""

from __future__ import annotations

from typing import Any

from simfarm.errors import ConfigError, TaskError
from simfarm.tasks.base import Goal, Task, TaskScene


def _registry() -> dict[str, type[Task]]:
    from simfarm.tasks.open_drawer import OpenDrawer
    from simfarm.tasks.pick_place import PickPlace
    from simfarm.tasks.push import Push
    from simfarm.tasks.push_trolley import PushTrolley

    return {cls.name: cls for cls in (PickPlace, Push, OpenDrawer, PushTrolley)}


TASKS = ("pick_place", "push", "open_drawer", "push_trolley")


def task_class(name: str) -> type[Task]:
    registry = _registry()
    if name not in registry:
        raise TaskError(f"unknown task {name!r}; accepted: {', '.join(sorted(registry))}")
    return registry[name]


def make_task(config: dict[str, Any] | str) -> Task:
    """A task from its config section ({name: ..., max_steps: ..., options}) or its name."""
    if isinstance(config, str):
        config = {"name": config}
    cls = task_class(config["name"])
    # Options missing from the given config take the values of configs/task/<name>.yaml (time limit
    # included), so `make_task("push")` and a Hydra-composed job agree.
    return cls({**task_defaults(cls.name), **config})


def task_defaults(name: str) -> dict[str, Any]:
    """The options of configs/task/<name>.yaml ({} when the file is absent)."""
    import yaml

    from simfarm.paths import configs_dir

    path = configs_dir() / "task" / f"{name}.yaml"
    if not path.exists():
        return {}
    return dict(yaml.safe_load(path.read_text()) or {})


def validate_config(cfg: dict[str, Any]) -> None:
    """Config hook (simfarm.config.validate): the task exists and accepts its options."""
    task_cfg = cfg.get("task") or {}
    name = task_cfg.get("name")
    if name not in TASKS:
        raise ConfigError(f"task.name: unknown task {name!r}; accepted: {', '.join(TASKS)}")
    task = make_task(task_cfg)
    robot_cfg = cfg.get("robot")
    if robot_cfg is None:
        return
    from simfarm.robots import make_robot
    from simfarm.robots.mix import check_compatible, is_mix, mix_weights

    if is_mix(robot_cfg):
        weights = mix_weights(robot_cfg)
        check_compatible(weights, cfg.get("control_mode"), task.default_control_mode, cfg.get("cameras"))
        members = [({"name": member}, f"robot.mix.{member}") for member in weights]
    else:
        members = [({"name": robot_cfg} if isinstance(robot_cfg, str) else dict(robot_cfg), "robot")]
    for member_cfg, key in members:
        robot = make_robot(member_cfg.pop("name"), **member_cfg)
        try:
            task.check_robot(robot)
        except TaskError as exc:
            raise ConfigError(f"{key}: {exc}") from exc
        mode = cfg.get("control_mode") or task.default_control_mode
        if mode not in robot.control_modes:
            raise ConfigError(
                f"control_mode: task {name!r} on robot {robot.name!r} would use {mode!r}, which the robot lacks; "
                f"accepted: {', '.join(robot.control_modes)}"
            )


__all__ = ["TASKS", "Goal", "Task", "TaskScene", "make_task", "task_class", "validate_config"]
