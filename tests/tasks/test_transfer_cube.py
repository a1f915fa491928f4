"""transfer_cube on ALOHA: the bimanual expert hands the block over; one- and two-arm tasks keep to their robots."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import simfarm  # noqa: F401
from simfarm import config as C
from simfarm.errors import ConfigError, TaskError
from simfarm.rollout import EpisodeRunner


def test_expert_hands_the_block_from_left_to_right():
    env = gym.make("simfarm/TransferCube-v0").unwrapped
    try:
        wins = 0
        for seed in range(3):
            obs, info = env.reset(seed=seed)
            assert not info["success"] and "right" in info["instruction"]
            expert = env.make_expert()
            expert.reset(env.task.instruction, seed)
            for _ in range(env.max_steps):
                obs, reward, terminated, truncated, info = env.step(expert.act(obs))
                if terminated or truncated:
                    break
            touching = env.task._touching(env.data)
            wins += info["success"]
            if info["success"]:
                assert touching == {"left": 0, "right": 2} and reward == 1.0
        assert wins == 3
    finally:
        env.close()


def test_one_arm_and_two_arm_tasks_refuse_the_other_kind_of_robot():
    with pytest.raises(TaskError, match="is for one arm; 'aloha' has 2"):
        gym.make("simfarm/PickPlace-v0", robot="aloha")
    with pytest.raises(TaskError, match="needs two arms; 'panda' has one"):
        gym.make("simfarm/TransferCube-v0", robot="panda")
    with pytest.raises(ConfigError, match="scene: robot 'aloha' has two arms.*use scene=tabletop"):
        C.validate(C.compose("generate", ["task=transfer_cube", "robot=aloha"]))


def test_bimanual_episodes_record_both_arms_canonical_view():
    cfg = C.to_dict(C.compose("generate", ["task=transfer_cube", "robot=aloha", "scene=tabletop", "obs_mode=state"]))
    runner = EpisodeRunner(cfg)
    try:
        ep = runner.run(0)
    finally:
        runner.close()
    assert ep.success
    assert ep.steps["action"].shape[1] == 14 and ep.steps["observation.state"].shape[1] == 28
    assert ep.steps["observation.ee_pose"].shape[1] == 16 and ep.steps["action.ee_delta"].shape[1] == 14
    names = ep.metadata["names"]
    assert names["action.ee_delta"][0] == "left_dx" and names["action.ee_delta"][7] == "right_dx"
    assert np.allclose(ep.steps["action.ee_delta"][:, 7:10], ep.steps["action"][:, 7:10], atol=1e-6)
