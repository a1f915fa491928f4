"""Language: template expansion, held-out forms, unambiguous referring expressions, subtasks, no marker cue."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.errors import TaskError
from simfarm.tasks import task_names
from simfarm.tasks.instructions import (
    expand,
    form_split,
    instruction_forms,
    paraphrases,
    render_instruction,
)
from simfarm.tasks.refer import Ref, candidates, refer_to, resolve


@dataclass
class Obj:
    name: str
    family: str
    color: str
    pos: tuple
    size: tuple = (0.08, 0.08, 0.1)


class Robot:
    pos = (0.0, 0.0, 0.0)
    yaw_rad = 0.0


def test_alternations_expand_to_every_combination_and_optional_words_vanish():
    assert expand("(put|place) {obj} (gently |)down") == [
        "put {obj} gently down", "put {obj} down", "place {obj} gently down", "place {obj} down"]
    assert expand("no alternation") == ["no alternation"]


def test_held_out_forms_are_a_fixed_disjoint_part_of_every_task():
    for task in task_names():
        train, held = set(instruction_forms(task, "train")), set(instruction_forms(task, "heldout"))
        assert train and held and not train & held, task
        assert train | held == set(instruction_forms(task)), task
        assert all(form_split(f) == "heldout" for f in held)


def test_render_draws_only_from_the_asked_split():
    rng = np.random.default_rng(0)
    held = set(paraphrases("push", "heldout", obj="the red can", dist="15 cm", dir="to the left"))
    for _ in range(30):
        assert render_instruction("push", rng, "heldout", obj="the red can", dist="15 cm", dir="to the left") in held


def test_a_phrase_is_refused_when_it_names_two_objects():
    a = Obj("a", "mug", "red", (0.5, 0.0, 0.8))
    b = Obj("b", "mug", "red", (0.5, 0.3, 0.8))
    c = Obj("c", "bowl", "white", (0.5, -0.3, 0.8), (0.16, 0.16, 0.06))
    objects = [a, b, c]
    assert resolve(Ref("mug", "red"), objects, Robot()) == [a, b]
    # Left is the robot's +y: b is the leftmost red mug, a the rightmost and the one next to the bowl.
    assert resolve(Ref("mug", "red", relation="leftmost"), objects, Robot()) == [b]
    assert resolve(Ref("mug", "red", relation="next_to", anchor=Ref("bowl", "white")), objects, Robot()) == []  # 30 cm apart
    phrase = refer_to(a, objects, np.random.default_rng(0), Robot())
    assert resolve(phrase, objects, Robot()) == [a] and phrase.text != "the red mug"


def test_no_phrase_at_all_is_a_task_error():
    a = Obj("a", "mug", "red", (0.5, 0.0, 0.8))
    b = Obj("b", "mug", "red", (0.5, 0.01, 0.8))  # the same mug, one centimetre over
    with pytest.raises(TaskError, match="no phrase picks out"):
        refer_to(a, [a, b], None, Robot())


def test_sizes_need_a_clear_difference():
    small = Obj("s", "can", "red", (0.5, 0.0, 0.8), (0.06, 0.06, 0.1))
    big = Obj("b", "can", "red", (0.5, 0.3, 0.8), (0.08, 0.08, 0.12))
    alike = Obj("c", "can", "red", (0.5, -0.3, 0.8), (0.062, 0.062, 0.1))
    assert resolve(Ref("can", "red", "small"), [small, big], Robot()) == [small]
    assert resolve(Ref("can", "red", "small"), [small, alike], Robot()) == []


def _denotations(text: str, objects, robot) -> list:
    """Every object some reading of `text` denotes: each candidate phrase of any object that is
    worded exactly as `text`, resolved."""
    found = []
    for o in objects:
        for ref in candidates(o, objects, robot):
            if ref.text == text:
                found += [x for x in resolve(ref, objects, robot) if x not in found]
    return found


@pytest.mark.parametrize("task,scene", [("pick_place", "kitchen"), ("push", "kitchen"), ("pick_place", "living_room")])
def test_instructions_pick_out_exactly_the_goal_objects_over_many_seeds(task, scene):
    env = SimfarmEnv(EnvConfig(task=task, scene=scene, obs_mode="state"))
    for seed in range(40):
        env.reset(seed=seed)
        t = env.task
        objects = list(env.built_scene.spec.workspace_objects())
        robot = env.built_scene.spec.robot
        assert _denotations(t.goal.slots["obj"], objects, robot) == [t.obj], (seed, t.instruction)
        target = getattr(t, "target", None)
        if task == "pick_place" and target is not None:
            phrase = t.goal.slots["where"].split(" ", 1)[1]
            assert _denotations(phrase, objects, robot) == [target], (seed, t.instruction)
    env.close()


def test_no_instruction_mentions_a_marker_and_markers_stay_hidden_by_default():
    for task in task_names():
        for form in instruction_forms(task):
            assert "marker" not in form and "target area" not in form, (task, form)
    env = SimfarmEnv(EnvConfig(task={"name": "pick_place", "target": "region"}, scene="kitchen", obs_mode="state"))
    shown = SimfarmEnv(EnvConfig(task={"name": "pick_place", "target": "region"}, scene="kitchen", obs_mode="state",
                                 render_goal_markers=True))
    for e in (env, shown):
        e.reset(seed=3)
    hidden_z = env.data.mocap_pos[env.built_scene.index.goal_mocap_id][2]
    shown_xyz = shown.data.mocap_pos[shown.built_scene.index.goal_mocap_id]
    assert hidden_z < -1.0  # below the floor: no camera sees it
    np.testing.assert_allclose(shown_xyz[:2], shown.task.region.point[:2])


def test_region_goals_are_named_by_real_things_and_judged_by_their_meaning():
    env = SimfarmEnv(EnvConfig(task={"name": "pick_place", "target": "region"}, scene="kitchen", obs_mode="state"))
    kinds = set()
    for seed in range(12):
        env.reset(seed=seed)
        region = env.task.region
        kinds.add(region.kind.split(":")[0])
        assert region.phrase in env.task.instruction
        assert region.contains(region.point[:2], env.data, 0.03)
        assert not region.contains(env.task.obj.pos[:2], env.data, 0.03)
    assert len(kinds) >= 2, kinds
    env.close()


@pytest.mark.parametrize("task,scene,robot", [("pick_place", "kitchen", "panda"), ("push", "kitchen", "panda"),
                                              ("open_drawer", "kitchen", "panda"),
                                              ("push_trolley", "living_room", "mobile_base"),
                                              ("transfer_cube", "tabletop", "aloha")])
def test_subtask_labels_follow_the_experts_steps_in_order(task, scene, robot):
    env = SimfarmEnv(EnvConfig(task=task, scene=scene, robot=robot, obs_mode="state"))
    successes = 0
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        plan = env.episode_info["plan"]
        assert len(plan) >= 2 and info["subtask_index"] == 0 and info["subtask"] == plan[0]
        expert = env.make_expert()
        expert.reset(info["instruction"], seed)
        seen, done = [0], False
        while not done:
            obs, _, term, trunc, info = env.step(expert.act(obs))
            done = term or trunc
            if info["subtask_index"] != seen[-1]:
                seen.append(info["subtask_index"])
        if info["success"]:
            successes += 1
            assert seen == list(range(len(plan))) and info["subtasks_done"] == len(plan), (seed, seen)
    assert successes >= 2
    env.close()
