"""simfarm's environments in LeRobot's own evaluation (`lerobot-eval`), through its env plugins.

LeRobot 0.4.4 loads `--env.discover_packages_path=PACKAGE` before it parses the rest of the
command line; importing this package registers an `EnvConfig` of type `simfarm` and, for every
simfarm task, a gymnasium id `simfarm_lerobot/<Task>-v0` whose observations are in the form
LeRobot's `preprocess_observation` reads (`agent_pos`, `environment_state`, `pixels/<camera>`):

    lerobot-eval --env.discover_packages_path=simfarm.lerobot_env --env.type=simfarm \\
        --env.task=PickPlace-v0 --env.scene=tabletop --policy.path=CHECKPOINT \\
        --eval.n_episodes=10 --eval.batch_size=1 --output_dir=outputs/eval/pick_place

`--env.task` is a simfarm gymnasium id without its `simfarm/` prefix (`simfarm list tasks`);
`robot`, `scene`, `randomization`, `obs_mode`, `cameras`, `camera_height`/`camera_width`, `split`
and `episode_length` are the simfarm env options of the same names (defaults: the task's robot
and scene, `light`, `rgb+state`, the robot's cameras, 224x224, the held-out `test` split).
Needs the extra: `pip install 'simfarm[lerobot]'`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from lerobot.configs.types import FeatureType, PolicyFeature
from lerobot.envs.configs import EnvConfig

from simfarm.envs import env_ids
from simfarm.errors import SimfarmError

NAMESPACE = "simfarm_lerobot"


class EnvOptionError(ValueError):
    """A `--env.*` option LeRobot passed that simfarm refuses (one line, naming the option)."""


def _one_line_errors(previous):
    """sys.excepthook: LeRobot's parser wraps a refused option in its own ParsingError; print the
    option's one line (`lerobot-eval: error: env.task: ...`) instead of the traceback."""

    def hook(exc_type, exc, tb):
        cause, seen = exc, set()
        while cause is not None and id(cause) not in seen:
            if isinstance(cause, EnvOptionError):
                print(f"{Path(sys.argv[0]).name or 'lerobot'}: error: {cause}", file=sys.stderr)
                return
            seen.add(id(cause))
            cause = cause.__cause__ or cause.__context__
        previous(exc_type, exc, tb)

    hook.simfarm = True
    return hook


if not getattr(sys.excepthook, "simfarm", False):
    sys.excepthook = _one_line_errors(sys.excepthook)
ENTRY_POINT = "simfarm.lerobot_env:make_lerobot_env"


