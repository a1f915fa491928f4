"""Task interface: goal sampling, instruction, dense reward, success, privileged state, expert."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import mujoco
import numpy as np

from simfarm.errors import ConfigError, TaskError


@dataclass
class TaskScene:
    """What a task sees of a scene: the compiled model, its index, spec and the robot handle."""

    model: mujoco.MjModel
    index: Any  # simfarm.scene.SceneIndex
    spec: Any  # simfarm.scene.SceneSpec
    robot: Any  # simfarm.robots.RobotHandle (runtime ids, state, control)
    robot_model: Any  # simfarm.robots.Robot (reach, footprint)


@dataclass
class Goal:
    """A sampled goal: the ids the task tracks and the values it is judged by (JSON-able `describe`)."""

    instruction: str
    values: dict[str, Any] = field(default_factory=dict)


class Task(ABC):
    """One kind of job a robot can be asked to do in a scene.

    Subclasses declare what the scene must contain (`scene_request`), which robot parts they need,
    the size of their privileged state, and implement `reset`/`reward`/`success`/`expert`.
    """

    name: ClassVar[str]
    needs_arm: ClassVar[bool] = True
    needs_base: ClassVar[bool] = False
    default_control_mode: ClassVar[str] = "ee_delta"
    # What `gymnasium.make("simfarm/<Task>-v0")` uses when no scene or robot is given: a scene
    # that always holds what the task needs, and a robot that can do it.
    default_scene: ClassVar[str] = "tabletop"
    default_robot: ClassVar[str] = "panda"
    environment_state_names: ClassVar[tuple[str, ...]]
    # The task's options and their defaults; a config key outside these is an error.
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: dict[str, Any] | None = None):
        config = dict(config or {})
        config.pop("name", None)
        self.max_steps = int(config.pop("max_steps", 120))
        unknown = sorted(set(config) - set(self.defaults))
        if unknown:
            raise ConfigError(
                f"task.{unknown[0]}: unknown option of task {self.name!r}; accepted: "
                + ", ".join(["max_steps", *sorted(self.defaults)])
            )
        self.options = {**self.defaults, **config}
        self.goal: Goal | None = None
        self.scene: TaskScene | None = None

    @classmethod
    def scene_request(cls, config: dict[str, Any]):
        """The SceneRequest this task's scenes must satisfy."""
        from simfarm.scene import SceneRequest

        return SceneRequest()

    def check_scene(self, scene: TaskScene) -> None:
        """Raise TaskError when a sampled scene cannot host this task, judging from its SceneSpec
        alone (`scene.model`, `index` and `robot` are None): the env then draws the next scene
        without building this one. Must reject exactly what `reset` would reject for the same
        reason, so the scene an episode gets does not depend on which of the two caught it.
        The default accepts every scene."""
        return None

    @abstractmethod
    def reset(self, scene: TaskScene, data: mujoco.MjData, rng: np.random.Generator) -> Goal:
        """Sample a goal for this episode (using only `rng`) and show it (e.g. the goal marker)."""

    @abstractmethod
    def environment_state(self, data: mujoco.MjData) -> np.ndarray:
        """Privileged object state, float32 of fixed length len(environment_state_names)."""

    @abstractmethod
    def reward(self, data: mujoco.MjData) -> float:
        """Dense reward in [0, 1]-ish, 1 on success."""

    @abstractmethod
    def success(self, data: mujoco.MjData) -> bool:
        """Whether the goal is reached now."""

    @abstractmethod
    def make_expert(self, env) -> Any:
        """A scripted expert (simfarm.policies Policy) driving `env` through its action space."""

    @property
    def instruction(self) -> str:
        if self.goal is None:
            raise TaskError(f"task {self.name}: reset() must run before the instruction is read")
        return self.goal.instruction

    # True for tasks written for two arms (ALOHA-style); one-arm tasks refuse two-armed robots.
    bimanual: ClassVar[bool] = False

    @classmethod
    def check_robot(cls, robot) -> None:
        arms = len(getattr(robot, "arms", ("arm",)))
        if arms > 1 and not cls.bimanual:
            raise TaskError(f"task {cls.name} is for one arm; {robot.name!r} has {arms} (its tasks: the bimanual ones, "
                            "see simfarm list tasks --json)")
        if cls.bimanual and arms < 2:
            raise TaskError(f"task {cls.name} needs two arms; {robot.name!r} has one (try robot=aloha)")
        if cls.needs_arm and not robot.has_arm:
            raise TaskError(f"task {cls.name} needs a robot with an arm; {robot.name!r} has none (try robot=panda or robot=mobile_panda)")
        if cls.needs_base and not robot.has_base:
            raise TaskError(f"task {cls.name} needs a mobile base; {robot.name!r} has none (try robot=mobile_base or robot=mobile_panda)")


def set_goal_marker(model: mujoco.MjModel, data: mujoco.MjData, pos, size_m: float | None = None, rgba=None) -> None:
    """Move the scene's `goal` mocap marker (non-colliding) to `pos`, optionally resizing/recolouring it."""
    body_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, "goal")
    if body_id < 0 or model.body_mocapid[body_id] < 0:
        return
    data.mocap_pos[model.body_mocapid[body_id]] = pos
    geom_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "goal/marker")
    if geom_id >= 0:
        if size_m is not None:
            model.geom_size[geom_id, 0] = size_m
        if rgba is not None:
            model.geom_rgba[geom_id] = rgba


def hide_goal_marker(model: mujoco.MjModel, data: mujoco.MjData) -> None:
    set_goal_marker(model, data, (0.0, 0.0, -10.0))
