import dataclasses

import mujoco
import numpy as np
import pytest

from simfarm.scene import SceneRequest, build_scene, sample_scene

PROGRAMS = ("kitchen", "living_room", "workshop")
N_SEEDS = 50


def _robot_geom_mask(model):
    names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, b) or "" for b in model.geom_bodyid]
    return np.array([n.startswith("robot/") for n in names])


def _contact_report(built, data):
    """(worst penetration between scene things, robot contacts with anything else)."""
    robot = _robot_geom_mask(built.model)
    worst, robot_hits = 0.0, []
    for c in data.contact[: data.ncon]:
        if robot[c.geom1] != robot[c.geom2]:
            robot_hits.append((c.geom1, c.geom2, c.dist))
        elif not robot[c.geom1]:
            worst = min(worst, c.dist)
    return worst, robot_hits


@pytest.mark.parametrize("program", PROGRAMS)
def test_scenes_start_without_penetration_and_settle(program):
    """50 seeds: nothing penetrates > 1 mm at t=0, the robot touches nothing, and after 1 s with the
    robot holding home no object has moved more than 1 cm."""
    for seed in range(N_SEEDS):
        built = build_scene(sample_scene(program, np.random.default_rng(seed)))
        model = built.model
        data = built.initial_state()
        worst, robot_hits = _contact_report(built, data)
        assert worst >= -1e-3, f"{program} seed {seed}: penetration {worst:.4f} m"
        assert not robot_hits, f"{program} seed {seed}: robot at home touches {robot_hits}"
        start = {k: data.xpos[o.body_id].copy() for k, o in built.index.objects.items()}
        ctrl = data.ctrl.copy()
        for _ in range(int(round(1.0 / model.opt.timestep))):
            data.ctrl[:] = ctrl
            mujoco.mj_step(model, data)
        for name, o in built.index.objects.items():
            moved = np.linalg.norm(data.xpos[o.body_id] - start[name])
            assert moved < 0.01, f"{program} seed {seed}: {name} moved {moved:.4f} m"


def _cabinet_scene(with_robot: bool = True):
    spec = sample_scene("kitchen", np.random.default_rng(0), request=SceneRequest(workspace="drawer"))
    if not with_robot:
        # The robot stands within the door's swing (it faces the drawers); test the hinge alone.
        spec = dataclasses.replace(spec, robot=None)
    return build_scene(spec)


def test_drawers_slide_out_within_their_limits_and_stay_closed_at_rest():
    built = _cabinet_scene()
    model, data = built.model, built.initial_state()
    assert built.index.drawers
    name, drawer = next(iter(built.index.drawers.items()))
    assert drawer.range[0] == 0.0 and drawer.range[1] > 0.2
    for _ in range(250):
        mujoco.mj_step(model, data)
    assert abs(data.qpos[drawer.qpos_adr]) < 1e-3  # no drift when nobody pulls
    handle_before = data.site_xpos[drawer.handle_site_id].copy()
    for _ in range(1000):
        data.qfrc_applied[drawer.dof_adr] = 30.0
        mujoco.mj_step(model, data)
    opened = data.qpos[drawer.qpos_adr]
    assert drawer.range[1] * 0.9 < opened <= drawer.range[1] + 0.01
    # The handle moved out toward the robot, along the cabinet's front direction.
    moved = data.site_xpos[drawer.handle_site_id] - handle_before
    to_robot = np.array(built.spec.robot.pos) - handle_before
    assert moved[:2] @ to_robot[:2] > 0


def test_door_hinges_open():
    built = _cabinet_scene(with_robot=False)
    model, data = built.model, built.initial_state()
    assert built.index.doors
    door = next(iter(built.index.doors.values()))
    for _ in range(1000):
        data.qfrc_applied[door.dof_adr] = 5.0
        mujoco.mj_step(model, data)
    assert 1.0 < data.qpos[door.qpos_adr] <= door.range[1] + 0.02


