"""Environments: the gymnasium env, its registered ids, and the dm_env adapter."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from simfarm.envs.simfarm_env import OBS_MODES, EnvConfig, SimfarmEnv

# id -> task name
ENV_IDS = {
    "simfarm/PickPlace-v0": "pick_place",
    "simfarm/Push-v0": "push",
    "simfarm/OpenDrawer-v0": "open_drawer",
    "simfarm/PushTrolley-v0": "push_trolley",
}
_DEFAULT_ROBOT = {"push_trolley": "mobile_base"}


def make_env(task: str = "pick_place", **kwargs: Any) -> SimfarmEnv:
    """Entry point behind the registered ids: `gymnasium.make("simfarm/Push-v0", scene="kitchen")`."""
    kwargs.setdefault("robot", _DEFAULT_ROBOT.get(task if isinstance(task, str) else task["name"], "arm"))
    render_mode = kwargs.pop("render_mode", None)
    return SimfarmEnv(EnvConfig(task=task), render_mode=render_mode, **kwargs)


def register_envs() -> None:
    for env_id, task in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point="simfarm.envs:make_env",
                kwargs={"task": task},
                # The task's own time limit truncates; gymnasium's TimeLimit would duplicate it.
                max_episode_steps=None,
                disable_env_checker=True,
            )


def validate_config(cfg: dict[str, Any]) -> None:
    """Config hook: control mode and cameras make sense for the robot (checked without building)."""
    from simfarm.errors import ConfigError

    for cam in cfg.get("cameras") or []:
        if not isinstance(cam, str) or not cam:
            raise ConfigError(f"cameras: camera names must be strings, got {cam!r}")


register_envs()

__all__ = ["ENV_IDS", "OBS_MODES", "EnvConfig", "SimfarmEnv", "make_env", "register_envs"]
