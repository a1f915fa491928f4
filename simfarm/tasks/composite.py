"""Composite tasks, declared in YAML: a sequence of atomic steps with bindings, no code.

`configs/task/<name>.yaml` with a `steps:` list makes a composite task:

    name: tidy_drawer
    max_steps: 450
    steps:
      - {task: open_drawer, bind: {drawer: d}}
      - {task: place_in_drawer, bind: {drawer: d}}
      - {task: close_drawer, bind: {drawer: d}, hold: true}
    instructions:                      # optional forms: {slot} is the first step's, {slot_k} step k's
      - "open the {drawer} drawer, put {obj_2} in it and close it"

`bind` maps a goal value of the step (its `goal.values` key, e.g. `drawer`, `object`, `target`) to
a variable: the first step that binds a variable chooses it, later steps must use the same thing
(`Task.choose`). `distinct: [var, ...]` makes a step choose something other than those variables'
things. `options:` are the step task's options. `hold` (default true) says the step's success must
still hold at the end (false for a step a later one undoes, like opening a drawer that is closed
again). Success is judged on the final state: every step done in order and every held step's
success true now; `subtasks_done` in the episode metadata records the partial progress.

All steps' goals are sampled at reset from the initial scene (steps never change the scene's
initial state: `Task.composed`), so the plan and the instruction are known from the first frame.
The expert chains the steps' experts, starting each one when its step becomes current.
"""

from __future__ import annotations

from typing import Any, ClassVar

import mujoco
import numpy as np

from simfarm.errors import ConfigError, TaskError
from simfarm.tasks.base import Goal, Subtask, Task, TaskScene

STEP_KEYS = ("task", "bind", "distinct", "options", "hold")


