"""Randomization on a scene from the real builder (the fixed tabletop): the naming convention holds."""

import mujoco
import numpy as np
import pytest

from simfarm.randomization import ModelRandomizer, randomize_scene_spec
from simfarm.scene import build_scene
from simfarm.scene.source import fixed_scene


@pytest.fixture(scope="module")
def tabletop():
    return fixed_scene("tabletop")


def test_every_group_is_found_in_a_built_scene(tabletop):
    model = build_scene(tabletop).model
    groups = ModelRandomizer(model, "heavy").groups
    for name in ("object_geoms", "object_bodies", "furniture_geoms", "room_geoms", "robot_dofs", "robot_actuators",
                 "lights", "scene_cameras", "wrist_cameras"):
        assert len(getattr(groups, name)) > 0, name


def test_raised_table_carries_its_objects_and_they_rest_on_it(tabletop):
    spec, values = randomize_scene_spec(
        tabletop, {"physical": {"table_height": {"dist": "constant", "value": 0.05}}}, np.random.default_rng(0)
    )
    table = tabletop.furniture_named(tabletop.workspace)
    assert values["table_height"] == [pytest.approx(table.size[2] + 0.05)]
    model = build_scene(spec).model
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, f"furn/{table.name}/surface_0")
    assert data.site_xpos[site][2] == pytest.approx(table.surfaces[0].center[2] + 0.05)
    # The robot's own links may fold into each other at qpos0 (the env resets it to its home pose).
    robot = {b for b in range(model.nbody) if (mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "").startswith("robot/")}
    body = model.geom_bodyid
    assert all(data.contact.dist[i] > -1e-3 for i in range(data.ncon)
               if not (body[data.contact.geom1[i]] in robot and body[data.contact.geom2[i]] in robot))
    start = data.xpos.copy()
    mujoco.mj_step(model, data, nstep=300)
    moved = np.linalg.norm(data.xpos - start, axis=1)
    objects = [b for b in range(model.nbody) if (mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "").startswith("obj/")]
    assert moved[objects].max() < 0.01


def test_heavily_randomized_built_scene_simulates_and_replays(tabletop):
    built = build_scene(tabletop)
    model = built.model
    randomizer = ModelRandomizer(model, "heavy")
    values = randomizer.apply(model, np.random.default_rng(3))
    data = mujoco.MjData(model)
    mujoco.mj_step(model, data, nstep=300)
    assert np.isfinite(data.qpos).all()
    other = build_scene(tabletop).model
    ModelRandomizer(other, "heavy").apply_values(other, values)
    for field in ("geom_rgba", "body_mass", "actuator_gainprm", "actuator_biasprm", "cam_quat", "light_active"):
        assert np.array_equal(getattr(model, field), getattr(other, field)), field
