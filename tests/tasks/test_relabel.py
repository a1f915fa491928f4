"""Experts as labellers (DAgger, DART): the label of a state comes from the state, not the labeller's path."""

from __future__ import annotations

import numpy as np
import pytest

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.tasks.expert import as_labeller


def _agreement(task: str, follow: bool, join_at: int, seeds=range(4)) -> tuple[float, float]:
    """A labeller that first sees each episode at step `join_at` while the expert drives: the share
    of its labels equal to the driver's action (motion within 4 mm, same gripper command), and
    the share with the same gripper command."""
    env = SimfarmEnv(EnvConfig(task=task, scene="tabletop", obs_mode="state", randomization="light"))
    same = grip = n = 0
    try:
        for seed in seeds:
            obs, info = env.reset(seed=seed)
            driver = env.make_expert()
            driver.reset(info["instruction"], seed)
            labeller = env.make_expert()
            if follow:
                as_labeller(labeller)
            labeller.reset(info["instruction"], seed)
            t, done = 0, False
            while not done:
                action = driver.act(obs)
                if t >= join_at:
                    label = labeller.act(obs)
                    labeller.executed(action)
                    grip += np.sign(label[6]) == np.sign(action[6])
                    same += np.abs(label[:3] - action[:3]).max() < 0.004 and np.sign(label[6]) == np.sign(action[6])
                    n += 1
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
                t += 1
            assert info["success"], f"{task} seed {seed}: the driving expert failed"
    finally:
        env.close()
    return same / n, grip / n


@pytest.mark.parametrize("task, join_at", [("pick_place", 20), ("push", 8), ("lift", 20)])
def test_a_labeller_joining_late_labels_what_the_driver_does(task, join_at):
    # The driver is the expert itself, so a state-derived label must agree with it. A stage machine
    # that only advances when asked (the labeller is not asked for the first steps) does not.
    # (`join_at`: the driver is grasping, or lowering behind the object.)
    same, grip = _agreement(task, follow=True, join_at=join_at)
    # (The label lifts once the fingers stop closing, 2-3 steps before the driver's timed hold ends.)
    assert same >= 0.65 and grip >= 0.9, (same, grip)
    if task != "push":  # (push's stage machine catches up by itself here: see the next test)
        stale, _ = _agreement(task, follow=False, join_at=join_at, seeds=range(2))
        assert stale < 0.3, stale


def test_a_push_label_goes_back_behind_the_object_once_the_hand_was_pulled_off_it():
    env = SimfarmEnv(EnvConfig(task="push", scene="tabletop", obs_mode="state", randomization="none"))
    try:
        obs, info = env.reset(seed=3)
        labels = {}
        for follow in (True, False):
            obs, info = env.reset(seed=3)
            driver, labeller = env.make_expert(), env.make_expert()
            if follow:
                as_labeller(labeller)
            for expert in (driver, labeller):
                expert.reset(info["instruction"], 3)
            while driver.stage < 2:  # the driver reaches the push
                action = driver.act(obs)
                labeller.act(obs)
                labeller.executed(action)
                obs, *_ = env.step(action)
            pulled = np.zeros(7, np.float32)
            pulled[2], pulled[6] = env.action_space.high[2], 1.0  # a learner lifts the hand straight up
            for _ in range(6):
                labeller.act(obs)
                labeller.executed(pulled)
                obs, *_ = env.step(pulled)
            labels[follow] = (labeller.act(obs), labeller.stage)
    finally:
        env.close()
    (follow_label, follow_stage), (stale_label, stale_stage) = labels[True], labels[False]
    # Straight down behind the object (the hand is above that spot), not on toward the target as
    # if still pushing: that would bring the fingers down onto the object.
    assert follow_stage == 1 and stale_stage == 2
    assert np.linalg.norm(follow_label[:2]) < 0.003 < np.linalg.norm(stale_label[:2]), (follow_label, stale_label)


def test_composites_pass_the_labelling_mode_on_to_each_step():
    env = SimfarmEnv(EnvConfig(task="push_then_place", scene="tabletop", obs_mode="state"))
    try:
        obs, info = env.reset(seed=0)
        chained = as_labeller(env.make_expert())
        chained.reset(info["instruction"], 0)
        chained.act(obs)
        assert chained._experts and all(e.follow_state for e in chained._experts)
    finally:
        env.close()
