"""put_on_plate: the expert sets objects on plates; resting on the plate counts, on the table beside it not,
and the verdict survives the object falling asleep (sleeping islands drop its contacts)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from conftest import run_expert

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.tasks.instructions import instruction_forms
from simfarm.tasks.pick_place import workspace_objects
from simfarm.tasks.refer import resolve

SEEDS = range(5)


def hold_still(env: SimfarmEnv, steps: int) -> None:
    action = np.zeros(env.action_space.shape, dtype=np.float32)
    action[-1] = -1.0  # fingers open, arm where it is
    for _ in range(steps):
        env.step(action)


def drop_at(env: SimfarmEnv, xyz) -> None:
    """Put the goal object at `xyz`, upright and at rest (tests may; experts may not)."""
    task, data, model = env.task, env.data, env.model
    adr = int(model.jnt_qposadr[model.body_jntadr[task.obj_body]])
    dof = int(model.body_dofadr[task.obj_body])
    data.qpos[adr:adr + 3] = xyz
    data.qpos[adr + 3:adr + 7] = [1, 0, 0, 0]
    data.qvel[dof:dof + 6] = 0
    mujoco.mj_forward(model, data)


@pytest.fixture(scope="module")
def env():
    env = SimfarmEnv(EnvConfig(task="put_on_plate", scene="kitchen", obs_mode="state"))
    yield env
    env.close()


@pytest.fixture(scope="module")
def runs(env):
    return {seed: run_expert(env, seed) for seed in SEEDS}


def test_expert_sets_the_object_on_the_plate_on_most_kitchen_seeds(runs):
    assert sum(info["success"] for info, _ in runs.values()) >= 4


def test_subtasks_walk_grasp_then_place_and_all_are_done_on_success(runs):
    for info, walked in runs.values():
        if info["success"]:
            assert walked == [0, 1] and info["subtasks_done"] == 2


def test_success_is_false_at_reset_and_true_after_the_expert(env, runs):
    seed = next(s for s, (info, _) in runs.items() if info["success"])
    env.reset(seed=seed)
    assert not env.task.success(env.data)
    info, _ = run_expert(env, seed)
    assert info["success"] and env.task.success(env.data)


def test_goals_are_seeded_and_phrases_name_the_goal_objects(env):
    goals = {}
    for seed in range(6):
        _, info = env.reset(seed=seed)
        task = env.task
        objects = workspace_objects(task.scene)
        robot = task.scene.spec.robot
        assert resolve(task.obj_ref, objects, robot) == [task.obj]
        assert resolve(task.rec_ref, objects, robot) == [task.rec_obj]
        assert task.rec_obj.family == "plate"
        goals[seed] = (info["instruction"], task.goal.values)
    _, info = env.reset(seed=4)
    assert (info["instruction"], env.task.goal.values) == goals[4]
    assert len(set(g[0] for g in goals.values())) > 1


def test_on_the_plate_counts_even_asleep_beside_it_does_not(env):
    env.reset(seed=1)
    task, data = env.task, env.data
    plate = data.xpos[task.rec_body].copy()
    half_h = float(task.obj.size[2]) / 2
    top = plate[2] + task.rec.height_m / 2
    drop_at(env, [plate[0], plate[1], top + half_h + 0.003])
    hold_still(env, 10)
    assert task.success(data)
    hold_still(env, 40)  # long enough for the object's island to fall asleep
    assert not data.body_awake[task.obj_body]
    assert task.success(data)
    # On the table right beside the plate: touching furniture, not the plate.
    beside = plate[:2] + [task.rec.inner_half_m[0] + float(max(task.obj.size[:2])) / 2 + 0.02, 0.0]
    table_top = plate[2] - task.rec.height_m / 2
    drop_at(env, [beside[0], beside[1], table_top + half_h + 0.003])
    hold_still(env, 10)
    assert not task.success(data)


def test_instruction_forms():
    assert len(instruction_forms("put_on_plate")) >= 20
    assert instruction_forms("put_on_plate", "heldout")