def composite_specs() -> dict[str, dict[str, Any]]:
    """name -> YAML of every composite in configs/task (files with a `steps` list)."""
    import yaml

    from simfarm.paths import configs_dir

    out = {}
    for path in sorted((configs_dir() / "task").glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        if isinstance(data, dict) and "steps" in data:
            out[path.stem] = data
    return out


def make_composite_class(name: str, spec: dict[str, Any]) -> type[Task]:
    """A Task subclass for composite `name` (its YAML `spec`), checked now."""
    steps = spec.get("steps")
    if not isinstance(steps, list) or not 2 <= len(steps) <= 8:
        raise ConfigError(f"configs/task/{name}.yaml: steps must list 2-8 steps, got {steps!r}")
    from simfarm.tasks import task_class

    parsed = []
    for k, step in enumerate(steps):
        step = {"task": step} if isinstance(step, str) else dict(step)
        unknown = sorted(set(step) - set(STEP_KEYS))
        if unknown:
            raise ConfigError(f"configs/task/{name}.yaml: steps[{k}].{unknown[0]}: unknown key; accepted: {', '.join(STEP_KEYS)}")
        cls = task_class(str(step.get("task")))
        if issubclass(cls, CompositeTask):
            raise ConfigError(f"configs/task/{name}.yaml: steps[{k}]: composites of composites are not supported")
        parsed.append(step)
    first = task_class(parsed[0]["task"])
    attrs = {
        "name": name,
        "steps_spec": tuple(parsed),
        "default_scene": spec.get("default_scene", first.default_scene),
        "default_robot": first.default_robot,
        "needs_arm": any(task_class(s["task"]).needs_arm for s in parsed),
        "needs_base": any(task_class(s["task"]).needs_base for s in parsed),
        "bimanual": first.bimanual,
        "default_control_mode": first.default_control_mode,
        "environment_state_names": tuple(
            f"step{k}.{n}" for k, s in enumerate(parsed) for n in task_class(s["task"]).environment_state_names),
        "__module__": __name__,
    }
    return type("".join(p.capitalize() for p in name.split("_")), (CompositeTask,), attrs)


class CompositeTask(Task):
    """A sequence of atomic tasks (subclassed per YAML by make_composite_class)."""

    steps_spec: ClassVar[tuple[dict[str, Any], ...]] = ()
    # The YAML keys besides max_steps; they are the composite's definition, not options to vary.
    defaults: ClassVar[dict] = {"steps": None, "instructions": None, "default_scene": None, "description": None}

    def __init__(self, config: dict[str, Any] | None = None):
        super().__init__(config)
        from simfarm.tasks import make_task

        self.steps = [make_task({"name": s["task"], **(s.get("options") or {})}) for s in self.steps_spec]
        for step in self.steps:
            step.composed = True
        self.current = 0

    @property
    def templates(self) -> str:
        return self.name

    @classmethod
    def scene_request(cls, config):
        from simfarm.scene import SceneRequest
        from simfarm.tasks import make_task

        requests = [type(make_task(s["task"])).scene_request(s.get("options") or {}) for s in cls.steps_spec]
        kinds = {r.workspace for r in requests if r.workspace is not None}
        if len(kinds) > 1:
            raise TaskError(f"composite {cls.name}: its steps need different workspaces {sorted(kinds)}")
        # Steps that must pick something other than an earlier step's thing need one more object each.
        extra = sum(1 for s in cls.steps_spec if s.get("distinct"))
        return SceneRequest(
            workspace=next(iter(kinds), None),
            min_workspace_objects=max(r.min_workspace_objects for r in requests) + extra,
            need_receptacle=any(r.need_receptacle for r in requests),
        )

    def check_scene(self, scene: TaskScene) -> None:
        for step in self.steps:
            step.check_scene(scene)

    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        self.scene = scene
        self.current = 0
        variables: dict[str, Any] = {}
        slots: dict[str, str] = {}
        for k, (spec, step) in enumerate(zip(self.steps_spec, self.steps, strict=True)):
            bind = dict(spec.get("bind") or {})
            step.bindings = {key: variables[var] for key, var in bind.items() if var in variables}
            step.exclusions = {}
            for var in spec.get("distinct") or ():
                if var not in variables:
                    raise TaskError(f"composite {self.name}: steps[{k}] is distinct from {var!r}, which no earlier step binds")
                for key in bind:
                    step.exclusions.setdefault(key, set()).add(variables[var])
                if not bind:
                    step.exclusions.setdefault("object", set()).add(variables[var])
            step.instruction_split = self.instruction_split
            step.object_filter = self.object_filter
            try:
                goal = step.reset(scene, data, rng)
            except TaskError as exc:
                raise TaskError(f"composite {self.name}, step {k + 1} ({step.name}): {exc}") from exc
            for key, var in bind.items():
                if var not in variables:
                    if key not in goal.values:
                        raise TaskError(f"composite {self.name}: step {step.name} has no goal value {key!r} to bind; "
                                        f"it has {', '.join(goal.values)}")
                    variables[var] = goal.values[key]
            for key, value in goal.slots.items():
                slots.setdefault(key, value)  # {obj}: the first step's; {obj_2}: step 2's
                slots[f"{key}_{k + 1}"] = value
        values = {"steps": [{"task": s.name, **s.goal.values} for s in self.steps], "bindings": variables}
        from simfarm.tasks.instructions import has_templates

        if has_templates(self.name):
            self.goal = self.make_goal(rng, values, **slots)
        else:
            text = ", then ".join(s.instruction for s in self.steps)
            self.goal = Goal(text, values, slots)
        return self.goal

    def subtasks(self) -> list[Subtask]:
        return [sub for step in self.steps for sub in step.subtasks()]

    def paraphrases(self) -> list[str]:
        from simfarm.tasks.instructions import has_templates

        return super().paraphrases() if has_templates(self.name) else [self.instruction]

    def _advance(self, data: mujoco.MjData) -> None:
        while self.current < len(self.steps) and self.steps[self.current].success(data):
            self.current += 1

    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        return np.concatenate([step.environment_state(data) for step in self.steps]).astype(np.float32)

    def success(self, data: mujoco.MjData) -> bool:
        self._advance(data)
        if self.current < len(self.steps):
            return False
        return all(step.success(data) for spec, step in zip(self.steps_spec, self.steps, strict=True) if spec.get("hold", True))

    def reward(self, data: mujoco.MjData) -> float:
        if self.success(data):
            return 1.0
        k = min(self.current, len(self.steps) - 1)
        return float((self.current + self.steps[k].reward(data)) / (len(self.steps) + 1))

    def make_expert(self, env):
        return ChainedExpert(env, self)


class _StepEnv:
    """The env as one step's expert sees it: the same robot and scene, `task` the step's task."""

    def __init__(self, env, task: Task):
        self._env = env
        self.task = task

    def __getattr__(self, name):
        return getattr(self._env, name)


class ChainedExpert:
    """Runs each step's expert while its step is current, starting (planning) it when it begins.

    Between two steps of an arm, the hand first rises straight up, its gripper as the last step
    left it (an expert that starts by opening the fingers beside the object it just pushed would
    knock it over), then draws back 10 cm toward the robot's base, clear of what it just worked
    on (an opened drawer it would otherwise push shut on its way); then the next step's expert
    plans from the scene as it is then.
    """

    name = "scripted"
    retreat_m = 0.10
    retreat_steps = 15
    back_m = 0.10
    back_steps = 15
    follow_state = False  # a labeller (simfarm.tasks.expert.as_labeller): passed on to each step's expert

    def __init__(self, env, composite: CompositeTask, noise_std: float = 0.0):
        self.env = env
        self.composite = composite
        self.noise_std = noise_std
        self._experts: list[Any] = []
        self._started = -1
        self._seed = 0
        self._retreat: Any = None
        self._retreat_left = 0

    def reset(self, instruction: str, seed: int) -> None:
        self._seed = int(seed)
        self._experts = [step.make_expert(_StepEnv(self.env, step)) for step in self.composite.steps]
        for expert in self._experts:
            expert.noise_std = self.noise_std
            if self.follow_state and hasattr(expert, "follow_state"):
                expert.follow_state = True
        self._started = -1
        self._retreat, self._retreat_left = None, 0

    def act(self, observation: Any) -> np.ndarray:
        composite = self.composite
        composite._advance(self.env.data)
        k = min(composite.current, len(self._experts) - 1)
        if k != self._started:
            if self._started >= 0 and self._retreat is None and self.env.robot.has_arm:
                self._start_retreat(self._experts[self._started])
            if self._retreat is not None:
                action = self._retreat_action()
                if action is not None:
                    return action
            step = composite.steps[k]
            self._experts[k].reset(step.instruction, self._seed + k)
            self._started = k
            self._retreat = None
        action = self._experts[k].act(observation)
        return action

    def executed(self, action: np.ndarray) -> None:
        """As a labeller: the driving policy's action reaches the current step's expert."""
        if 0 <= self._started < len(self._experts) and self._retreat is None:
            executed = getattr(self._experts[self._started], "executed", None)
            if executed is not None:
                executed(action)

    def _start_retreat(self, previous) -> None:
        from simfarm.tasks.expert import Waypoint

        pos, rot = self.env.handle.ee_pose(self.env.data)
        last = previous.waypoints[min(previous.stage, len(previous.waypoints) - 1)] if getattr(previous, "waypoints", None) else None
        grip = last.grip if last is not None else -1.0
        up = pos + np.array([0.0, 0.0, self.retreat_m])
        base = self.env.data.xpos[self.env.handle.root_body_id][:2]
        toward = base - up[:2]
        toward = toward / max(np.linalg.norm(toward), 1e-6) * self.back_m
        self._retreat = (previous, [Waypoint(up, rot, grip, tol_m=0.015, max_steps=self.retreat_steps),
                                    Waypoint(up + np.array([toward[0], toward[1], 0.0]), rot, grip, tol_m=0.015,
                                             max_steps=self.back_steps)])
        self._retreat_left = self.retreat_steps

    def _retreat_action(self):
        """One step up, then toward the starting pose (None once there or the steps are spent)."""
        previous, waypoints = self._retreat
        if not hasattr(previous, "step_toward"):
            return None
        pos, _ = self.env.handle.ee_pose(self.env.data)
        while waypoints and (self._retreat_left <= 0 or np.linalg.norm(waypoints[0].pos - pos) < waypoints[0].tol_m):
            waypoints.pop(0)
            self._retreat_left = waypoints[0].max_steps if waypoints else 0
        if not waypoints:
            return None
        self._retreat_left -= 1
        wp = waypoints[0]
        dpos, drot = previous.step_toward(self.env.handle, wp)
        action = previous.ee_action(dpos, drot, wp.grip)
        return np.clip(action, self.env.action_space.low, self.env.action_space.high).astype(np.float32)

    def close(self) -> None:
        for expert in self._experts:
            close = getattr(expert, "close", None)
            if close is not None:
                close()
