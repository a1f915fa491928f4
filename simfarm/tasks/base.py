"""Task interface: goal sampling, instruction, dense reward, success, privileged state, expert."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
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
    # Goal markers are a cue no real camera sees: off unless a user asks (render_goal_markers=true).
    show_goal_markers: bool = False


@dataclass
class Goal:
    """A sampled goal: the instruction, the values it is judged by (JSON-able), and the slots its
    instruction was filled from (the paraphrases and subtask labels use the same ones)."""

    instruction: str
    values: dict[str, Any] = field(default_factory=dict)
    slots: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Subtask:
    """One step of a goal: its label ("pick up the red mug") and when it is done, judged on the state.

    Progress through a task's subtasks only moves forward: the env labels each frame with the
    first subtask not yet done (simfarm.envs.simfarm_env), whatever policy drives the robot.
    """

    text: str
    done: Callable[[mujoco.MjData], bool]


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
    # Which instruction forms goals draw from (simfarm.tasks.instructions.FORM_SPLITS): "train"
    # when the job holds paraphrases out, "heldout" in the paraphrase suite.
    instruction_split: str = "all"

    # Set by composite tasks (simfarm.tasks.composite) on their steps: `composed` steps never change
    # the scene's initial state in reset (a close_drawer step finds the drawer as earlier steps left
    # it); `bindings` name the thing a goal value must be, `exclusions` things it must not be.
    composed: bool = False

    def __init__(self, config: dict[str, Any] | None = None):
        self.bindings: dict[str, Any] = {}
        self.exclusions: dict[str, set] = {}
        # Which scene objects may be the goal object (simfarm.suites: held-out objects); None: any.
        self.object_filter: Callable[[Any], bool] | None = None
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

    @classmethod
    def can_appear_in(cls, program) -> bool:
        """Whether scenes of room program `program` (simfarm.scene.catalog.RoomProgram; None: the
        fixed tabletop scene) can hold this task, beyond offering its workspace kind (listings and
        benchmark tables use it)."""
        return True

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

    def choose(self, rng: np.random.Generator, candidates: list, key: str, name_of: Callable[[Any], Any] = lambda c: c.name):
        """The goal's `key` thing among `candidates`: the bound one in a composite, else one drawn
        with `rng` (one draw, as a plain `candidates[rng.integers(n)]`) among those not excluded."""
        if key in self.bindings:
            bound = self.bindings[key]
            found = [c for c in candidates if name_of(c) == bound]
            if not found:
                raise TaskError(f"task {self.name}: the {key} {bound!r} an earlier step chose is not usable here")
            return found[0]
        excluded = self.exclusions.get(key, set())
        pool = [c for c in candidates if name_of(c) not in excluded]
        if key == "object" and self.object_filter is not None and self.scene is not None:
            by_name = {o.name: o for o in self.scene.spec.objects}
            pool = [c for c in pool if name_of(c) in by_name and self.object_filter(by_name[name_of(c)])]
        if not pool:
            raise TaskError(f"task {self.name}: no {key} left to choose (the others are taken by earlier steps)")
        return pool[int(rng.integers(len(pool)))]

    # -- language (templates in simfarm/tasks/templates/<templates>.yaml) ------------------------

    @property
    def templates(self) -> str:
        """The name of this task's template file (a task's own name by default)."""
        return self.name

    def make_goal(self, rng: np.random.Generator, values: dict[str, Any], **slots: str) -> Goal:
        """The goal of this episode: an instruction drawn from the task's forms, its slots kept."""
        from simfarm.tasks.instructions import render_instruction

        text = render_instruction(self.templates, rng, self.instruction_split, **slots)
        return Goal(text, values, dict(slots))

    def paraphrases(self) -> list[str]:
        """Every instruction form of this goal (the instruction among them), for LeRobot task_aug rows."""
        from simfarm.tasks.instructions import has_templates, paraphrases

        if self.goal is None or not has_templates(self.templates):
            return [self.instruction]
        found = paraphrases(self.templates, self.instruction_split, **self.goal.slots)
        return found if self.instruction in found else [self.instruction, *found]

    def subtask(self, key: str, done: Callable[[mujoco.MjData], bool]) -> Subtask:
        """Subtask `key` of the task's templates, labelled with the goal's slots."""
        from simfarm.tasks.instructions import subtask_text

        return Subtask(subtask_text(self.templates, key, **self.goal.slots), done)

    def subtasks(self) -> list[Subtask]:
        """The goal's steps in order, after reset; the last is done exactly when the task succeeds.

        The default is one step, the instruction itself. Tasks with stages (grasp, then place)
        override it.
        """
        return [Subtask(self.instruction, self.success)]

    def show_goal(self, data: mujoco.MjData, pos, size_m: float | None = None, rgba=None) -> None:
        """Put the goal marker at `pos` when the user asked for markers; otherwise keep it hidden."""
        if self.scene is not None and self.scene.show_goal_markers:
            set_goal_marker(self.scene.model, data, pos, size_m, rgba)
        else:
            hide_goal_marker(self.scene.model, data)

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
