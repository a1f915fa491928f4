"""Every dataset carries the cross-embodiment view: observation.ee_pose and action.ee_delta per arm."""

from __future__ import annotations

import numpy as np
import pytest

from simfarm import config as C
from simfarm.robots import canonical
from simfarm.rollout import EpisodeRunner


def _episode(*overrides):
    cfg = C.to_dict(C.compose("generate", ["scene=tabletop", "obs_mode=state", *overrides]))
    runner = EpisodeRunner(cfg)
    try:
        return runner.run(0)
    finally:
        runner.close()


@pytest.mark.parametrize("robot", ["panda", "ur5e", "kinova_gen3", "xarm7"])
def test_ee_delta_episode_records_the_commanded_step_in_the_canonical_convention(robot):
    ep = _episode(f"robot={robot}")
    native, canon = ep.steps["action"], ep.steps["action.ee_delta"]
    assert canon.shape == (ep.length, 7) and ep.steps["observation.ee_pose"].shape == (ep.length, 8)
    assert np.allclose(canon[:, :3], native[:, :3], atol=1e-6)
    assert np.allclose(canon[:, 6], (native[:, 6] + 1) / 2, atol=1e-6)
    # Small rotations: roll/pitch/yaw equal the axis-angle components to second order.
    assert np.allclose(canon[:, 3:6], native[:, 3:6], atol=0.01)
    pose = ep.steps["observation.ee_pose"]
    assert np.allclose(np.linalg.norm(pose[:, 3:7], axis=1), 1.0, atol=1e-5) and (pose[:, 3] >= 0).all()
    assert ((0 <= pose[:, 7]) & (pose[:, 7] <= 1)).all() and pose[0, 7] == pytest.approx(1.0, abs=0.02)
    names = ep.metadata["names"]
    assert names["observation.ee_pose"] == list(canonical.EE_POSE_NAMES)
    assert names["action.ee_delta"] == list(canonical.EE_DELTA_NAMES)


def test_joint_position_episode_records_the_measured_motion():
    ep = _episode("robot=ur5e", "control_mode=joint_pos", "policy=random", "max_steps=8")
    pose, canon = ep.steps["observation.ee_pose"], ep.steps["action.ee_delta"]
    # The measured steps add up to the motion between the recorded poses.
    assert np.allclose(canon[:-1, :3].cumsum(axis=0), pose[1:, :3] - pose[0, :3], atol=1e-5)
    assert np.abs(canon[:, :3]).max() > 1e-3  # the arm really moved


def test_rpy_of_rotation_inverts_the_extrinsic_xyz_rotation():
    rng = np.random.default_rng(0)
    for roll, pitch, yaw in rng.uniform(-1.2, 1.2, (20, 3)):
        cx, sx, cy, sy, cz, sz = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
        rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
        ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
        assert np.allclose(canonical.rpy_of_rotation(rz @ ry @ rx), (roll, pitch, yaw))


def test_mobile_base_has_no_arm_view():
    ep = _episode("task=push_trolley", "robot=mobile_base", "scene=kitchen")
    assert "observation.ee_pose" not in ep.steps and "action.ee_delta" not in ep.steps
