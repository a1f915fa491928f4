"""Observation modes beyond RGB: depth, segmentation, point clouds and camera geometry."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from simfarm.envs import SimfarmEnv, geometry
from simfarm.envs.options import check_obs_mode
from simfarm.envs.segmentation import semantic_classes, semantic_map
from simfarm.errors import ConfigError
from simfarm.render import CameraRenderer

SIZE = (48, 64)  # height, width: not square, so fx/fy and cx/cy mix-ups show


def zfar(env) -> float:
    return float(env.model.vis.map.zfar * env.model.stat.extent)


@pytest.mark.parametrize("mode", ["rgb", "depth", "segmentation+state", "rgb+depth+state",
                                  "rgb+depth+segmentation+state", "pointcloud+state", "pointcloud"])
def test_every_mode_passes_the_checker_with_exact_spaces(mode):
    env = gym.make("simfarm/PickPlace-v0", scene="tabletop", obs_mode=mode, camera_size=SIZE, pointcloud_points=512)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    space = env.observation_space
    assert space.contains(obs)
    parts = set(mode.split("+"))
    assert ("state" in obs) == ("state" in parts) and ("images" in obs) == ("rgb" in parts)
    cams = env.unwrapped.config.cameras
    if "depth" in parts:
        for cam in cams:
            d = obs["depth"][cam]
            assert d.dtype == np.float32 and d.shape == SIZE and 0.01 < d.min() and d.max() <= zfar(env.unwrapped)
    if "segmentation" in parts:
        for cam in cams:
            assert obs["segmentation"][cam].dtype == np.uint8 and obs["segmentation"][cam].shape == SIZE
    if "pointcloud" in parts:
        pc = obs["pointcloud"]
        assert pc.shape == (512, 7) and pc.dtype == np.float32 and np.isfinite(pc).all()
    env.close()


def test_obs_mode_parts_are_checked_and_put_in_canonical_order():
    assert check_obs_mode("state+depth+rgb") == "rgb+depth+state"
    with pytest.raises(ConfigError, match=r"obs_mode: unknown part 'dept' \(did you mean 'depth'\?\).*accepted"):
        check_obs_mode("rgb+dept")
    with pytest.raises(ConfigError, match="names a part twice"):
        check_obs_mode("rgb+rgb")
    with pytest.raises(ConfigError, match="pointcloud_points"):
        SimfarmEnv(scene="tabletop", obs_mode="pointcloud", pointcloud_points=0)
    with pytest.raises(ConfigError, match="pointcloud_crop"):
        SimfarmEnv(scene="tabletop", obs_mode="pointcloud", pointcloud_crop=[[0, 1]])


def test_depth_of_a_plane_at_a_known_distance():
    """A camera 1.5 m above a floor, looking straight down: every pixel is 1.5 m along the axis."""
    xml = """<mujoco><worldbody><geom type="plane" size="10 10 .1"/>
             <camera name="down" pos="0.2 -0.1 1.5" fovy="50"/></worldbody></mujoco>"""
    model = mujoco.MjModel.from_xml_string(xml)
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    with CameraRenderer(model, *SIZE) as renderer:
        rgb, depth = renderer.render(data, "down", depth=True)
    assert rgb.shape == (*SIZE, 3)
    np.testing.assert_allclose(depth, 1.5, atol=2e-4)


def test_projected_object_centres_land_on_their_own_segmentation_pixels():
    env = SimfarmEnv(scene="kitchen", obs_mode="rgb+depth+segmentation+state", camera_size=(120, 160))
    hits = 0
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        table = {inst.name: inst.id for inst in env.instances.instances}
        for cam in env.config.cameras:
            g = env.camera_geometry(cam)
            seg, depth = obs["segmentation"][cam], obs["depth"][cam]
            for name, ids in env.built_scene.index.objects.items():
                centre = env.data.xipos[ids.body_id][None]
                (u, v), z = geometry.project(centre, g["intrinsics"], g["world_T_camera"])[0][0], \
                    geometry.project(centre, g["intrinsics"], g["world_T_camera"])[1][0]
                ui, vi = int(round(u)), int(round(v))
                if not (z > 0 and 0 <= ui < 160 and 0 <= vi < 120):
                    continue
                if depth[vi, ui] < z - 0.1:  # something nearer hides the centre
                    continue
                assert seg[vi, ui] == table[name], (seed, cam, name)
                # and the depth there is the object's surface, in front of its centre
                assert z - 0.1 < depth[vi, ui] <= z + 1e-3
                hits += 1
    assert hits >= 5
    env.close()


def test_base_frame_extrinsics_agree_with_the_world_ones():
    env = SimfarmEnv(scene="tabletop", obs_mode="rgb", camera_size=SIZE)
    env.reset(seed=0)
    for cam in env.config.cameras:
        g = env.camera_geometry(cam)
        np.testing.assert_allclose(env.base_pose() @ g["base_T_camera"], g["world_T_camera"], atol=1e-12)
        R = g["world_T_camera"][:3, :3]
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-9)
        K = g["intrinsics"]
        assert K[0, 0] == K[1, 1] and K[0, 2] == (SIZE[1] - 1) / 2 and K[1, 2] == (SIZE[0] - 1) / 2
    info = env.episode_info["camera_info"]
    assert info["workspace"]["moving"] is False and info["wrist"]["moving"] is True
    env.close()


def test_segmentation_ids_are_stable_over_an_episode_and_match_the_table():
    env = SimfarmEnv(scene="kitchen", obs_mode="segmentation+state", camera_size=SIZE)
    obs, _ = env.reset(seed=1)
    table = env.episode_info["segmentation"]
    ids = {inst["id"] for inst in table["instances"]}
    assert len(ids) == len(table["instances"]) and table["classes"] == list(semantic_classes())
    first = {cam: seg.copy() for cam, seg in obs["segmentation"].items()}
    robot_id = next(i["id"] for i in table["instances"] if i["name"] == "robot")
    for _ in range(3):
        obs = env.step(np.zeros(env.action_space.shape, np.float32))[0]
    for cam, seg in obs["segmentation"].items():
        assert set(np.unique(seg)) - {0} <= ids
        # the scene barely moved: the labels of pixels away from the robot are the same
        still = (first[cam] != robot_id) & (seg != robot_id)
        assert (first[cam][still] == seg[still]).mean() > 0.98
    objects = {i["name"]: i for i in table["instances"] if i["category"] not in ("robot", "furniture", "floor", "wall",
                                                                                    "fixture", "marker")}
    for name, inst in objects.items():
        spec = next(o for o in env.built_scene.spec.objects if o.name == name)
        assert inst["class"] == spec.family and inst["color"] == spec.color
    classes = semantic_map(obs["segmentation"]["workspace"], table)
    assert classes.shape == SIZE and set(np.unique(classes)) <= set(range(len(table["classes"])))
    env.close()


def test_colours_and_lights_change_neither_depth_nor_segmentation():
    env = SimfarmEnv(scene="kitchen", obs_mode="rgb+depth+segmentation", camera_size=SIZE)
    obs, _ = env.reset(seed=2)
    rng = np.random.default_rng(0)
    env.model.geom_rgba[:, :3] = rng.uniform(0, 1, (env.model.ngeom, 3))
    env.model.mat_rgba[:, :3] = rng.uniform(0, 1, (env.model.nmat, 3))
    env.model.light_diffuse[:] = rng.uniform(0.1, 1.0, env.model.light_diffuse.shape)
    again = env._observation()
    for cam in env.config.cameras:
        assert not np.array_equal(obs["images"][cam], again["images"][cam])
        np.testing.assert_array_equal(obs["depth"][cam], again["depth"][cam])
        np.testing.assert_array_equal(obs["segmentation"][cam], again["segmentation"][cam])
    env.close()


def test_point_cloud_of_the_table_top_is_planar_and_seeded():
    env = SimfarmEnv(scene="tabletop", obs_mode="pointcloud+state", camera_size=(96, 128), pointcloud_points=2048)
    pc, _ = env.reset(seed=4)
    pc = pc["pointcloud"]
    table_id = next(i.id for i in env.instances.instances if i.category == "furniture" and i.cls == "table")
    top = pc[pc[:, 6] == table_id]
    # the table's top face: the points highest on the table (its legs are lower), away from its
    # edges (the sides of the top slab reach up to the face)
    top = top[top[:, 2] > top[:, 2].max() - 0.01]
    lo, hi = top[:, :2].min(axis=0) + 0.03, top[:, :2].max(axis=0) - 0.03
    top = top[np.all((top[:, :2] > lo) & (top[:, :2] < hi), axis=1)]
    assert len(top) > 100
    centred = top[:, :3] - top[:, :3].mean(axis=0)
    normal = np.linalg.svd(centred, full_matrices=False)[2][-1]
    assert np.abs(centred @ normal).max() < 0.003
    # the base frame has z up: the top is horizontal in it
    assert abs(normal[2]) > 0.999
    # cropped to the workspace: nothing of the floor or the walls
    kinds = {i.id: i.category for i in env.instances.instances}
    assert {kinds.get(int(k)) for k in np.unique(pc[:, 6])} <= {"robot", "furniture", "food", "kitchenware", "toy",
                                                              "tool", "container", "office", None} - {None}
    again, _ = env.reset(seed=4)
    np.testing.assert_array_equal(again["pointcloud"], pc)
    other, _ = env.reset(seed=5)
    assert not np.array_equal(other["pointcloud"], pc)
    env.close()


def test_point_cloud_without_crop_sees_the_floor():
    env = SimfarmEnv(scene="tabletop", obs_mode="pointcloud", camera_size=SIZE, pointcloud_points=1024,
                     pointcloud_crop=False)
    pc = env.reset(seed=0)[0]["pointcloud"]
    kinds = {i.id: i.category for i in env.instances.instances}
    assert "floor" in {kinds.get(int(k)) for k in np.unique(pc[:, 6])}
    env.close()


def test_camera_info_names_the_rgb_lens_of_heavy_camera_realism():
    env = SimfarmEnv(scene="tabletop", obs_mode="rgb", camera_size=SIZE, randomization="heavy")
    seen = 0
    for seed in range(4):
        env.reset(seed=seed)
        k1 = round(env.episode_info["randomization"]["camera"]["lens_k1"][0], 2)
        info = env.episode_info["camera_info"]["workspace"]
        assert info.get("rgb_lens_k1", 0.0) == k1
        seen += k1 != 0
    assert seen
    env.reset(seed=0)
    light = SimfarmEnv(scene="tabletop", obs_mode="rgb", camera_size=SIZE)
    light.reset(seed=0)
    assert "rgb_lens_k1" not in light.episode_info["camera_info"]["workspace"]
    env.close()
    light.close()
