"""The holonomic base follows velocity commands in its own frame and pushes things."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from robot_helpers import build_scene, drive_tcp_to, step

from simfarm.errors import RobotError
from simfarm.robots import make_robot


def _base_xy_yaw(handle, data):
    state = dict(zip(handle.state_names(), handle.state(data), strict=True))
    return np.array([state["base_x"], state["base_y"], state["base_yaw"]])


def test_base_follows_velocity_commands_in_its_own_frame():
    robot = make_robot("mobile_base")
    model, data, handle = build_scene(robot)
    for _ in range(20):  # 2 s forward at 0.3 m/s
        step(model, data, handle, [0.3, 0.0, 0.0], "base_vel")
    assert _base_xy_yaw(handle, data) == pytest.approx([0.6, 0.0, 0.0], abs=0.05)
    for _ in range(20):  # turn 90 deg left in 2 s
        step(model, data, handle, [0.0, 0.0, np.pi / 4], "base_vel")
    start = _base_xy_yaw(handle, data)
    assert start[2] == pytest.approx(np.pi / 2, abs=0.1)
    for _ in range(20):  # "forward" in the base frame is now world +y
        step(model, data, handle, [0.25, 0.0, 0.0], "base_vel")
    moved = _base_xy_yaw(handle, data) - start
    assert moved[1] == pytest.approx(0.5, abs=0.06)
    assert abs(moved[0]) < 0.06
    state = dict(zip(handle.state_names(), handle.state(data), strict=True))
    assert state["base_vx"] == pytest.approx(0.25, abs=0.03)  # velocity reported in the base frame
    assert abs(state["base_vy"]) < 0.03


def test_base_strafes_sideways_and_stops_when_commanded_zero():
    robot = make_robot("mobile_base")
    model, data, handle = build_scene(robot)
    for _ in range(10):
        step(model, data, handle, [0.0, -0.4, 0.0], "base_vel")
    for _ in range(10):
        step(model, data, handle, [0.0, 0.0, 0.0], "base_vel")
    pose = _base_xy_yaw(handle, data)
    assert pose[1] == pytest.approx(-0.4, abs=0.06)
    assert np.abs(data.qvel[handle.base_dof_adr]).max() < 1e-3


def test_base_stays_level_and_does_not_jitter():
    robot = make_robot("mobile_base")
    model, data, handle = build_scene(robot)
    for k in range(30):
        step(model, data, handle, [0.5 * np.sin(k / 3), 0.3, 0.8 * np.cos(k / 5)], "base_vel")
    base = model.body("robot/base").id
    assert data.xpos[base][2] == pytest.approx(0.0, abs=1e-9)
    assert data.xmat[base].reshape(3, 3)[:, 2] == pytest.approx([0, 0, 1], abs=1e-9)
    for _ in range(10):
        step(model, data, handle, [0, 0, 0], "base_vel")
    assert np.abs(data.qvel[handle.base_dof_adr]).max() < 1e-3


def test_base_velocity_commands_are_clipped_to_the_speed_limits():
    robot = make_robot("mobile_base", max_speed_mps=0.4)
    model, data, handle = build_scene(robot)
    for _ in range(20):
        step(model, data, handle, [5.0, 0.0, 0.0], "base_vel")
    assert data.qvel[handle.base_dof_adr[0]] == pytest.approx(0.4, abs=0.02)


def test_bumper_pushes_a_box():
    robot = make_robot("mobile_base")
    box = {"pos": [0.6, 0.0, 0.05], "half_m": 0.05, "mass_kg": 1.0, "friction": 0.6}
    model, data, handle = build_scene(robot, boxes=(box,))
    box_id = model.body("box0").id
    for _ in range(30):  # 3 s at 0.3 m/s: 0.9 m, the box starts 0.26 m ahead of the bumper
        step(model, data, handle, [0.3, 0.0, 0.0], "base_vel")
    assert data.xpos[box_id][0] > 1.1
    assert abs(data.xpos[box_id][1]) < 0.1
    bumper = model.geom("robot/bumper").id
    touching = [
        {int(c.geom1), int(c.geom2)} == {bumper, model.geom("box0/geom").id}
        for c in data.contact[: data.ncon]
    ]
    assert any(touching)


def test_mobile_base_has_no_arm_modes():
    robot = make_robot("mobile_base")
    model, data, handle = build_scene(robot)
    assert robot.has_base and not robot.has_arm
    assert handle.control_modes == ("base_vel",)
    assert handle.state_names() == [
        "base_x",
        "base_y",
        "base_yaw",
        "base_vx",
        "base_vy",
        "base_yaw_rate",
    ]
    with pytest.raises(RobotError, match="base_vel"):
        handle.apply_action(data, np.zeros(7), "ee_delta")
    with pytest.raises(RobotError, match=r"expected \(3,\)"):
        handle.apply_action(data, np.zeros(2), "base_vel")


def test_mobile_arm_drives_and_reaches_in_one_action():
    robot = make_robot("mobile_arm")
    model, data, handle = build_scene(robot)
    assert handle.control_modes == ("joint_pos", "ee_delta", "base_vel", "ee_delta+base_vel")
    assert handle.action_space("ee_delta+base_vel").shape == (10,)
    tcp_before, _ = handle.ee_pose(data)
    for _ in range(10):  # base forward 0.2 m/s for 1 s while the TCP rises 1 cm/step relative to it
        step(model, data, handle, np.r_[0, 0, 0.01, 0, 0, 0, -1, 0.2, 0, 0], "ee_delta+base_vel")
    for _ in range(3):
        step(model, data, handle, np.r_[np.zeros(6), -1, 0, 0, 0], "ee_delta+base_vel")
    tcp_after, _ = handle.ee_pose(data)
    moved = tcp_after - tcp_before
    base = _base_xy_yaw(handle, data)
    assert base[0] == pytest.approx(0.2, abs=0.04)
    assert moved == pytest.approx([base[0], 0.0, 0.1], abs=0.01)
    assert data.xmat[model.body("robot/base").id].reshape(3, 3)[:, 2] == pytest.approx(
        [0, 0, 1], abs=1e-9
    )


def test_mobile_arm_holds_the_arm_while_the_base_turns():
    robot = make_robot("mobile_arm")
    model, data, handle = build_scene(robot)
    for _ in range(10):
        step(model, data, handle, [0, 0, 1.0], "base_vel")
    state = dict(zip(handle.state_names(), handle.state(data), strict=True))
    # TCP pose relative to the base is unchanged by base motion
    assert state["tcp_x"] == pytest.approx(0.12 + 0.307, abs=0.005)
    assert state["tcp_y"] == pytest.approx(0.0, abs=0.005)
    assert state["base_yaw"] == pytest.approx(1.0, abs=0.1)


def test_mobile_arm_can_pick_from_its_front():
    robot = make_robot("mobile_arm", mount_height_m=0.4)
    model, data, handle = build_scene(robot)
    mount = data.xpos[model.body("robot/arm_base").id]
    drive_tcp_to(model, data, handle, mount + [0.5, 0.1, -0.3], gripper=-1.0)
    assert np.linalg.norm(handle.ee_pose(data)[0] - (mount + [0.5, 0.1, -0.3])) < 0.005
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_CAMERA, "robot/wrist_cam") >= 0
