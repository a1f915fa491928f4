"""pick_from_shelf: the expert reaches into a bookshelf from the front, takes the named object off
its board and holds it clear of the shelf; the instruction names the board by its position."""

from __future__ import annotations

import pytest
from conftest import run_expert

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.tasks.instructions import instruction_forms
from simfarm.tasks.pick_from_shelf import board_index, board_phrase
from simfarm.tasks.refer import resolve

SEEDS = range(5)


@pytest.fixture(scope="module")
def env():
    env = SimfarmEnv(EnvConfig(task="pick_from_shelf", scene="living_room", obs_mode="state"))
    yield env
    env.close()


@pytest.fixture(scope="module")
def runs(env):
    return {seed: run_expert(env, seed) for seed in SEEDS}


def test_expert_takes_the_object_off_the_shelf_on_most_seeds(env, runs):
    assert sum(info["success"] for info, _ in runs.values()) >= 4


def test_subtasks_walk_grasp_then_take_and_all_are_done_on_success(runs):
    for info, walked in runs.values():
        if info["success"]:
            assert walked == [0, 1]
            assert info["subtasks_done"] == 2


def test_success_is_false_at_reset_and_true_after_the_expert(env, runs):
    seed = next(s for s, (info, _) in runs.items() if info["success"])
    env.reset(seed=seed)
    task = env.task
    assert not task.success(env.data) and task.out_of_shelf(env.data) < 0
    info, _ = run_expert(env, seed)
    assert info["success"] and task.success(env.data)
    assert task.holding(env.data) and task.out_of_shelf(env.data) > task.options["clear_m"]


def test_goals_are_seeded_and_phrases_name_the_goal_object_on_its_board(env):
    goals = {}
    for seed in range(6):
        _, info = env.reset(seed=seed)
        task = env.task
        robot = task.scene.spec.robot
        # The phrase picks out the object among those on the board the instruction names.
        assert resolve(task.obj_ref, task.found.on_board(task.board), robot) == [task.obj]
        assert board_index(task.obj) == task.board and task.board in task.found.reach
        assert task.obj_ref.text in info["instruction"] and task.board_text in info["instruction"]
        assert "marker" not in info["instruction"]
        goals[seed] = (info["instruction"], task.goal.values)
    _, info = env.reset(seed=3)
    assert (info["instruction"], env.task.goal.values) == goals[3]
    assert len({g[0] for g in goals.values()}) > 1


def test_boards_are_named_by_their_position():
    assert [board_phrase(k, 3) for k in range(3)] == ["the bottom shelf", "the middle shelf", "the top shelf"]
    assert [board_phrase(k, 4) for k in range(4)] == [
        "the bottom shelf", "the second shelf from the bottom", "the second shelf from the top", "the top shelf"]


def test_instruction_forms():
    assert len(instruction_forms("pick_from_shelf")) >= 20
    assert instruction_forms("pick_from_shelf", "heldout")


def test_kitchen_shelves_work_too():
    env = SimfarmEnv(EnvConfig(task="pick_from_shelf", scene="kitchen", obs_mode="state"))
    try:
        assert sum(run_expert(env, seed)[0]["success"] for seed in range(3)) >= 2
    finally:
        env.close()
