"""`simfarm list robots|tasks|scenes [--json]`: what a job can name, one per line on stdout.

    simfarm list robots            # panda, ur5e, ... (`--json`: DoF, arms, cameras, control modes, reach)
    simfarm list tasks             # pick_place, push, ... (`--json`: robots that can do it, default scene)
    simfarm list scenes            # room programs and fixed scenes
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from simfarm.checks import one_of
from simfarm.errors import ConfigError

WHAT = ("robots", "tasks", "scenes")


def _robots(as_json: bool) -> list:
    from simfarm.robots import make_robot, registered_robots
    from simfarm.robots.registry import describe

    if not as_json:
        return list(registered_robots())
    return [describe(make_robot(name)) for name in registered_robots()]


def _tasks(as_json: bool) -> list:
    from simfarm.robots import make_robot, registered_robots
    from simfarm.tasks import TASKS, task_class

    if not as_json:
        return list(TASKS)
    robots = {name: make_robot(name) for name in registered_robots()}
    rows = []
    for name in TASKS:
        cls = task_class(name)
        able = []
        for robot_name, robot in robots.items():
            try:
                cls.check_robot(robot)
            except Exception:  # noqa: BLE001 - a robot that cannot do the task is simply not listed
                continue
            able.append(robot_name)
        rows.append({"name": name, "robots": able, "default_robot": cls.default_robot, "default_scene": cls.default_scene,
                     "control_mode": cls.default_control_mode, **_task_language(name, cls)})
    return rows


def _task_language(name: str, cls) -> dict:
    """Scenes a task can appear in, its subtask steps and instruction forms (and a composite's steps)."""
    from simfarm.scene.catalog import available_programs, load_program
    from simfarm.tasks import task_defaults
    from simfarm.tasks.composite import CompositeTask
    from simfarm.tasks.instructions import _load, instruction_forms

    try:
        kind = cls.scene_request(task_defaults(name)).workspace or "surface"
    except Exception:  # noqa: BLE001 - a composite of steps needing different workspaces
        kind = None
    scenes = [p for p in available_programs() if kind in load_program(p).workspace and cls.can_appear_in(load_program(p))]
    if kind == "surface" and cls.can_appear_in(None):
        scenes.append("tabletop")
    if cls.bimanual:  # two arms across their own table: the tabletop scene only (room programs refuse them)
        scenes = ["tabletop"]
    composite = issubclass(cls, CompositeTask)
    steps = [s["task"] for s in cls.steps_spec] if composite else []
    subtasks = ([f"{step}.{key}" for step in steps for key in (_load(step).get("subtasks") or {"task": None})]
                if composite else list(_load(name).get("subtasks") or {"task": None}))
    return {"scenes": scenes, "subtasks": subtasks, "instruction_forms": len(instruction_forms(name)),
            "composite": composite, **({"steps": steps} if composite else {})}


def _scenes(as_json: bool) -> list:
    from simfarm.scene.catalog import available_programs
    from simfarm.scene.source import fixed_scene_names

    if not as_json:
        return [*available_programs(), *fixed_scene_names()]
    return [*({"name": n, "kind": "room program"} for n in available_programs()),
            *({"name": n, "kind": "fixed"} for n in fixed_scene_names())]


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 0 if argv else 2
    what = one_of("list", argv[0], WHAT)
    flags = argv[1:]
    for flag in flags:
        if flag != "--json":
            raise ConfigError(f"list {what}: unknown argument {flag!r}; accepted: --json")
    as_json = "--json" in flags
    rows = {"robots": _robots, "tasks": _tasks, "scenes": _scenes}[what](as_json)
    if as_json:
        print(json.dumps(rows, indent=2))
    else:
        print("\n".join(rows))
    return 0
