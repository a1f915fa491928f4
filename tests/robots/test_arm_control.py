"""Position control, ee_delta IK and action validation of the builtin arm."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
from robot_helpers import build_scene, step

from simfarm.errors import RobotError
from simfarm.robots import make_robot


@pytest.fixture(scope="module")
def robot():
    return make_robot("arm")


@pytest.mark.parametrize(
    "integrator", [mujoco.mjtIntegrator.mjINT_EULER, mujoco.mjtIntegrator.mjINT_IMPLICITFAST]
)
def test_position_control_holds_home_pose_under_gravity(robot, integrator):
    model, data, handle = build_scene(robot, integrator=integrator)
    start, _ = handle.ee_pose(data)
    handle.apply_action(data, np.zeros(7), "ee_delta")
    mujoco.mj_step(model, data, nstep=int(2.0 / model.opt.timestep))
    end, _ = handle.ee_pose(data)
    assert np.linalg.norm(end - start) < 0.002
    assert np.abs(data.qvel[handle.arm_dof_adr]).max() < 1e-3


def test_reset_sets_controls_that_hold_the_pose_at_the_first_step(robot):
    model, data, handle = build_scene(robot)
    before = data.qpos[handle.arm_qpos_adr].copy()
    mujoco.mj_step(model, data)  # no action applied yet: ctrl from reset alone
    assert np.abs(data.qpos[handle.arm_qpos_adr] - before).max() < 1e-5


@pytest.mark.parametrize(
    "integrator", [mujoco.mjtIntegrator.mjINT_EULER, mujoco.mjtIntegrator.mjINT_IMPLICITFAST]
)
def test_joint_pos_reaches_joint_targets(robot, integrator):
    model, data, handle = build_scene(robot, integrator=integrator)
    target = np.array([0.5, 0.2, -0.3, -1.8, 0.4, 2.2, -0.5])
    for _ in range(15):  # 1.5 s
        step(model, data, handle, np.append(target, -1.0), "joint_pos")
    assert np.abs(data.qpos[handle.arm_qpos_adr] - target).max() < 0.01
    assert np.allclose(data.ctrl[handle.arm_ctrl_idx], target)


def test_joint_pos_targets_are_clipped_to_joint_limits(robot):
    model, data, handle = build_scene(robot)
    handle.apply_action(data, np.full(8, 10.0), "joint_pos")
    assert np.allclose(data.ctrl[handle.arm_ctrl_idx], handle.arm_limits[:, 1])


WORKSPACE_STARTS = [(0.45, 0.0, 0.95), (0.35, 0.25, 0.85), (0.55, -0.2, 1.05), (0.3, -0.3, 0.9)]


@pytest.mark.parametrize("start", WORKSPACE_STARTS)
def test_ee_delta_moves_tcp_by_the_commanded_delta_across_the_workspace(robot, start):
    model, data, handle = build_scene(robot)
    from robot_helpers import drive_tcp_to

    drive_tcp_to(model, data, handle, start, gripper=-1.0, tol_m=0.002)
    for delta in ([0.03, 0, 0], [0, -0.04, 0], [0, 0, 0.05], [-0.02, 0.02, -0.03]):
        before, rot_before = handle.ee_pose(data)
        action = np.zeros(7)
        action[:3] = delta
        action[6] = -1
        step(model, data, handle, action, "ee_delta")
        step(model, data, handle, np.r_[np.zeros(6), -1], "ee_delta", substeps=100)  # settle
        after, rot_after = handle.ee_pose(data)
        assert np.linalg.norm((after - before) - delta) < 0.003, (start, delta, after - before)
        # a pure translation keeps the orientation
        assert np.linalg.norm(rot_after - rot_before) < 0.02


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_ee_delta_orientation_rotates_the_tcp_in_place(robot, axis):
    model, data, handle = build_scene(robot)
    before, rot_before = handle.ee_pose(data)
    action = np.zeros(7)
    action[3 + axis] = 0.2
    action[6] = -1
    step(model, data, handle, action, "ee_delta")
    step(model, data, handle, np.r_[np.zeros(6), -1], "ee_delta", substeps=150)
    after, rot_after = handle.ee_pose(data)
    rotvec = np.empty(3)
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, (rot_after @ rot_before.T).ravel())
    mujoco.mju_quat2Vel(rotvec, quat, 1.0)
    expected = np.zeros(3)
    expected[axis] = 0.2
    assert np.linalg.norm(rotvec - expected) < 0.01
    assert np.linalg.norm(after - before) < 0.003


def test_small_ee_deltas_accumulate_without_drift(robot):
    model, data, handle = build_scene(robot)
    before, _ = handle.ee_pose(data)
    action = np.r_[0.002, 0, -0.001, 0, 0, 0, -1]
    for _ in range(50):
        step(model, data, handle, action, "ee_delta")
    step(model, data, handle, np.r_[np.zeros(6), -1], "ee_delta", substeps=150)
    after, _ = handle.ee_pose(data)
    assert np.linalg.norm((after - before) - [0.1, 0, -0.05]) < 0.002


def test_ee_delta_is_expressed_in_the_robot_base_frame(robot):
    # Robot turned 90 deg left: +x in its base frame is world +y.
    model, data, handle = build_scene(robot, robot_pos=(1.0, 0.5, 0.0), robot_yaw_rad=np.pi / 2)
    before, _ = handle.ee_pose(data)
    step(model, data, handle, np.r_[0.04, 0, 0, 0, 0, 0, -1], "ee_delta")
    step(model, data, handle, np.r_[np.zeros(6), -1], "ee_delta", substeps=100)
    after, _ = handle.ee_pose(data)
    assert np.linalg.norm((after - before) - [0, 0.04, 0]) < 0.003
    state = dict(zip(handle.state_names(), handle.state(data), strict=True))
    assert state["tcp_x"] == pytest.approx(0.307 + 0.04, abs=0.003)  # base frame


def test_unreachable_targets_do_not_wind_up(robot):
    model, data, handle = build_scene(robot)
    for _ in range(40):  # 2 m forward: far beyond the 0.855 m reach
        step(model, data, handle, np.r_[0.05, 0, 0, 0, 0, 0, -1], "ee_delta")
    stretched, _ = handle.ee_pose(data)
    for _ in range(3):
        step(model, data, handle, np.r_[-0.05, 0, 0, 0, 0, 0, -1], "ee_delta")
    step(model, data, handle, np.r_[np.zeros(6), -1], "ee_delta", substeps=100)
    back, _ = handle.ee_pose(data)
    # moving back responds at once instead of first unwinding 1+ m of accumulated target
    assert stretched[0] - back[0] > 0.1


def test_ik_leaves_the_live_data_untouched(robot):
    model, data, handle = build_scene(robot)
    qpos, qvel, xpos = data.qpos.copy(), data.qvel.copy(), data.xpos.copy()
    handle.apply_action(data, np.r_[0.05, -0.05, 0.05, 0.2, 0.2, 0.2, 1.0], "ee_delta")
    assert (
        np.array_equal(data.qpos, qpos)
        and np.array_equal(data.qvel, qvel)
        and np.array_equal(data.xpos, xpos)
    )
    assert not np.allclose(data.ctrl[handle.arm_ctrl_idx], qpos[handle.arm_qpos_adr])


def test_same_actions_give_identical_trajectories(robot):
    rng = np.random.default_rng(3)
    actions = rng.uniform(-1, 1, size=(20, 7)) * np.r_[0.05, 0.05, 0.05, 0.25, 0.25, 0.25, 1]
    runs = []
    for _ in range(2):
        model, data, handle = build_scene(robot)
        for a in actions:
            step(model, data, handle, a, "ee_delta", substeps=10)
        runs.append(data.qpos.copy())
    assert np.array_equal(runs[0], runs[1])


@pytest.mark.parametrize("mode,shape", [("joint_pos", (8,)), ("ee_delta", (7,))])
def test_action_of_wrong_shape_raises_naming_expected_shape(robot, mode, shape):
    model, data, handle = build_scene(robot)
    with pytest.raises(RobotError, match=rf"expected \({shape[0]},\)"):
        handle.apply_action(data, np.zeros(shape[0] + 1), mode)
    with pytest.raises(RobotError, match="NaN"):
        handle.apply_action(data, np.full(shape, np.nan), mode)


def test_unavailable_mode_raises_listing_accepted_modes(robot):
    model, data, handle = build_scene(robot)
    with pytest.raises(RobotError, match="joint_pos, ee_delta"):
        handle.apply_action(data, np.zeros(3), "base_vel")
    with pytest.raises(RobotError, match="accepted"):
        handle.action_space("teleport")


def test_action_spaces_are_finite_and_named(robot):
    model, data, handle = build_scene(robot)
    assert handle.control_modes == ("joint_pos", "ee_delta")
    for mode in handle.control_modes:
        space = handle.action_space(mode)
        assert np.isfinite(space.low).all() and np.isfinite(space.high).all()
        assert space.dtype == np.float32
        assert len(handle.action_names(mode)) == space.shape[0]
    ee = handle.action_space("ee_delta")
    assert np.allclose(ee.high, [0.05, 0.05, 0.05, 0.25, 0.25, 0.25, 1.0])


def test_state_is_float32_and_matches_its_names(robot):
    model, data, handle = build_scene(robot)
    state = handle.state(data)
    assert state.dtype == np.float32
    assert state.shape == (len(handle.state_names()),) == (15,)
    named = dict(zip(handle.state_names(), state, strict=True))
    assert named["gripper_opening_m"] == pytest.approx(0.08)
    assert named["tcp_z"] == pytest.approx(0.75 + 0.487, abs=0.002)
    assert named["tcp_qw"] >= 0


def test_joint_limit_hits_counts_joints_at_limits(robot):
    model, data, handle = build_scene(robot)
    assert handle.joint_limit_hits(data) == 0
    data.qpos[handle.arm_qpos_adr[0]] = handle.arm_limits[0, 1]
    assert handle.joint_limit_hits(data) == 1


def test_pressing_on_the_floor_does_not_wind_up_the_target():
    robot = make_robot("arm", mount_height_m=0.0)
    model, data, handle = build_scene(robot)
    from robot_helpers import drive_tcp_to

    drive_tcp_to(model, data, handle, [0.5, 0.0, 0.05], gripper=1.0)
    for _ in range(30):  # keep pushing down 5 cm per step into the floor: 1.5 m of commands
        step(model, data, handle, np.r_[0, 0, -0.05, 0, 0, 0, 1.0], "ee_delta")
    pressed, _ = handle.ee_pose(data)
    assert pressed[2] > -0.01  # the floor stopped it
    for _ in range(3):
        step(model, data, handle, np.r_[0, 0, 0.05, 0, 0, 0, 1.0], "ee_delta")
    lifted, _ = handle.ee_pose(data)
    assert lifted[2] - pressed[2] > 0.05  # responds within 3 steps, no 1.5 m to unwind
