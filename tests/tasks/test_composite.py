"""Composite tasks: declared in YAML, steps bound to the same things, plans and progress per frame."""

from __future__ import annotations

import pytest
import yaml

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.errors import ConfigError
from simfarm.tasks import make_task, task_names
from simfarm.tasks.composite import CompositeTask, composite_specs, make_composite_class


def test_composites_are_discovered_from_yaml_and_listed_after_the_atomic_tasks():
    names = task_names()
    for name in composite_specs():
        assert name in names and isinstance(make_task(name), CompositeTask)
    atomic = [n for n in names if not isinstance(make_task(n), CompositeTask)]
    assert names[: len(atomic)] == tuple(atomic)


def test_bindings_make_steps_use_the_same_thing_and_distinct_ones_differ():
    env = SimfarmEnv(EnvConfig(task="tidy_drawer", scene="kitchen", obs_mode="state"))
    for seed in range(3):
        env.reset(seed=seed)
        assert len({step.goal.values["drawer"] for step in env.task.steps}) == 1
        assert env.episode_info["plan"] == [s.text for step in env.task.steps for s in step.subtasks()]
    env = SimfarmEnv(EnvConfig(task="put_two_away", scene="kitchen", obs_mode="state"))
    for seed in range(4):
        env.reset(seed=seed)
        first, second = env.task.steps
        assert first.goal.values["target"] is not None and first.goal.values["target"] != second.goal.values["target"]
        assert first.goal.values["object"] != second.goal.values["object"]
        assert env.episode_info["plan"] == [s.text for step in env.task.steps for s in step.subtasks()]
    env.close()


def test_push_then_place_chains_the_experts_and_records_progress():
    env = SimfarmEnv(EnvConfig(task="push_then_place", scene="kitchen", obs_mode="state"))
    obs, info = env.reset(seed=3)
    push, place = env.task.steps
    assert push.goal.values["object"] == place.goal.values["object"]
    expert = env.make_expert()
    expert.reset(info["instruction"], 3)
    seen, done = [0], False
    while not done:
        obs, _, term, trunc, info = env.step(expert.act(obs))
        done = term or trunc
        if info["subtask_index"] != seen[-1]:
            seen.append(info["subtask_index"])
    assert info["success"] and info["subtasks_done"] == 4 and seen == [0, 1, 2, 3]


def test_a_broken_composite_yaml_fails_with_its_file_and_key(tmp_path):
    with pytest.raises(ConfigError, match=r"steps\[1\]\.bindd: unknown key"):
        make_composite_class("bad", yaml.safe_load("steps: [push, {task: pick_place, bindd: {object: o}}]"))
    with pytest.raises(ConfigError, match="2-8 steps"):
        make_composite_class("bad", {"steps": ["push"]})
