"""open_door: the expert pulls the cabinet's door open by its handle and pushes it the rest of the way;
scenes where the door would meet the robot before the goal angle are redrawn."""

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
    env = SimfarmEnv(EnvConfig(task="open_door", scene="kitchen", obs_mode="state"))
    yield env
    env.close()


@pytest.fixture(scope="module")
def runs(env):
    return {seed: run_expert(env, seed) for seed in SEEDS}


def test_expert_opens_the_door_on_most_kitchen_seeds(runs):
    assert sum(info["success"] for info, _ in runs.values()) >= 4


def test_subtasks_walk_reach_then_open_and_all_are_done_on_success(runs):
    for info, walked in runs.values():
        if info["success"]:
            assert walked == [0, 1] and info["subtasks_done"] == 2


def test_success_is_false_at_reset_and_true_after_the_expert(env, runs):
    seed = next(s for s, (info, _) in runs.items() if info["success"])
    env.reset(seed=seed)
    task = env.task
    assert abs(task.angle(env.data)) < 1e-9 and not task.success(env.data)
    info, _ = run_expert(env, seed)
    assert info["success"] and task.angle(env.data) >= task.options["open_angle_rad"]


def test_success_is_judged_by_the_hinge_angle(env):
    env.reset(seed=1)
    task, data = env.task, env.data
    goal = task.options["open_angle_rad"]
    for angle, expected in ((0.5 * goal, False), (goal + 0.01, True)):
        data.qpos[task.door.qpos_adr] = angle
        mujoco.mj_forward(env.model, data)
        assert task.success(data) == expected


def test_goals_are_seeded_and_the_instruction_names_the_cabinet_door(env):
    goals = {}
    for seed in range(6):
        _, info = env.reset(seed=seed)
        assert "door" in info["instruction"] and "cabinet" in info["instruction"]
        goals[seed] = (info["instruction"], env.task.goal.values)
    _, info = env.reset(seed=2)
    assert (info["instruction"], env.task.goal.values) == goals[2]
    assert len(set(g[0] for g in goals.values())) > 1


def test_the_door_swings_toward_the_robot_and_scenes_where_it_would_meet_it_are_rejected():
    robot = make_robot("panda")
    source = load_scene_source("kitchen")
    spec = source.sample(np.random.default_rng(0), robot=robot, request=SceneRequest(workspace="drawer"))
    door = DoorGeometry(spec)
    free = door.clearance_angle(robot.footprint_radius_m)
    # The robot stands in the door's swing: somewhere short of the hinge's 1.7 rad it meets the base.
    assert 0.6 < free < 1.7
    assert door.panel_distance(free + 0.05, door.robot_local) < robot.footprint_radius_m + 0.02
    scene = TaskScene(None, None, spec, None, robot)
    make_task({"name": "open_door", "open_angle_rad": free - 0.2}).check_scene(scene)
    with pytest.raises(TaskError, match="meets the robot"):
        make_task({"name": "open_door", "open_angle_rad": free}).check_scene(scene)


def test_instruction_forms():
    assert len(instruction_forms("open_door")) >= 20
    assert instruction_forms("open_door", "heldout")
