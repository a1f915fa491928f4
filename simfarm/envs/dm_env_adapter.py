"""The same tasks through the dm_env.Environment interface (dm_control, Acme)."""

from __future__ import annotations

from typing import Any

import dm_env
import numpy as np
from dm_env import specs
from gymnasium import spaces

from simfarm.envs.simfarm_env import SimfarmEnv


def _flatten_obs(obs: dict[str, Any]) -> dict[str, np.ndarray]:
    flat = {k: v for k, v in obs.items() if k != "images"}
    for cam, img in obs.get("images", {}).items():
        flat[f"images/{cam}"] = img
    return flat


def _spec_of(space: spaces.Box, name: str) -> specs.Array:
    if np.issubdtype(space.dtype, np.integer) or not np.all(np.isfinite(space.low)):
        if np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high)):
            return specs.BoundedArray(space.shape, space.dtype, space.low, space.high, name=name)
        return specs.Array(space.shape, space.dtype, name=name)
    return specs.BoundedArray(space.shape, space.dtype, space.low, space.high, name=name)


class DmEnvAdapter(dm_env.Environment):
    """Wraps a SimfarmEnv: FIRST on reset, MID while running, LAST with discount 0 on termination
    (success ends the task) and discount 1 on truncation (time limit: the future still has value)."""

    def __init__(self, env: SimfarmEnv, seed: int | None = None):
        self._env = env
        self._seed = seed
        self._needs_reset = True
        self.last_info: dict[str, Any] = {}

    @property
    def env(self) -> SimfarmEnv:
        return self._env

    def reset(self) -> dm_env.TimeStep:
        obs, self.last_info = self._env.reset(seed=self._seed)
        self._seed = None  # seed once; later resets continue the episode counter
        self._needs_reset = False
        return dm_env.restart(_flatten_obs(obs))

    def step(self, action) -> dm_env.TimeStep:
        if self._needs_reset:
            return self.reset()
        obs, reward, terminated, truncated, self.last_info = self._env.step(action)
        flat = _flatten_obs(obs)
        if terminated:
            self._needs_reset = True
            return dm_env.termination(reward, flat)
        if truncated:
            self._needs_reset = True
            return dm_env.truncation(reward, flat, discount=1.0)
        return dm_env.transition(reward, flat, discount=1.0)

    def observation_spec(self) -> dict[str, specs.Array]:
        space = self._env.observation_space
        out = {k: _spec_of(v, k) for k, v in space.spaces.items() if k != "images"}
        if "images" in space.spaces:
            for cam, sub in space.spaces["images"].spaces.items():
                out[f"images/{cam}"] = _spec_of(sub, f"images/{cam}")
        return out

    def action_spec(self) -> specs.BoundedArray:
        box = self._env.action_space
        return specs.BoundedArray(box.shape, box.dtype, box.low, box.high, name="action")

    def reward_spec(self) -> specs.Array:
        return specs.Array((), np.float64, name="reward")

    def discount_spec(self) -> specs.BoundedArray:
        return specs.BoundedArray((), np.float64, 0.0, 1.0, name="discount")

    def close(self) -> None:
        self._env.close()
