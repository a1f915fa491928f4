"""Shared pieces of the task tests."""

from __future__ import annotations

from simfarm.envs import SimfarmEnv


def run_expert(env: SimfarmEnv, seed: int) -> tuple[dict, list[int]]:
    """Run the task's expert on `seed`; returns the last info and the subtask indices it walked."""
    obs, info = env.reset(seed=seed)
    expert = env.make_expert()
    expert.reset(info["instruction"], seed)
    walked = [info["subtask_index"]]
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(expert.act(obs))
        done = term or trunc
        if info["subtask_index"] != walked[-1]:
            walked.append(info["subtask_index"])
    return info, walked
