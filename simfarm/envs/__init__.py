"""Environments: the gymnasium env, its registered ids, and the dm_env adapter.

Importing this package (or `simfarm`) registers the ids and imports no MuJoCo; the env classes
load on first use.
"""

from __future__ import annotations

from typing import Any

from simfarm.envs.options import OBS_MODE_EXAMPLES, OBS_PARTS, check_env_options
from simfarm.envs.registration import env_id, env_ids, register_envs

ENV_IDS = register_envs()
_LAZY = {"EnvConfig": "simfarm.envs.simfarm_env", "SimfarmEnv": "simfarm.envs.simfarm_env",
         "DmEnvAdapter": "simfarm.envs.dm_env_adapter"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simfarm.envs' has no attribute {name!r}")


def make_env(task: str | dict[str, Any] = "pick_place", **kwargs: Any):
    """Entry point behind the registered ids: `gymnasium.make("simfarm/Push-v0", scene="kitchen")`.

    With no `scene` or `robot` given, the task's own defaults apply (`OpenDrawer-v0` opens a
    drawer in a kitchen; `PushTrolley-v0` drives the mobile base), so every id works as it is.
    """
    from simfarm.envs.simfarm_env import EnvConfig, SimfarmEnv
    from simfarm.tasks import task_class

    name = task if isinstance(task, str) else task["name"]
    cls = task_class(name)
    kwargs.setdefault("robot", cls.default_robot)
    kwargs.setdefault("scene", cls.default_scene)
    render_mode = kwargs.pop("render_mode", None)
    return SimfarmEnv(EnvConfig(task=task), render_mode=render_mode, **kwargs)


def validate_config(cfg: dict[str, Any]) -> None:
    """Config hook (simfarm.config.validate): the job's env options, by the env's own rules."""
    check_env_options(cfg)
    from simfarm.envs.cameras import check_job_cameras

    check_job_cameras(cfg)


__all__ = ["ENV_IDS", "OBS_MODE_EXAMPLES", "OBS_PARTS", "DmEnvAdapter", "EnvConfig", "SimfarmEnv", "check_env_options", "env_id",
           "env_ids", "make_env", "register_envs", "validate_config"]
