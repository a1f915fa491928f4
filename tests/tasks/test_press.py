"""press: the expert presses the named button and lets go; the press is latched; phrases name one button."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.errors import TaskError
from simfarm.robots import make_robot
from simfarm.scene import sample_scene
from simfarm.tasks import make_task
from simfarm.tasks.base import TaskScene
from simfarm.tasks.instructions import instruction_forms
from simfarm.tasks.pick_place import workspace_objects
from simfarm.tasks.refer import resolve


@pytest.fixture(scope="module")
def env():
    env = SimfarmEnv(EnvConfig(task="press", scene="kitchen", obs_mode="state"))
    yield env
    env.close()


def _run_expert(env, seed: int) -> tuple[dict, list[int]]:
    obs, info = env.reset(seed=seed)
    expert = env.make_expert()
    expert.reset(info["instruction"], seed)
    seen, done = [info["subtask_index"]], False
    while not done:
        obs, _, term, trunc, info = env.step(expert.act(obs))
        seen.append(info["subtask_index"])
        done = term or trunc
    return info, seen


def test_expert_presses_the_button_and_lets_go_on_most_kitchen_seeds(env):
    results = []
    for seed in range(5):
        info, seen = _run_expert(env, seed)
        task = env.task
        results.append(info["success"])
        if info["success"]:
            assert task.pressed and task.released(env.data) and task.success(env.data)
            assert task.reward(env.data) == 1.0
            # Subtasks walk reach -> press in order, and both are done.
            assert seen == sorted(seen) and set(seen) == {0, 1}
            assert info["subtasks_done"] == len(task.subtasks()) == 2
    assert sum(results) >= 4


def test_workshop_expert_succeeds():
    env = SimfarmEnv(EnvConfig(task="press", scene="workshop", obs_mode="state"))
    assert sum(_run_expert(env, seed)[0]["success"] for seed in range(3)) >= 2
    env.close()


def test_success_needs_a_registered_press_then_the_hand_off_the_button(env):
    env.reset(seed=1)
    task = env.task
    assert not task.success(env.data) and not task.pressed and task.reward(env.data) < 0.5
    adr = task.qpos_adr
    # Half way in: no press.
    env.data.qpos[adr] = task.rest_q + 0.5 * task.press_depth_m
    mujoco.mj_forward(env.model, env.data)
    assert not task.is_pressed(env.data) and not task.success(env.data)
    # Past the press point: registered, but the cap is still down.
    env.data.qpos[adr] = task.rest_q + 1.05 * task.press_depth_m
    mujoco.mj_forward(env.model, env.data)
    assert task.is_pressed(env.data) and not task.success(env.data)
    # Back up with the hand far above: success, and the press stays latched.
    env.data.qpos[adr] = task.rest_q
    mujoco.mj_forward(env.model, env.data)
    assert env.data.site_xpos[task.tcp_site][2] > task.rest_top[2] + task.options["release_height_m"]
    assert task.success(env.data) and task.reward(env.data) == 1.0
    # A new episode forgets the press.
    env.reset(seed=1)
    assert not env.task.pressed and not env.task.success(env.data)


def test_a_registered_press_is_not_success_while_the_hand_is_still_on_the_button(env):
    obs, info = env.reset(seed=0)
    task = env.task
    expert = env.make_expert()
    expert.reset(info["instruction"], 0)
    on_button = []  # (pressed, touching, success) per step
    done = False
    while not done:
        obs, _, term, trunc, info = env.step(expert.act(obs))
        on_button.append((task.pressed, task.touching(env.data), info["success"]))
        done = term or trunc
    assert info["success"]
    first = next(k for k, (pressed, _, _) in enumerate(on_button) if pressed)
    assert on_button[first][1] and not on_button[first][2]  # registered under the fingers, not yet success
    assert all(pressed for pressed, _, _ in on_button[first:])  # latched
    assert not task.touching(env.data) and task.depth(env.data) < 0.3 * task.travel_m


def test_same_seed_gives_the_same_goal_and_seeds_differ(env):
    _, a = env.reset(seed=11)
    goal = dict(env.task.goal.values)
    _, b = env.reset(seed=11)
    assert env.task.goal.values == goal and a["instruction"] == b["instruction"]
    goals = {env.reset(seed=s)[1]["instruction"] + str(env.task.goal.values) for s in range(5)}
    assert len(goals) > 1


def test_the_phrase_picks_out_the_goal_button_alone(env):
    relational = 0
    for seed in range(12):
        _, info = env.reset(seed=seed)
        task = env.task
        context = [*task._room_buttons(task.scene), *workspace_objects(task.scene)]
        assert resolve(task.ref, context, task.scene.spec.robot) == [task.button], (seed, info["instruction"])
        assert task.ref.text in info["instruction"] and "button" in task.ref.text
        assert task.goal.values["button"] == task.button.name in task.scene.index.buttons
        # The named button sits on the workspace and its colour is the one its cap is drawn with.
        assert task.button.furniture == task.scene.spec.workspace
        assert task.ids.spec["color"] == task.button.color
        relational += task.ref.relation is not None
    assert relational >= 1


def test_scenes_without_a_button_in_reach_are_refused_before_they_are_built():
    task = make_task("press")
    robot = make_robot("panda")
    spec = sample_scene("living_room", np.random.default_rng(0), robot=robot)
    with pytest.raises(TaskError, match="press needs a button within reach"):
        task.check_scene(TaskScene(None, None, spec, None, robot))


def test_instruction_forms_and_state():
    assert len(instruction_forms("press")) >= 20
    assert instruction_forms("press", "heldout") and instruction_forms("press", "train")
    assert all("{button}" in f for f in instruction_forms("press"))
    task = make_task("press")
    assert len(task.environment_state_names) == 9 and task.max_steps == 80