def test_trolley_rolls_when_pushed_and_stays_upright():
    spec = sample_scene("workshop", np.random.default_rng(1), robot="mobile_base", request=SceneRequest(workspace="trolley"))
    built = build_scene(spec)
    model, data = built.model, built.initial_state()
    trolley = built.index.trolleys[f"furn/{spec.workspace}"]
    start = data.xpos[trolley.body_id].copy()
    for _ in range(250):
        mujoco.mj_step(model, data)
    assert np.linalg.norm(data.xpos[trolley.body_id] - start) < 1e-3  # at rest it stays put
    handle = data.site_xpos[trolley.handle_site_id]
    push = (data.xpos[trolley.body_id] - handle)[:2]
    push /= np.linalg.norm(push)
    for _ in range(500):
        data.xfrc_applied[trolley.body_id, :2] = 20.0 * push
        mujoco.mj_step(model, data)
    moved = (data.xpos[trolley.body_id] - start)[:2]
    assert moved @ push > 0.2
    z_axis = data.xmat[trolley.body_id].reshape(3, 3)[:, 2]
    assert z_axis[2] > 0.99


def test_scene_index_names_follow_the_contract(kitchen_built):
    built = kitchen_built
    model, idx = built.model, built.index
    for name, o in idx.objects.items():
        assert mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, o.body_id) == f"obj/{name}"
        assert model.jnt_type[model.body_jntadr[o.body_id]] == mujoco.mjtJoint.mjJNT_FREE
        assert all(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g).startswith(f"obj/{name}/") for g in o.geom_ids)
    for site, s in idx.surfaces.items():
        assert mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_SITE, s.site_id) == site
        data = built.initial_state()
        np.testing.assert_allclose(data.site_xpos[s.site_id], s.center_world, atol=1e-9)
    assert {"overview_0", "workspace"} <= set(idx.cameras)
    assert all(i >= 0 for i in idx.cameras.values()) and all(i >= 0 for i in idx.lights.values())
    assert idx.goal_mocap_id >= 0
    assert model.geom_contype[idx.goal_geom_id] == 0 and model.geom_conaffinity[idx.goal_geom_id] == 0
    assert len(idx.wall_geom_ids) and len(idx.floor_geom_ids) and len(idx.furniture_geom_ids)
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "robot/grip_site") >= 0
    assert model.opt.timestep == 0.002 and model.opt.cone == mujoco.mjtCone.mjCONE_ELLIPTIC


def test_objects_rest_on_their_support_surface(kitchen_built):
    data = kitchen_built.initial_state()
    for name, o in kitchen_built.index.objects.items():
        surf = kitchen_built.index.surfaces[o.spec.support]
        bottom = data.xpos[o.body_id][2] - o.spec.size[2] / 2
        assert abs(bottom - surf.top_z) < 1e-6, name


@pytest.mark.parametrize(
    "robot, workspace",
    [("mobile_arm", "surface"), ("arm", "drawer"), ("mobile_arm", "drawer"), ("arm", "trolley"), ("mobile_base", "trolley")],
)
def test_every_robot_and_workspace_starts_collision_free(robot, workspace):
    for program in PROGRAMS:
        for seed in range(6):
            spec = sample_scene(program, np.random.default_rng(seed), robot=robot, request=SceneRequest(workspace=workspace))
            built = build_scene(spec)
            worst, robot_hits = _contact_report(built, built.initial_state())
            assert worst >= -1e-3 and not robot_hits, f"{program} seed {seed}: {worst}, {robot_hits}"


def test_resting_objects_sleep_the_robot_never_does_and_contact_wakes_them():
    """Sleeping islands: still objects stop costing physics, the robot keeps moving, a touch wakes."""
    built = build_scene(sample_scene("kitchen", np.random.default_rng(3)))
    model, data = built.model, built.initial_state()
    assert model.opt.enableflags & mujoco.mjtEnableBit.mjENBL_SLEEP
    robot_tree = model.body_treeid[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, built.index.robot_prefix + "link1")]
    trees = {name: model.body_treeid[o.body_id] for name, o in built.index.objects.items()}
    for _ in range(500):  # 1 s with the robot holding home
        mujoco.mj_step(model, data)
    asleep = {name for name, t in trees.items() if data.tree_asleep[t] >= 0}
    assert asleep == set(trees), f"still awake after 1 s at rest: {set(trees) - asleep}"
    assert data.tree_asleep[robot_tree] < 0  # the actuated robot never sleeps
    # A push (an applied force, as a contact would give) wakes a sleeping object, which then moves.
    name, obj = next(iter(built.index.objects.items()))
    before = data.xpos[obj.body_id].copy()
    for _ in range(200):
        data.xfrc_applied[obj.body_id, :3] = [0.0, 0.0, 3.0 * model.body_subtreemass[obj.body_id] * 9.81]
        mujoco.mj_step(model, data)
    assert data.tree_asleep[trees[name]] < 0 and data.xpos[obj.body_id][2] > before[2] + 0.01
