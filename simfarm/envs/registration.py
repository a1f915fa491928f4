"""Gymnasium ids, one per task: `simfarm/<TaskName>-v0`, registered when `simfarm` is imported.

Registration must stay cheap (gymnasium's convention: `import simfarm` registers, as does
`gym.register_envs(simfarm)`), so it reads only the task config file names (configs/task/*.yaml)
and imports no MuJoCo; `gym.make` imports the env. A new task's YAML gives it an id.
"""

from __future__ import annotations

import gymnasium as gym

from simfarm.errors import ConfigError

ENTRY_POINT = "simfarm.envs:make_env"


def env_id(task: str) -> str:
    """`pick_place` -> `simfarm/PickPlace-v0`."""
    return "simfarm/" + "".join(part.capitalize() for part in task.split("_")) + "-v0"


def env_ids() -> dict[str, str]:
    """Registered id -> task name, from the task configs."""
    from simfarm.paths import configs_dir

    try:
        names = sorted(p.stem for p in (configs_dir() / "task").glob("*.yaml"))
    except ConfigError:  # no data folders (a broken SIMFARM_ROOT): commands report it, import must not
        return {}
    return {env_id(name): name for name in names}


def register_envs() -> dict[str, str]:
    """Register every task's id (idempotent); returns id -> task."""
    ids = env_ids()
    for id_, task in ids.items():
        if id_ not in gym.registry:
            gym.register(
                id=id_,
                entry_point=ENTRY_POINT,
                kwargs={"task": task},
                # The task's own time limit truncates; gymnasium's TimeLimit would duplicate it.
                max_episode_steps=None,
                disable_env_checker=True,
            )
    return ids
