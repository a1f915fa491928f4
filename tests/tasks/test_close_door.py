"""close_door: the door starts swung open (short of where it would meet the robot) and the expert pushes it shut."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from conftest import run_expert

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.errors import TaskError
from simfarm.robots import make_robot
from simfarm.scene import SceneRequest
from simfarm.scene.source import load_scene_source
from simfarm.tasks import make_task
from simfarm.tasks.base import TaskScene
from simfarm.tasks.instructions import instruction_forms
from simfarm.tasks.open_door import DoorGeometry

SEEDS = range(5)


@pytest.fixture(scope="module")
def env():
    env = SimfarmEnv(EnvConfig(task="close_door", scene="kitchen", obs_mode="state"))
    yield env
    env.close()


@pytest.fixture(scope="module")
def runs(env):
    return {seed: run_expert(env, seed) for seed in SEEDS}


def test_expert_shuts_the_door_on_most_kitchen_seeds(runs):
    assert sum(info["success"] for info, _ in runs.values()) >= 4


def test_subtasks_walk_reach_then_close_and_all_are_done_on_success(runs):
    for info, walked in runs.values():
        if info["success"]:
            assert walked == [0, 1] and info["subtasks_done"] == 2


def test_the_door_starts_open_within_the_range_and_success_waits_for_the_expert(env, runs):
    seed = next(s for s, (info, _) in runs.items() if info["success"])
    env.reset(seed=seed)
    task = env.task
    lo, hi = task.options["start_angle_rad"]
    assert lo <= task.angle(env.data) <= hi and not task.success(env.data)
    info, _ = run_expert(env, seed)
    assert info["success"] and task.angle(env.data) <= task.options["closed_angle_rad"]


def test_success_is_judged_by_the_hinge_angle(env):
    env.reset(seed=1)
    task, data = env.task, env.data
    for angle, expected in ((0.3, False), (0.05, True)):
        data.qpos[task.door.qpos_adr] = angle
        mujoco.mj_forward(env.model, data)
        assert task.success(data) == expected


def test_goals_are_seeded(env):
    goals = {}
    for seed in range(6):
        _, info = env.reset(seed=seed)
        assert "door" in info["instruction"]
        goals[seed] = (info["instruction"], env.task.goal.values)
    _, info = env.reset(seed=5)
    assert (info["instruction"], env.task.goal.values) == goals[5]
    assert len(set(str(g) for g in goals.values())) > 1


def test_start_angles_stay_short_of_where_the_door_meets_the_robot():
    robot = make_robot("panda")
    source = load_scene_source("kitchen")
    spec = source.sample(np.random.default_rng(0), robot=robot, request=SceneRequest(workspace="drawer"))
    free = DoorGeometry(spec).clearance_angle(robot.footprint_radius_m)
    scene = TaskScene(None, None, spec, None, robot)
    make_task({"name": "close_door", "start_angle_rad": [0.3, free - 0.1]}).check_scene(scene)
    with pytest.raises(TaskError, match="meet the robot"):
        make_task({"name": "close_door", "start_angle_rad": [0.3, free + 0.1]}).check_scene(scene)


def test_instruction_forms():
    assert len(instruction_forms("close_door")) >= 20
    assert instruction_forms("close_door", "heldout")
