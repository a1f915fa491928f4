"""The cross-embodiment view every episode records beside a robot's native state and action.

Open X-Embodiment's convention, per arm, in the arm's base frame (its mount: the same frame for a
robot on a pedestal of any height or on a mobile base, axes as the robot's base, x forward, z up):
- `observation.ee_pose` (8 per arm): TCP position x, y, z (m), orientation quaternion w, x, y, z
  (w >= 0), then the gripper's opening 0 (closed) .. 1 (fully open).
- `action.ee_delta` (7 per arm): TCP displacement dx, dy, dz (m), rotation droll, dpitch, dyaw (rad,
  the extrinsic x-y-z Euler angles of the step's rotation), then the gripper command 0 (open) .. 1
  (closed). For `ee_delta` control it is the commanded step; for any other control (joint
  positions, a policy of another embodiment) the measured TCP motion over the step, so every
  dataset carries it whatever drove the robot.
"""

from __future__ import annotations

import mujoco
import numpy as np

EE_POSE_NAMES = ("x", "y", "z", "qw", "qx", "qy", "qz", "gripper_open")
EE_DELTA_NAMES = ("dx", "dy", "dz", "droll", "dpitch", "dyaw", "gripper_close")
COMMANDED_MODES = ("ee_delta", "ee_delta+base_vel")


def names(base: tuple[str, ...], arms: tuple[str, ...]) -> list[str]:
    """Feature names for each arm: plain for one arm, `left_x ... right_x` for two."""
    if len(arms) <= 1:
        return list(base)
    return [f"{arm}_{n}" for arm in arms for n in base]


def ee_pose(handle, data: mujoco.MjData) -> np.ndarray:
    """(8 per arm,) mount-frame TCP pose and gripper opening (see the module docstring)."""
    if hasattr(handle, "arms"):
        return np.concatenate([_arm_ee_pose(h, data) for h in handle.arms.values()])
    return _arm_ee_pose(handle, data)


def _arm_ee_pose(handle, data: mujoco.MjData) -> np.ndarray:
    root_pos = data.xpos[handle.mount_body_id]
    root_mat = data.xmat[handle.mount_body_id].reshape(3, 3)
    out = np.empty(8)
    out[:3] = root_mat.T @ (data.site_xpos[handle.tcp_site_id] - root_pos)
    tcp_mat = root_mat.T @ data.site_xmat[handle.tcp_site_id].reshape(3, 3)
    mujoco.mju_mat2Quat(out[3:7], tcp_mat.ravel())
    if out[3] < 0:
        out[3:7] *= -1
    full = float(np.sum(handle.layout.gripper_home_qpos)) or 1.0
    out[7] = min(1.0, max(0.0, handle.gripper_opening(data) / full))
    return out


def rpy_of_rotation(mat: np.ndarray) -> np.ndarray:
    """Extrinsic x-y-z (roll, pitch, yaw) angles of a rotation matrix: R = Rz(yaw) Ry(pitch) Rx(roll)."""
    pitch = np.arcsin(np.clip(-mat[2, 0], -1.0, 1.0))
    roll = np.arctan2(mat[2, 1], mat[2, 2])
    yaw = np.arctan2(mat[1, 0], mat[0, 0])
    return np.array([roll, pitch, yaw])


def _quat_mat(q: np.ndarray) -> np.ndarray:
    mat = np.empty(9)
    mujoco.mju_quat2Mat(mat, q)
    return mat.reshape(3, 3)


def ee_delta(action: np.ndarray, mode: str, before: np.ndarray, after: np.ndarray, arms: int = 1) -> np.ndarray:
    """(7 per arm,) canonical action of one step, from the native action (arms concatenated) and the
    ee_pose before and after the step."""
    if arms > 1:
        a, n = np.asarray(action), len(action) // arms
        return np.concatenate([_arm_ee_delta(a[k * n:(k + 1) * n], mode, before[8 * k:8 * k + 8], after[8 * k:8 * k + 8])
                               for k in range(arms)])
    return _arm_ee_delta(action, mode, before, after)


def _arm_ee_delta(action: np.ndarray, mode: str, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    out = np.empty(7)
    a = np.asarray(action, dtype=np.float64)
    if mode in COMMANDED_MODES:
        out[:3] = a[:3]
        rotvec = a[3:6]
        angle = float(np.linalg.norm(rotvec))
        rot = np.eye(3)
        if angle > 1e-12:
            q = np.empty(4)
            mujoco.mju_axisAngle2Quat(q, rotvec / angle, angle)
            rot = _quat_mat(q)
        out[3:6] = rpy_of_rotation(rot)
        out[6] = 0.5 * (float(a[6]) + 1.0)
    else:
        out[:3] = after[:3] - before[:3]
        out[3:6] = rpy_of_rotation(_quat_mat(after[3:7]) @ _quat_mat(before[3:7]).T)
        # joint_pos's last entry is the gripper command (-1 open .. +1 closed), as in ee_delta.
        out[6] = 0.5 * (float(a[-1]) + 1.0) if mode == "joint_pos" else 1.0 - after[7]
    return out
