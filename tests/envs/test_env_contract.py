"""Env specifications: registered ids, checker, vector envs, seeding, dm_env, safety, bad inputs."""

from __future__ import annotations

import dm_env
import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import simfarm.envs  # noqa: F401  (registers the ids)
from simfarm.envs import ENV_IDS, EnvConfig, SimfarmEnv
from simfarm.envs.dm_env_adapter import DmEnvAdapter
from simfarm.errors import ConfigError, RobotError, TaskError


def test_all_four_ids_are_registered():
    assert set(ENV_IDS) <= set(gym.registry)


@pytest.mark.parametrize("env_id", ["simfarm/PickPlace-v0", "simfarm/Push-v0"])
def test_arm_envs_pass_the_gymnasium_checker_with_images(env_id):
    env = gym.make(env_id, scene="tabletop", obs_mode="rgb+state", camera_size=(64, 64), render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    env.reset(seed=0)
    assert env.render().shape == (64, 64, 3)
    env.close()


def test_push_trolley_env_passes_the_checker_with_state_obs():
    env = gym.make("simfarm/PushTrolley-v0", scene="living_room", obs_mode="state")
    assert env.unwrapped.robot.name == "mobile_base" and env.unwrapped.control_mode == "base_vel"
    check_env(env.unwrapped, skip_render_check=True)


def test_async_vector_env_with_two_workers_steps():
    envs = gym.make_vec("simfarm/PickPlace-v0", num_envs=2, vectorization_mode="async", scene="tabletop", obs_mode="state")
    try:
        obs, _ = envs.reset(seed=[0, 1])
        assert obs["state"].shape[0] == 2
        obs, reward, term, trunc, _ = envs.step(np.zeros(envs.action_space.shape, np.float32))
        assert reward.shape == (2,) and np.isfinite(obs["state"]).all()
    finally:
        envs.close()


def test_same_seed_gives_identical_observations_including_images():
    def rollout():
        env = SimfarmEnv(EnvConfig(task="pick_place", scene="kitchen", obs_mode="rgb+state", camera_size=(48, 48)))
        obs, _ = env.reset(seed=3)
        frames = [obs]
        for _ in range(3):
            frames.append(env.step(np.full(env.action_space.shape, 0.3, np.float32))[0])
        env.close()
        return frames

    a, b = rollout(), rollout()
    for fa, fb in zip(a, b, strict=True):
        np.testing.assert_array_equal(fa["state"], fb["state"])
        np.testing.assert_array_equal(fa["environment_state"], fb["environment_state"])
        for cam in fa["images"]:
            np.testing.assert_array_equal(fa["images"][cam], fb["images"][cam])


def test_scene_is_resampled_every_episode_by_default():
    env = SimfarmEnv(EnvConfig(task="push", scene="kitchen", obs_mode="state"))
    hashes = {env.reset(seed=5, options={"episode_index": i})[1] and env.episode_info["scene_hash"] for i in range(3)}
    assert len(hashes) == 3


def test_scene_resample_every_n_shares_the_scene_but_not_the_randomization():
    env = SimfarmEnv(EnvConfig(task="push", scene="kitchen", obs_mode="state", scene_resample_every=2))
    infos = []
    for i in range(3):
        env.reset(seed=5, options={"episode_index": i})
        infos.append(dict(env.episode_info))
    assert infos[0]["scene_hash"] == infos[1]["scene_hash"] != infos[2]["scene_hash"]
    assert infos[0]["randomization"]["model"] != infos[1]["randomization"]["model"]


def test_dm_env_adapter_first_mid_last_with_discounts():
    env = SimfarmEnv(EnvConfig(task="pick_place", scene="tabletop", obs_mode="state", max_steps=3))
    adapter = DmEnvAdapter(env, seed=0)
    ts = adapter.reset()
    assert ts.step_type == dm_env.StepType.FIRST
    zero = np.zeros(env.action_space.shape, np.float32)
    ts = adapter.step(zero)
    assert ts.step_type == dm_env.StepType.MID and ts.discount == 1.0
    adapter.step(zero)
    ts = adapter.step(zero)
    assert ts.last() and ts.discount == 1.0  # truncation: the future still counts
    # Termination on success: the expert ends the episode with discount 0.
    env2 = SimfarmEnv(EnvConfig(task="pick_place", scene="tabletop", obs_mode="state"))
    adapter2 = DmEnvAdapter(env2, seed=0)
    ts = adapter2.reset()
    expert = env2.make_expert()
    expert.reset(adapter2.last_info["instruction"], 0)
    obs = {"state": ts.observation["state"]}
    while not ts.last():
        ts = adapter2.step(expert.act(obs))
    assert adapter2.last_info["success"] and ts.discount == 0.0


def test_driving_the_arm_into_the_table_is_counted_as_a_collision():
    env = SimfarmEnv(EnvConfig(task="pick_place", scene="tabletop", obs_mode="state", max_steps=60))
    env.reset(seed=0)
    down = np.zeros(env.action_space.shape, np.float32)
    down[2] = env.action_space.low[2]
    for _ in range(40):
        info = env.step(down)[4]
    safety = info["safety"]
    assert safety["collisions"] >= 1
    assert safety["peak_contact_force_n"] > 1.0


def test_bad_inputs_name_the_accepted_values():
    with pytest.raises(TaskError, match="pick_place"):
        SimfarmEnv(EnvConfig(task="juggle"))
    with pytest.raises(RobotError):
        SimfarmEnv(EnvConfig(robot="octopus"))
    with pytest.raises(ConfigError, match="rgb\\+state"):
        SimfarmEnv(EnvConfig(obs_mode="rgb+thermal"))
    with pytest.raises(ConfigError, match="wrist"):
        SimfarmEnv(EnvConfig(scene="tabletop", obs_mode="rgb", cameras=("nope",), camera_size=(32, 32)))
    with pytest.raises((ConfigError, TaskError, RobotError), match="ee_delta"):
        SimfarmEnv(EnvConfig(scene="tabletop", control_mode="teleport"))


def test_task_needing_a_base_with_an_arm_only_robot_is_a_task_error():
    with pytest.raises(TaskError, match="mobile base"):
        SimfarmEnv(EnvConfig(task="push_trolley", robot="arm", scene="living_room"))


def test_open_drawer_env_passes_the_checker_in_a_kitchen():
    env = gym.make("simfarm/OpenDrawer-v0", scene="kitchen", obs_mode="state", control_hz=20)
    assert env.unwrapped.n_substeps * 20 * env.unwrapped.model.opt.timestep == pytest.approx(1.0)
    check_env(env.unwrapped, skip_render_check=True)


def test_unusable_sampled_scenes_are_redrawn_deterministically():
    # Kitchen seeds often put nothing graspable within reach; the env redraws from the scene stream.
    def infos():
        env = SimfarmEnv(EnvConfig(task="pick_place", scene="kitchen", obs_mode="state"))
        out = []
        for seed in range(8):
            env.reset(seed=seed)
            out.append((env.episode_info["scene_attempt"], env.episode_info["scene_hash"], env.episode_info["instruction"]))
        return out

    first = infos()
    assert any(attempt > 0 for attempt, _, _ in first)
    assert infos() == first


def test_scenes_rejected_before_building_are_the_ones_reset_would_reject(monkeypatch):
    """The task's SceneSpec check only saves builds: every episode gets the scene, attempt and goal
    it gets when reset alone rejects, and rejected draws are never compiled."""
    import simfarm.scene as scene_module
    from simfarm.tasks.pick_place import PickPlace

    def infos():
        env = SimfarmEnv(EnvConfig(task="pick_place", scene="kitchen", obs_mode="state"))
        out = [(env.reset(seed=2, options={"episode_index": i})[1]["instruction"], env.episode_info["scene_attempt"],
                env.episode_info["scene_hash"], tuple(env.data.qpos)) for i in range(10)]
        env.close()
        return out

    builds = []
    original_build = scene_module.build_scene
    monkeypatch.setattr(scene_module, "build_scene", lambda spec: builds.append(spec) or original_build(spec))
    checked = infos()
    built_checked = len(builds)
    builds.clear()
    monkeypatch.setattr(PickPlace, "check_scene", lambda self, scene: None)
    unchecked = infos()
    assert checked == unchecked
    assert sum(attempt for _, attempt, _, _ in checked) > 0  # some scenes were rejected
    assert built_checked == 11  # the first scene built at construction, then one per episode
    assert len(builds) > built_checked


def test_final_observation_images_are_skipped_only_when_asked_and_episodes_are_unchanged():
    """The runner turns off the last frame nobody stores; the stored episode stays the same."""
    from simfarm import config as C
    from simfarm.rollout import EpisodeRunner

    cfg = C.to_dict(C.compose("generate", ["scene=tabletop", "obs_mode=rgb+state", "camera_size=[32,32]", "max_steps=4",
                                           "policy=random", "annotations=[]"]))
    runner = EpisodeRunner(cfg)
    env = runner.env
    assert env.final_observation_images is False
    renders = []
    renderer = env._renderer(tuple(env.config.camera_size))
    original = renderer.render_views
    renderer.render_views = lambda *a, **k: renders.append(1) or original(*a, **k)
    try:
        ep = runner.run(0)
        n_cams = len(ep.images)
        assert ep.length == 4 and n_cams == 2 and all(f.shape == (4, 32, 32, 3) for f in ep.images.values())
        assert len(renders) == 4 * n_cams  # the first observation and 3 after steps, not the 4th
        # The gymnasium default renders the last observation too, and the stored episode is the same.
        env.final_observation_images = True
        renders.clear()
        full = runner.run(0)
        assert len(renders) == 5 * n_cams
        for cam in ep.images:
            np.testing.assert_array_equal(full.images[cam], ep.images[cam])
        for key in ep.steps:
            np.testing.assert_array_equal(full.steps[key], ep.steps[key])
    finally:
        renderer.render_views = original
        runner.close()


def test_randomized_world_cameras_and_lights_are_where_the_model_says_after_every_reset():
    """Sleeping islands skip static bodies in mj_forward: the reset must still place world cameras
    and lights where this episode's randomization put them (not where the last episode did)."""
    import mujoco

    env = SimfarmEnv(EnvConfig(task="pick_place", scene="tabletop", obs_mode="state", randomization="light"))
    try:
        for episode in range(3):
            env.reset(seed=11, options={"episode_index": episode})
            fresh = mujoco.MjData(env.model)
            fresh.qpos[:] = env.data.qpos
            mujoco.mj_forward(env.model, fresh)
            np.testing.assert_allclose(env.data.cam_xpos, fresh.cam_xpos, atol=1e-12)
            np.testing.assert_allclose(env.data.cam_xmat, fresh.cam_xmat, atol=1e-12)
            np.testing.assert_allclose(env.data.light_xpos, fresh.light_xpos, atol=1e-12)
    finally:
        env.close()


def test_an_episode_on_a_shared_scene_does_not_depend_on_the_episode_before_it():
    """Objects that fell asleep in episode 0 must not change episode 1 on the same compiled scene
    (what a worker that ran episode 0 first and one that did not would each record)."""
    from simfarm import config as C
    from simfarm.rollout import EpisodeRunner

    cfg = C.to_dict(C.compose("generate", ["task=push", "scene=kitchen", "obs_mode=state", "scene_resample_every=2"]))
    first, fresh = EpisodeRunner(cfg), EpisodeRunner(cfg)
    try:
        first.run(0)
        assert first.env.data.ntree_awake < first.env.model.ntree  # something slept in episode 0
        after, alone = first.run(1), fresh.run(1)
    finally:
        first.close()
        fresh.close()
    assert after.metadata["scene_hash"] == alone.metadata["scene_hash"]
    for key in alone.steps:
        np.testing.assert_array_equal(after.steps[key], alone.steps[key], err_msg=key)
