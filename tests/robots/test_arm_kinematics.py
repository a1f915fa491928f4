"""The builtin arm has the Franka Emika Panda's published kinematics and limits."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from simfarm.robots import make_robot
from simfarm.robots.panda import (
    DH_A_M,
    DH_D_M,
    JOINT_LIMITS_RAD,
    TCP_OFFSET_M,
    dh_forward_kinematics,
)

PUBLISHED_LIMITS = [
    (-2.8973, 2.8973),
    (-1.7628, 1.7628),
    (-2.8973, 2.8973),
    (-3.0718, -0.0698),
    (-2.8973, 2.8973),
    (-0.0175, 3.7525),
    (-2.8973, 2.8973),
]


@pytest.fixture(scope="module")
def arm():
    robot = make_robot("arm", mount_height_m=0.6)
    model = robot.compile()
    return robot, model, mujoco.MjData(model), robot.bind(model, prefix="")


def test_dh_table_is_franka_published():
    assert DH_A_M == (0, 0, 0, 0.0825, -0.0825, 0, 0.088)
    assert DH_D_M == (0.333, 0, 0.316, 0, 0.384, 0, 0)
    assert [tuple(lim) for lim in JOINT_LIMITS_RAD] == PUBLISHED_LIMITS


def test_forward_kinematics_match_modified_dh_at_random_configurations(arm):
    robot, model, data, handle = arm
    rng = np.random.default_rng(7)
    flange = model.body("link7").id
    for _ in range(50):
        q = rng.uniform(handle.arm_limits[:, 0], handle.arm_limits[:, 1])
        data.qpos[handle.arm_qpos_adr] = q
        mujoco.mj_kinematics(model, data)
        base_T_flange = dh_forward_kinematics(q)
        base_T_tcp = dh_forward_kinematics(q, TCP_OFFSET_M)
        mount = np.array([0, 0, robot.mount_height_m])
        # flange = link7 origin + 0.107 along link7's z
        flange_world = data.xpos[flange] + data.xmat[flange].reshape(3, 3) @ [0, 0, 0.107]
        assert np.linalg.norm(flange_world - (mount + base_T_flange[:3, 3])) < 1e-3
        assert (
            np.linalg.norm(data.site_xpos[handle.tcp_site_id] - (mount + base_T_tcp[:3, 3])) < 1e-3
        )
        # The TCP's approach axis is the flange's z axis.
        tcp_z = data.site_xmat[handle.tcp_site_id].reshape(3, 3)[:, 2]
        assert np.allclose(tcp_z, base_T_tcp[:3, 2], atol=1e-6)


def test_home_pose_is_panda_ready_pose_with_gripper_down(arm):
    robot, model, data, handle = arm
    mujoco.mj_resetData(model, data)
    handle.reset(data)
    mujoco.mj_forward(model, data)
    q_home = (0, -math.pi / 4, 0, -3 * math.pi / 4, 0, math.pi / 2, math.pi / 4)
    assert np.allclose(data.qpos[handle.arm_qpos_adr], q_home)
    assert np.allclose(data.ctrl[handle.arm_ctrl_idx], q_home)
    pos, mat = handle.ee_pose(data)
    assert np.allclose(mat[:, 2], [0, 0, -1], atol=1e-9)  # approach axis points down
    assert 0.25 < pos[0] < 0.35 and abs(pos[1]) < 1e-9
    assert handle.gripper_opening(data) == pytest.approx(0.08)


def test_each_joint_has_published_limits_and_z_axis(arm):
    _, model, _, handle = arm
    for i in range(7):
        joint = model.joint(f"joint{i + 1}")
        assert joint.type[0] == mujoco.mjtJoint.mjJNT_HINGE
        assert np.allclose(joint.axis, [0, 0, 1])
        assert np.allclose(joint.range, PUBLISHED_LIMITS[i])
        assert model.jnt_limited[joint.id]
        act = model.actuator(f"act_joint{i + 1}")
        torque = 87 if i < 4 else 12
        assert np.allclose(act.forcerange, [-torque, torque])
        assert np.allclose(act.ctrlrange, PUBLISHED_LIMITS[i])


def test_arm_bodies_are_gravity_compensated(arm):
    _, model, _, _ = arm
    for i in range(1, 8):
        assert model.body_gravcomp[model.body(f"link{i}").id] == 1.0


def test_link_masses_are_realistic(arm):
    _, model, _, _ = arm
    arm_mass = sum(model.body(f"link{i}").mass[0] for i in range(8)) + model.body("hand").mass[0]
    assert 16 < arm_mass < 20  # Panda arm + hand weigh about 18 kg


def test_arm_compiles_attached_with_prefixed_names():
    robot = make_robot("arm")
    scene = mujoco.MjSpec()
    scene.worldbody.add_geom(type=mujoco.mjtGeom.mjGEOM_PLANE, size=[1, 1, 0.1])
    frame = scene.worldbody.add_frame(pos=[0.2, -0.1, 0.0])
    frame.attach_body(robot.build_spec().body("base"), "robot/", "")
    model = scene.compile()
    for kind, name in [
        (mujoco.mjtObj.mjOBJ_SITE, "robot/grip_site"),
        (mujoco.mjtObj.mjOBJ_CAMERA, "robot/wrist_cam"),
        (mujoco.mjtObj.mjOBJ_JOINT, "robot/joint4"),
        (mujoco.mjtObj.mjOBJ_ACTUATOR, "robot/act_gripper"),
        (mujoco.mjtObj.mjOBJ_BODY, "robot/base"),
        (mujoco.mjtObj.mjOBJ_EQUALITY, "robot/gripper_coupling"),
        (mujoco.mjtObj.mjOBJ_TENDON, "robot/gripper_split"),
    ]:
        assert mujoco.mj_name2id(model, kind, name) >= 0, name
    handle = robot.bind(model)
    assert handle.wrist_camera == "robot/wrist_cam"
    assert model.nu == 8
    # every robot geom and nothing else
    names = {model.geom(int(g)).name for g in handle.geom_ids}
    assert all(n.startswith("robot/") for n in names if n)
    assert len(handle.geom_ids) == model.ngeom - 1


def test_wrist_camera_looks_along_the_approach_axis(arm):
    _, model, data, handle = arm
    handle.reset(data)
    mujoco.mj_forward(model, data)
    cam = model.camera("wrist_cam").id
    view_dir = -data.cam_xmat[cam].reshape(3, 3)[:, 2]
    approach = data.site_xmat[handle.tcp_site_id].reshape(3, 3)[:, 2]
    assert float(view_dir @ approach) > 0.9


def test_pedestal_puts_arm_base_at_mount_height():
    for height in (0.0, 0.75):
        robot = make_robot("arm", mount_height_m=height)
        model = robot.compile()
        data = mujoco.MjData(model)
        mujoco.mj_kinematics(model, data)
        assert data.xpos[model.body("base").id] == pytest.approx([0, 0, 0])
        assert data.xpos[model.body("link0").id][2] == pytest.approx(height)
        assert robot.mount_height_m == height