class LeRobotObservations(gym.Wrapper):
    """A simfarm env seen as LeRobot's sim envs are: `agent_pos`, `environment_state`, `pixels`.

    `task_description` (what `lerobot-eval` passes to language-conditioned policies) is the
    episode's instruction; `info["is_success"]` is simfarm's success.
    """

    def __init__(self, env: gym.Env):
        super().__init__(env)
        parts = env.observation_space.spaces
        spaces: dict[str, gym.Space] = {}
        if "state" in parts:
            spaces["agent_pos"] = parts["state"]
            spaces["environment_state"] = parts["environment_state"]
        if "images" in parts:
            spaces["pixels"] = parts["images"]
        if not spaces:
            raise ValueError(f"obs_mode {env.unwrapped.config.obs_mode!r}: lerobot-eval needs 'state' or 'rgb'")
        self.observation_space = gym.spaces.Dict(spaces)
        self._max_episode_steps = int(env.unwrapped.max_steps)

    def _convert(self, observation: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "agent_pos" in self.observation_space.spaces:
            out["agent_pos"] = observation["state"]
            out["environment_state"] = observation["environment_state"]
        if "pixels" in self.observation_space.spaces:
            out["pixels"] = dict(observation["images"])
        return out

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        return self._convert(observation), info

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(np.asarray(action, np.float32))
        return self._convert(observation), float(reward), terminated, truncated, info

    @property
    def task_description(self) -> str:
        return self.env.unwrapped.task.instruction

    @property
    def task(self) -> str:
        return self.env.unwrapped.task.instruction


def make_lerobot_env(task: str, **kwargs: Any) -> gym.Env:
    """The gymnasium entry point of `simfarm_lerobot/<Task>-v0`."""
    from simfarm.envs import make_env

    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    if "camera_height" in kwargs or "camera_width" in kwargs:
        kwargs["camera_size"] = (int(kwargs.pop("camera_height", 224)), int(kwargs.pop("camera_width", 224)))
    if "episode_length" in kwargs:
        kwargs["max_steps"] = int(kwargs.pop("episode_length"))
    kwargs.setdefault("render_mode", "rgb_array")
    return LeRobotObservations(make_env(task, **kwargs))


def register() -> None:
    """One `simfarm_lerobot/<Task>-v0` per simfarm task (idempotent)."""
    for id_, task in env_ids().items():
        twin = f"{NAMESPACE}/{id_.split('/', 1)[1]}"
        if twin not in gym.registry:
            gym.register(id=twin, entry_point=ENTRY_POINT, kwargs={"task": task},
                         max_episode_steps=None, disable_env_checker=True)


@EnvConfig.register_subclass("simfarm")
@dataclass
class SimfarmEnv(EnvConfig):
    """`--env.type=simfarm`: one simfarm task as a LeRobot sim env (features from its spaces)."""

    task: str | None = "PickPlace-v0"
    fps: int = 10
    robot: str | None = None
    scene: str | None = None
    randomization: str = "light"
    obs_mode: str = "rgb+state"
    cameras: list[str] | None = None
    camera_height: int = 224
    camera_width: int = 224
    split: str = "test"
    episode_length: int | None = None
    features: dict[str, PolicyFeature] = field(default_factory=dict)
    features_map: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.gym_id not in gym.registry:
            accepted = sorted(k.split("/", 1)[1] for k in gym.registry if k.startswith(f"{NAMESPACE}/"))
            raise EnvOptionError(f"env.task: unknown simfarm task {self.task!r}; accepted: {', '.join(accepted)}")
        # The features LeRobot builds a policy's action output from: read off the env's spaces.
        try:
            env = gym.make(self.gym_id, **self.gym_kwargs)
        except (SimfarmError, ValueError) as exc:  # simfarm's own one line (robot, scene, obs_mode, ...)
            raise EnvOptionError(f"env: {exc}") from exc
        try:
            if int(env.unwrapped.config.control_hz) != int(self.fps):
                self.fps = int(env.unwrapped.config.control_hz)
            spaces = env.observation_space.spaces
            self.features = {"action": PolicyFeature(type=FeatureType.ACTION, shape=tuple(env.action_space.shape))}
            self.features_map = {"action": "action"}
            if "agent_pos" in spaces:
                self.features["agent_pos"] = PolicyFeature(type=FeatureType.STATE, shape=tuple(spaces["agent_pos"].shape))
                self.features["environment_state"] = PolicyFeature(
                    type=FeatureType.ENV, shape=tuple(spaces["environment_state"].shape))
                self.features_map["agent_pos"] = "observation.state"
                self.features_map["environment_state"] = "observation.environment_state"
            for cam, space in getattr(spaces.get("pixels"), "spaces", {}).items():
                self.features[f"pixels/{cam}"] = PolicyFeature(type=FeatureType.VISUAL, shape=tuple(space.shape))
                self.features_map[f"pixels/{cam}"] = f"observation.images.{cam}"
        finally:
            env.close()

    @property
    def package_name(self) -> str:
        return __name__

    @property
    def gym_id(self) -> str:
        return f"{NAMESPACE}/{self.task}"

    @property
    def gym_kwargs(self) -> dict[str, Any]:
        return {"robot": self.robot, "scene": self.scene, "randomization": self.randomization,
                "obs_mode": self.obs_mode, "cameras": self.cameras, "camera_height": self.camera_height,
                "camera_width": self.camera_width, "split": self.split, "episode_length": self.episode_length}


register()
