"""sort: objects go to the receptacle of their own colour; scenes without a colour match are redrawn."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import run_expert

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.errors import TaskError
from simfarm.tasks import make_task
from simfarm.tasks.base import TaskScene
from simfarm.tasks.instructions import instruction_forms
from simfarm.tasks.pick_place import workspace_objects
from simfarm.tasks.refer import resolve

SEEDS = range(5)


@pytest.fixture(scope="module")
def env():
    env = SimfarmEnv(EnvConfig(task="sort", scene="kitchen", obs_mode="state"))
    yield env
    env.close()


@pytest.fixture(scope="module")
def runs(env):
    out = {}
    for seed in SEEDS:
        info, walked = run_expert(env, seed)
        out[seed] = (info, walked, len(env.task.pairs))
    return out


def test_expert_sorts_most_kitchen_seeds(runs):
    assert sum(info["success"] for info, _, _ in runs.values()) >= 4


def test_expert_sorts_a_two_pair_goal_and_walks_its_four_subtasks(env):
    # About one kitchen goal in six names two pairs: find one (resets are cheap), then run it.
    seed = next(s for s in range(60) if env.reset(seed=s)[0] is not None and len(env.task.pairs) >= 2)
    info, walked = run_expert(env, seed)
    assert info["success"]
    assert walked == [0, 1, 2, 3] and info["subtasks_done"] == 4


def test_subtasks_walk_grasp_and_place_per_pair_in_order(runs):
    for info, walked, n in runs.values():
        if info["success"]:
            assert walked == list(range(2 * n))
            assert info["subtasks_done"] == 2 * n


def test_success_is_false_at_reset_and_true_after_the_expert(env, runs):
    seed = next(s for s, (info, _, _) in runs.items() if info["success"])
    env.reset(seed=seed)
    assert not env.task.success(env.data)
    info, _ = run_expert(env, seed)
    assert info["success"] and env.task.success(env.data)


def test_pairs_match_colours_and_phrases_name_exactly_the_pair(env):
    goals = {}
    for seed in range(6):
        _, info = env.reset(seed=seed)
        task = env.task
        assert 1 <= len(task.pairs) <= 3
        assert len({p["rec_obj"].name for p in task.pairs}) == len(task.pairs)
        objects = workspace_objects(task.scene)
        robot = task.scene.spec.robot
        for p in task.pairs:
            obj_ref, rec_ref = p["obj_ref"], p["rec_ref"]
            assert p["obj"].color == p["rec_obj"].color
            assert resolve(obj_ref, objects, robot) == [p["obj"]]
            assert resolve(rec_ref, objects, robot) == [p["rec_obj"]]
            assert obj_ref.color == p["obj"].color and rec_ref.color == p["rec_obj"].color
            assert obj_ref.text in info["instruction"] and rec_ref.text in info["instruction"]
        goals[seed] = (info["instruction"], task.goal.values)
    _, info = env.reset(seed=2)
    assert (info["instruction"], env.task.goal.values) == goals[2]
    assert len(set(g[0] for g in goals.values())) > 1


def test_a_scene_without_a_colour_match_is_rejected(env):
    env.reset(seed=0)
    task = make_task("sort")
    spec = env.task.scene.spec
    # No object shares a receptacle's colour (the receptacles keep theirs).
    recoloured = tuple(o if o.receptacle else dataclasses.replace(o, color="cyan") for o in spec.objects)
    plain = dataclasses.replace(spec, objects=recoloured)
    task.check_scene(TaskScene(None, None, spec, None, env.robot))
    with pytest.raises(TaskError, match="colour"):
        task.check_scene(TaskScene(None, None, plain, None, env.robot))
    # One receptacle colour only: nothing to sort between.
    recs = [o for o in spec.workspace_objects() if o.receptacle]
    one = tuple(dataclasses.replace(o, color=recs[0].color) if o.receptacle else o for o in spec.objects)
    with pytest.raises(TaskError, match="receptacles of different colours"):
        task.check_scene(TaskScene(None, None, dataclasses.replace(spec, objects=one), None, env.robot))


def test_instruction_forms():
    assert len(instruction_forms("sort")) >= 20
    assert instruction_forms("sort", "heldout")
