"""Tasks: what a robot is asked to do in a scene, with a scripted expert for each."""

from __future__ import annotations

from typing import Any

from simfarm.errors import ConfigError, TaskError
from simfarm.tasks.base import Goal, Task, TaskScene

# Modules of this package that hold shared pieces, not tasks.
_NOT_TASKS = ("base", "expert", "instructions", "refer", "regions", "composite")
_discovered: dict[str, type[Task]] = {}


def _registry() -> dict[str, type[Task]]:
    """Every task of the package: each module defines its Task subclass (a new task is one module)."""
    if not _discovered:
        import importlib
        import pkgutil

        import simfarm.tasks as package

        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            if info.name in _NOT_TASKS or info.name.startswith("_"):
                continue
            module = importlib.import_module(f"simfarm.tasks.{info.name}")
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, Task) and value.__module__ == module.__name__:
                    _discovered[value.name] = value
        # Composites: YAML only (configs/task/<name>.yaml with `steps`), after the atomic tasks they use.
        from simfarm.tasks.composite import composite_specs, make_composite_class

        for name, spec in composite_specs().items():
            _discovered[name] = make_composite_class(name, spec)
    return _discovered


def task_names() -> tuple[str, ...]:
    """The tasks' names, today's four first (as they always listed), then the others by name."""
    from simfarm.tasks.composite import CompositeTask

    first = ("pick_place", "push", "open_drawer", "push_trolley")
    names = _registry()
    atomic = sorted(n for n, c in names.items() if n not in first and not issubclass(c, CompositeTask))
    composite = sorted(n for n, c in names.items() if issubclass(c, CompositeTask))
    return (*[n for n in first if n in names], *atomic, *composite)


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
    if name not in task_names():
        from simfarm.checks import did_you_mean

        raise ConfigError(f"task.name: unknown task {name!r}{did_you_mean(str(name), task_names())}; accepted: {', '.join(task_names())}")
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


__all__ = ["TASKS", "task_names", "Goal", "Task", "TaskScene", "make_task", "task_class", "validate_config"]


def __getattr__(name: str):
    if name == "TASKS":  # the task names, discovered on first use
        return task_names()
    raise AttributeError(f"module 'simfarm.tasks' has no attribute {name!r}")
