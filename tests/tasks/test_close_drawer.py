"""close_drawer: the expert pushes an open drawer of the workspace cabinet shut; the instruction names it."""

from __future__ import annotations

import mujoco
import pytest
from conftest import run_expert

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.tasks.instructions import instruction_forms

SEEDS = range(5)


@pytest.fixture(scope="module")
def env():
    env = SimfarmEnv(EnvConfig(task="close_drawer", scene="kitchen", obs_mode="state"))
    yield env
    env.close()


@pytest.fixture(scope="module")
def runs(env):
    return {seed: run_expert(env, seed) for seed in SEEDS}


def test_expert_closes_the_drawer_on_most_kitchen_seeds(runs):
    assert sum(info["success"] for info, _ in runs.values()) >= 4


def test_subtasks_walk_reach_then_close_and_all_are_done_on_success(runs):
    for info, walked in runs.values():
        if info["success"]:
            assert walked == [0, 1] and info["subtasks_done"] == 2


def test_the_drawer_starts_open_and_success_is_false_until_the_expert_shuts_it(env, runs):
    seed = next(s for s, (info, _) in runs.items() if info["success"])
    env.reset(seed=seed)
    task = env.task
    lo, hi = task.options["start_open_fraction"]
    assert lo * task.drawer.travel_m <= task.opening(env.data) <= hi * task.drawer.travel_m
    assert not task.success(env.data) and task.reward(env.data) < 1.0
    info, _ = run_expert(env, seed)
    assert info["success"] and task.success(env.data) and task.reward(env.data) == 1.0


def test_success_is_judged_by_the_drawer_opening(env):
    env.reset(seed=1)
    task, data = env.task, env.data
    closed = task.options["closed_fraction"] * task.drawer.travel_m
    data.qpos[task.drawer.qpos_adr] = task.drawer.closed_q + 2 * closed
    mujoco.mj_forward(env.model, data)
    assert not task.success(data)
    data.qpos[task.drawer.qpos_adr] = task.drawer.closed_q + 0.5 * closed
    mujoco.mj_forward(env.model, data)
    assert task.success(data)


def test_goals_are_seeded_and_the_instruction_names_the_open_drawer(env):
    goals = {}
    for seed in range(6):
        _, info = env.reset(seed=seed)
        task = env.task
        prefix = f"furn/{env.built_scene.spec.workspace}/"
        drawers = sorted(((n, ids) for n, ids in env.built_scene.index.drawers.items() if n.startswith(prefix)),
                         key=lambda kv: -env.data.site_xpos[kv[1].handle_site_id][2])
        names = [name for name, _ in drawers]
        phrase = task.goal.slots["drawer"]
        assert phrase in info["instruction"]
        # The phrase's position word picks out the drawer that is open.
        if len(names) == 2:
            assert phrase == ("the top drawer" if names.index(task.drawer.slot.body) == 0 else "the bottom drawer")
        else:
            assert phrase == "the drawer"
        # Every other drawer is shut.
        for name, ids in drawers:
            if name != task.drawer.slot.body:
                assert abs(env.data.qpos[ids.qpos_adr]) < 1e-9
        goals[seed] = (info["instruction"], task.goal.values)
    _, info = env.reset(seed=3)
    assert (info["instruction"], env.task.goal.values) == goals[3]
    assert len(set(str(g) for g in goals.values())) > 1


def test_instruction_forms():
    assert len(instruction_forms("close_drawer")) >= 20
    assert instruction_forms("close_drawer", "heldout")
