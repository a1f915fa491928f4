"""stack: the expert stacks a block on another flat top on most workshop seeds; the predicate
wants it resting on the top, released and still; goals are seeded; the instruction names both
objects alone; subtasks walk in order; a scene without a stackable pair is refused."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np
import pytest

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.errors import TaskError
from simfarm.tasks import make_task
from simfarm.tasks.base import TaskScene
from simfarm.tasks.instructions import instruction_forms
from simfarm.tasks.refer import resolve


@pytest.fixture(scope="module")
def env():
    env = SimfarmEnv(EnvConfig(task="stack", scene="workshop", obs_mode="state"))
    yield env
    env.close()


def _run(env, seed):
    obs, first = env.reset(seed=seed)
    assert not env.task.success(env.data) and not first["success"]
    expert = env.make_expert()
    expert.reset(first["instruction"], seed)
    seen, done, info = [first["subtask_index"]], False, first
    while not done:
        obs, _, term, trunc, info = env.step(expert.act(obs))
        done = term or trunc
        seen.append(info["subtask_index"])
    return info, seen


def test_expert_stacks_on_most_seeds_with_subtasks_in_order(env):
    wins = 0
    for seed in range(5):
        info, seen = _run(env, seed)
        assert seen == sorted(seen) and set(seen) <= {0, 1}
        if info["success"]:
            wins += 1
            task, data = env.task, env.data
            assert seen[0] == 0 and seen[-1] == 1 and info["subtasks_done"] == len(task.subtasks()) == 2
            assert task.over_base(data) and not task.in_hand(data)
            assert abs(data.xpos[task.obj_body][2] - (task.base_top_z(data) + task.obj_half_height)) < 0.015
    assert wins >= 4


def test_a_block_held_over_the_base_is_not_stacked(env):
    env.reset(seed=0)
    task, data = env.task, env.data
    # Put the block where it would rest, but keep the fingers on it: not released.
    task.in_hand = lambda d: True
    qadr = env.model.jnt_qposadr[env.model.body_jntadr[task.obj_body]]
    data.qpos[qadr:qadr + 3] = [*data.xpos[task.base_body][:2], task.base_top_z(data) + task.obj_half_height]
    mujoco.mj_forward(env.model, data)
    assert task.over_base(data) and not task.success(data)
    del task.in_hand
    # Beside the base (not over its top): not stacked either.
    data.qpos[qadr] += 0.2
    mujoco.mj_forward(env.model, data)
    assert not task.over_base(data) and not task.success(data)


def test_goals_are_seeded_and_name_both_objects_alone(env):
    goals = []
    for seed in range(6):
        _, info = env.reset(seed=seed)
        task = env.task
        spec = env.built_scene.spec
        for key, obj in (("obj", task.obj), ("base", task.base)):
            assert resolve(task.refs[key], spec.workspace_objects(), spec.robot) == [obj]
            assert task.refs[key].text in info["instruction"]
        assert task.obj.family == "block" and task.base is not task.obj
        goals.append((info["instruction"], task.goal.values["object"], task.goal.values["base"]))
    _, again = env.reset(seed=2)
    assert (again["instruction"], env.task.goal.values["object"], env.task.goal.values["base"]) == goals[2]
    assert len(set(goals)) > 1


def test_a_scene_without_a_stackable_pair_is_refused(env):
    env.reset(seed=0)
    spec = env.built_scene.spec
    blocks = [o for o in spec.objects if o.family == "block"]
    # Keep one block and drop every other flat top: nothing to stack it on.
    keep = [o for o in spec.objects if o.family not in ("block", "book", "can")] + blocks[:1]
    task = make_task("stack")
    with pytest.raises(TaskError, match="stack needs"):
        task.check_scene(TaskScene(None, None, dataclasses.replace(spec, objects=tuple(keep)), None, env.robot))


def test_at_least_twenty_instruction_forms_in_both_splits():
    assert len(instruction_forms("stack")) >= 20
    assert instruction_forms("stack", "heldout") and instruction_forms("stack", "train")
    assert np.all([("{obj}" in f and "{base}" in f) for f in instruction_forms("stack")])
