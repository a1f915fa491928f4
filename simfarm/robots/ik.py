"""Damped least-squares IK on MuJoCo's own Jacobians, on a private scratch MjData.

The live MjData is only read (base pose, mocap bodies); every trial configuration is written to
the handle's scratch data, so IK never disturbs the simulation.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import mujoco
import numpy as np

if TYPE_CHECKING:
    from simfarm.robots.handle import RobotHandle

DAMPING = 0.02  # lambda of DLS, in metres/radians: keeps steps bounded near singularities
NULLSPACE_GAIN = 0.1  # per iteration, pull towards the home posture inside the task's nullspace
MAX_ITERATIONS = 6
TOL_POS_M = 5e-4  # well below what position control tracks under load (mm); tighter only burns iterations
TOL_ROT_RAD = 5e-3
# Past these residuals the target is treated as unreachable (see RobotHandle._ee_delta).
UNREACHABLE_POS_M = 0.01
UNREACHABLE_ROT_RAD = 0.05
LIMIT_MARGIN_RAD = 1e-3
UNDERACTUATED_ROT_WEIGHT = 0.3  # metres per radian of orientation error for arms with < 6 joints


def _load(handle: RobotHandle, data: mujoco.MjData, scratch: mujoco.MjData, q: np.ndarray) -> None:
    scratch.qpos[:] = data.qpos
    if handle.model.nmocap:
        scratch.mocap_pos[:] = data.mocap_pos
        scratch.mocap_quat[:] = data.mocap_quat
    scratch.qpos[handle.arm_qpos_adr] = q
    mujoco.mj_kinematics(handle.model, scratch)


def _mount_frame(handle: RobotHandle, scratch: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
    return scratch.xpos[handle.mount_body_id], scratch.xmat[handle.mount_body_id].reshape(3, 3)


def mount_tcp_pose(
    handle: RobotHandle, data: mujoco.MjData, scratch: mujoco.MjData, q: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """mount_T_tcp (position, quaternion) of joint configuration `q`, by forward kinematics."""
    _load(handle, data, scratch, q)
    mount_pos, mount_mat = _mount_frame(handle, scratch)
    pos = mount_mat.T @ (scratch.site_xpos[handle.tcp_site_id] - mount_pos)
    mat = mount_mat.T @ scratch.site_xmat[handle.tcp_site_id].reshape(3, 3)
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, mat.ravel())
    return pos, quat


def rotate_quat(quat: np.ndarray, rotvec: np.ndarray) -> np.ndarray:
    """`quat` rotated by the axis-angle `rotvec` expressed in the same (outer) frame."""
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return quat
    dq = np.empty(4)
    mujoco.mju_axisAngle2Quat(dq, rotvec / angle, angle)
    out = np.empty(4)
    mujoco.mju_mulQuat(out, dq, quat)
    mujoco.mju_normalize4(out)
    return out


def solve(
    handle: RobotHandle,
    data: mujoco.MjData,
    scratch: mujoco.MjData,
    q_start: np.ndarray,
    mount_target_pos: np.ndarray,
    mount_target_quat: np.ndarray,
) -> tuple[np.ndarray, float, float]:
    """Joint positions reaching mount_T_target from `q_start`; returns (q, position error m, rotation error rad).

    Each iteration is one damped least-squares step with a pull towards the home posture inside
    the task's nullspace: dq = J+ e + (I - J+ J) z with J+ = J^T (J J^T + lambda^2 I)^-1 and
    z = gain (q_home - q), computed as dq = J^T y + z with (J J^T + lambda^2 I) y = e - J z
    (the same step, one 6x6 solve).
    """
    model = handle.model
    ws = _workspace(handle)
    dofs = handle.arm_dof_adr
    jacp, jacr, jac, err, err_local, cur_quat = ws.jacp, ws.jacr, ws.jac, ws.err, ws.err_local, ws.cur_quat
    lo, hi = ws.lo, ws.hi

    q = np.clip(np.asarray(q_start, dtype=np.float64), lo, hi)
    _load(handle, data, scratch, q)
    mount_pos, mount_mat = _mount_frame(handle, scratch)
    world_target_pos = mount_pos + mount_mat @ mount_target_pos
    mount_quat = np.empty(4)
    mujoco.mju_mat2Quat(mount_quat, mount_mat.ravel())
    target_world_quat = np.empty(4)
    mujoco.mju_mulQuat(target_world_quat, mount_quat, mount_target_quat)

    site = handle.tcp_site_id
    pos_err = rot_err = 0.0
    for it in range(MAX_ITERATIONS + 1):
        site_mat = scratch.site_xmat[site]
        np.subtract(world_target_pos, scratch.site_xpos[site], out=err[:3])
        mujoco.mju_mat2Quat(cur_quat, site_mat)
        # subQuat gives the rotation in the current TCP frame; the Jacobian is in world axes.
        mujoco.mju_subQuat(err_local, target_world_quat, cur_quat)
        np.dot(site_mat.reshape(3, 3), err_local, out=err[3:])
        pos_err = math.sqrt(err[0] * err[0] + err[1] * err[1] + err[2] * err[2])
        rot_err = math.sqrt(err[3] * err[3] + err[4] * err[4] + err[5] * err[5])
        if (pos_err < TOL_POS_M and rot_err < TOL_ROT_RAD) or it == MAX_ITERATIONS:
            break
        mujoco.mj_comPos(model, scratch)
        mujoco.mj_jacSite(model, scratch, jacp, jacr, site)
        np.take(jacp, dofs, axis=1, out=jac[:3])
        np.take(jacr, dofs, axis=1, out=jac[3:])
        if ws.rot_weight != 1.0:
            # Fewer than 6 joints cannot reach every orientation: position first, orientation as near as it goes.
            jac[3:] *= ws.rot_weight
            err[3:] *= ws.rot_weight
        z = NULLSPACE_GAIN * (handle.arm_home_qpos - q)
        gram = jac @ jac.T
        gram.flat[:: gram.shape[0] + 1] += DAMPING**2  # + lambda^2 on the diagonal
        q = np.clip(q + jac.T @ np.linalg.solve(gram, err - jac @ z) + z, lo, hi)
        scratch.qpos[handle.arm_qpos_adr] = q
        mujoco.mj_kinematics(model, scratch)
    return q, pos_err, rot_err


class _Workspace:
    """Arrays one IK solve reuses (per handle: sized by its model and arm)."""

    def __init__(self, handle: RobotHandle):
        nv, n = handle.model.nv, handle.arm_dof_adr.size
        self.jacp = np.zeros((3, nv))
        self.jacr = np.zeros((3, nv))
        self.jac = np.empty((6, n))
        self.err = np.empty(6)
        self.err_local = np.empty(3)
        self.cur_quat = np.empty(4)
        self.rot_weight = 1.0 if n >= 6 else UNDERACTUATED_ROT_WEIGHT
        self.lo = handle.arm_limits[:, 0] + LIMIT_MARGIN_RAD
        self.hi = handle.arm_limits[:, 1] - LIMIT_MARGIN_RAD


def _workspace(handle: RobotHandle) -> _Workspace:
    """The handle's IK arrays, made on its first solve (a handle belongs to one compiled model)."""
    ws = getattr(handle, "_ik_workspace", None)
    if ws is None:
        ws = handle._ik_workspace = _Workspace(handle)
    return ws
