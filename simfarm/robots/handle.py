"""`RobotHandle`: a robot bound to a compiled model; turns actions into actuator controls.

Everything is resolved to index arrays once, at bind time; nothing is looked up by name per step.

Frames and conventions
- `ee_pose(data)` is the TCP (`grip_site`) in the world frame.
- `state(data)`: arm joint positions, gripper opening, TCP position and quaternion (w, x, y, z,
  w >= 0) in the robot's root (`base`) body frame, then for mobile robots the base's x, y, yaw in
  the attachment frame and its velocities (vx, vy in the base frame, yaw rate).
- `ee_delta` commands are in the arm mount frame, whose axes are the robot base's (x forward,
  z up): delta position (metres) and delta orientation (axis-angle, radians) applied about the
  TCP. Targets accumulate from the previous target, not the measured pose, so small steps do not
  drift under gravity or contact.
- Gripper command in [-1, 1]: -1 fully open, +1 fully closed (robosuite convention).
- `base_vel` is (vx, vy, yaw rate) in the base's own frame (m/s, rad/s).
"""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np

from simfarm.errors import RobotError
from simfarm.robots import ik
from simfarm.robots.layout import RobotLayout

MAX_EE_DELTA_POS_M = 0.05
MAX_EE_DELTA_ROT_RAD = 0.25
# How far an ee_delta position target may lead the measured TCP (see _ee_delta).
MAX_TARGET_LEAD_M = 0.08
# A joint closer than this to a limit counts as a limit hit (safety figures).
JOINT_LIMIT_MARGIN_RAD = 1e-3

ARM_MODES = ("joint_pos", "ee_delta")


def control_modes_for(layout: RobotLayout) -> tuple[str, ...]:
    """The control modes a robot with this layout accepts."""
    modes: tuple[str, ...] = ()
    if layout.has_arm:
        modes += ARM_MODES
    if layout.has_base:
        modes += ("base_vel",)
    if layout.has_arm and layout.has_base:
        modes += ("ee_delta+base_vel",)
    return modes


def _id(model: mujoco.MjModel, obj: mujoco.mjtObj, name: str, what: str) -> int:
    idx = mujoco.mj_name2id(model, obj, name)
    if idx < 0:
        raise RobotError(
            f"robot element {what} {name!r} not found in the model; was the robot attached with this prefix?"
        )
    return idx


def _joint_addresses(model: mujoco.MjModel, prefix: str, names) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joint ids, qpos addresses, dof addresses) of the named joints, as int64 arrays."""
    ids = np.array([_id(model, mujoco.mjtObj.mjOBJ_JOINT, prefix + n, "joint") for n in names], dtype=np.int64)
    return ids, model.jnt_qposadr[ids].astype(np.int64), model.jnt_dofadr[ids].astype(np.int64)


def _actuator_ids(model: mujoco.MjModel, prefix: str, names) -> np.ndarray:
    return np.array([_id(model, mujoco.mjtObj.mjOBJ_ACTUATOR, prefix + n, "actuator") for n in names], dtype=np.int64)


class RobotHandle:
    """A robot's runtime interface on one compiled model (see the module docstring for frames)."""

    def __init__(
        self,
        model: mujoco.MjModel,
        layout: RobotLayout,
        prefix: str = "robot/",
        robot_name: str = "robot",
    ):
        self.model = model
        self.layout = layout
        self.prefix = prefix
        self.robot_name = robot_name
        self.control_modes = control_modes_for(layout)
        p = prefix
        J, B, A, S = (
            mujoco.mjtObj.mjOBJ_JOINT,
            mujoco.mjtObj.mjOBJ_BODY,
            mujoco.mjtObj.mjOBJ_ACTUATOR,
            mujoco.mjtObj.mjOBJ_SITE,
        )

        self.root_body_id = _id(model, B, p + layout.root_body, "body")
        # Arm.
        arm_joint_ids, self.arm_qpos_adr, self.arm_dof_adr = _joint_addresses(model, p, layout.arm_joints)
        self.arm_ctrl_idx = _actuator_ids(model, p, layout.arm_actuators)
        self.arm_limits = (
            model.jnt_range[arm_joint_ids].copy() if arm_joint_ids.size else np.zeros((0, 2))
        )
        self.arm_home_qpos = layout.home_arm()
        if layout.has_arm:
            self.tcp_site_id = _id(model, S, p + layout.tcp_site, "site")
            self.mount_body_id = _id(model, B, p + layout.arm_mount_body, "body")
            self.gripper_ctrl_idx = _id(model, A, p + layout.gripper_actuator, "actuator")
            grip_ids = np.array(
                [_id(model, J, p + n, "joint") for n in layout.gripper_joints], dtype=np.int64
            )
            self.gripper_qpos_adr = model.jnt_qposadr[grip_ids].astype(np.int64)
            self.gripper_dof_adr = model.jnt_dofadr[grip_ids].astype(np.int64)
            self.wrist_camera = p + layout.wrist_camera if layout.wrist_camera else None
            if self.wrist_camera is not None:
                _id(model, mujoco.mjtObj.mjOBJ_CAMERA, self.wrist_camera, "camera")
        else:
            self.tcp_site_id = -1
            self.mount_body_id = -1
            self.gripper_ctrl_idx = -1
            self.gripper_qpos_adr = np.zeros(0, np.int64)
            self.gripper_dof_adr = np.zeros(0, np.int64)
            self.wrist_camera = None
        # Mobile base.
        _, self.base_qpos_adr, self.base_dof_adr = _joint_addresses(model, p, layout.base_joints)
        self.base_ctrl_idx = _actuator_ids(model, p, layout.base_actuators)

        self.body_ids = self._subtree_bodies(self.root_body_id)
        self.geom_ids = np.flatnonzero(np.isin(model.geom_bodyid, self.body_ids)).astype(np.int64)
        self._robot_dofs = np.concatenate(
            [self.arm_dof_adr, self.gripper_dof_adr, self.base_dof_adr]
        )

        self._spaces = {mode: self._make_space(mode) for mode in self.control_modes}
        self._scratch = mujoco.MjData(model)
        self._q_cmd: np.ndarray | None = None
        # mount_T_target as position + quaternion; None: re-derive from the commanded joints.
        self._target_pos: np.ndarray | None = None
        self._target_quat: np.ndarray | None = None
        self.last_ik_error: tuple[float, float] = (0.0, 0.0)

    # -- construction helpers ------------------------------------------------------------------

    def _subtree_bodies(self, root: int) -> np.ndarray:
        parent = self.model.body_parentid
        inside = np.zeros(self.model.nbody, dtype=bool)
        inside[root] = True
        # Bodies are numbered parents-first, so one forward pass marks the whole subtree.
        for b in range(root + 1, self.model.nbody):
            inside[b] = inside[parent[b]]
        return np.flatnonzero(inside).astype(np.int64)

    def _make_space(self, mode: str) -> gym.spaces.Box:
        lo, hi = self._bounds(mode)
        return gym.spaces.Box(lo.astype(np.float32), hi.astype(np.float32), dtype=np.float32)

    def _bounds(self, mode: str) -> tuple[np.ndarray, np.ndarray]:
        if mode == "joint_pos":
            lo = np.append(self.arm_limits[:, 0], -1.0)
            hi = np.append(self.arm_limits[:, 1], 1.0)
        elif mode == "ee_delta":
            dp, dr = MAX_EE_DELTA_POS_M, MAX_EE_DELTA_ROT_RAD
            hi = np.array([dp, dp, dp, dr, dr, dr, 1.0])
            lo = -hi
        elif mode == "base_vel":
            v, w = self.layout.max_base_speed_mps, self.layout.max_base_yaw_rate_radps
            hi = np.array([v, v, w])
            lo = -hi
        elif mode == "ee_delta+base_vel":
            lo_a, hi_a = self._bounds("ee_delta")
            lo_b, hi_b = self._bounds("base_vel")
            lo, hi = np.concatenate([lo_a, lo_b]), np.concatenate([hi_a, hi_b])
        else:
            raise RobotError(
                f"control mode {mode!r} unknown; robot {self.robot_name!r} accepts: {', '.join(self.control_modes)}"
            )
        return lo, hi

    def _check_mode(self, mode: str) -> None:
        if mode not in self._spaces:
            raise RobotError(
                f"control mode {mode!r} not available for robot {self.robot_name!r}; accepted: {', '.join(self.control_modes)}"
            )

    # -- public API ----------------------------------------------------------------------------

    def action_space(self, mode: str) -> gym.spaces.Box:
        """The finite Box of actions for `mode`."""
        self._check_mode(mode)
        return self._spaces[mode]

    def action_names(self, mode: str) -> list[str]:
        """One name per action component of `mode`."""
        self._check_mode(mode)
        names = {
            "joint_pos": [*(f"joint{i + 1}" for i in range(len(self.arm_qpos_adr))), "gripper"],
            "ee_delta": ["dx", "dy", "dz", "drx", "dry", "drz", "gripper"],
            "base_vel": ["base_vx", "base_vy", "base_yaw_rate"],
        }
        if mode == "ee_delta+base_vel":
            return names["ee_delta"] + names["base_vel"]
        return names[mode]

    def state_names(self) -> list[str]:
        """Names of the `state` vector's components."""
        names: list[str] = []
        if self.layout.has_arm:
            names += [f"joint{i + 1}" for i in range(len(self.arm_qpos_adr))]
            names += [
                "gripper_opening_m",
                "tcp_x",
                "tcp_y",
                "tcp_z",
                "tcp_qw",
                "tcp_qx",
                "tcp_qy",
                "tcp_qz",
            ]
        if self.layout.has_base:
            names += ["base_x", "base_y", "base_yaw", "base_vx", "base_vy", "base_yaw_rate"]
        return names

    def reset(self, data: mujoco.MjData) -> None:
        """Home pose into qpos, zero robot velocities, and controls that hold it (no first-step jump)."""
        if self.layout.has_arm:
            data.qpos[self.arm_qpos_adr] = self.arm_home_qpos
            data.qpos[self.gripper_qpos_adr] = self.layout.gripper_home_qpos
            data.ctrl[self.arm_ctrl_idx] = self.arm_home_qpos
            data.ctrl[self.gripper_ctrl_idx] = self.layout.gripper_ctrl_open
        if self.layout.has_base:
            data.qpos[self.base_qpos_adr] = 0.0
            data.ctrl[self.base_ctrl_idx] = 0.0
        data.qvel[self._robot_dofs] = 0.0
        self._q_cmd = self.arm_home_qpos.copy() if self.layout.has_arm else None
        self._target_pos = None
        self._target_quat = None

    def apply_action(self, data: mujoco.MjData, action, mode: str) -> None:
        """Clip `action` to the mode's bounds and write `data.ctrl` (IK for ee_delta). No physics step."""
        space = self._spaces.get(mode)
        if space is None:
            self._check_mode(mode)
        a = np.asarray(action, dtype=np.float64)
        if a.shape != space.shape:
            raise RobotError(
                f"action for mode {mode!r} of robot {self.robot_name!r} has shape {a.shape}; expected {space.shape} "
                f"({', '.join(self.action_names(mode))})"
            )
        if not np.isfinite(a).all():
            raise RobotError(f"action for mode {mode!r} contains NaN or inf: {a.tolist()}")
        a = np.clip(a, space.low, space.high)
        if mode == "joint_pos":
            self._q_cmd = a[:-1].copy()
            self._target_pos = None
            data.ctrl[self.arm_ctrl_idx] = self._q_cmd
            self._set_gripper(data, a[-1])
            self._set_base_velocity(data, None)
        elif mode == "ee_delta":
            self._ee_delta(data, a[:3], a[3:6])
            self._set_gripper(data, a[6])
            self._set_base_velocity(data, None)
        elif mode == "base_vel":
            self._set_base_velocity(data, a)
        else:  # ee_delta+base_vel
            self._ee_delta(data, a[:3], a[3:6])
            self._set_gripper(data, a[6])
            self._set_base_velocity(data, a[7:10])

    def ee_pose(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
        """TCP position (3,) and rotation matrix (3, 3) in the world frame (needs mj_forward/step)."""
        return data.site_xpos[self.tcp_site_id].copy(), data.site_xmat[self.tcp_site_id].reshape(
            3, 3
        ).copy()

    def base_pose(self, data: mujoco.MjData) -> tuple[np.ndarray, np.ndarray]:
        """World position and rotation matrix of the robot's root body `base`."""
        return data.xpos[self.root_body_id].copy(), data.xmat[self.root_body_id].reshape(
            3, 3
        ).copy()

    def world_to_base(self, data: mujoco.MjData, vec_world) -> np.ndarray:
        """A world-frame direction (e.g. a desired TCP displacement) in the base frame used by ee_delta."""
        return data.xmat[self.root_body_id].reshape(3, 3).T @ np.asarray(
            vec_world, dtype=np.float64
        )

    def gripper_opening(self, data: mujoco.MjData) -> float:
        """Distance between the fingers in metres."""
        return float(data.qpos[self.gripper_qpos_adr].sum())

    def joint_limit_hits(self, data: mujoco.MjData) -> int:
        """How many arm joints sit at a limit now (safety figures)."""
        if not self.layout.has_arm:
            return 0
        q = data.qpos[self.arm_qpos_adr]
        return int(
            np.count_nonzero(q <= self.arm_limits[:, 0] + JOINT_LIMIT_MARGIN_RAD)
            + np.count_nonzero(q >= self.arm_limits[:, 1] - JOINT_LIMIT_MARGIN_RAD)
        )

    def state(self, data: mujoco.MjData) -> np.ndarray:
        """float32 proprioception, named by `state_names()`."""
        parts = []
        root_pos = data.xpos[self.root_body_id]
        root_mat = data.xmat[self.root_body_id].reshape(3, 3)
        if self.layout.has_arm:
            tcp_pos = root_mat.T @ (data.site_xpos[self.tcp_site_id] - root_pos)
            tcp_mat = root_mat.T @ data.site_xmat[self.tcp_site_id].reshape(3, 3)
            quat = np.empty(4)
            mujoco.mju_mat2Quat(quat, tcp_mat.ravel())
            if quat[0] < 0:
                quat = -quat
            parts += [data.qpos[self.arm_qpos_adr], [self.gripper_opening(data)], tcp_pos, quat]
        if self.layout.has_base:
            x, y, yaw = data.qpos[self.base_qpos_adr]
            vx_w, vy_w, wz = data.qvel[self.base_dof_adr]
            c, s = np.cos(yaw), np.sin(yaw)
            parts += [[x, y, yaw, c * vx_w + s * vy_w, -s * vx_w + c * vy_w, wz]]
        return np.concatenate(parts).astype(np.float32)

    # -- control internals ---------------------------------------------------------------------

    def _set_gripper(self, data: mujoco.MjData, command: float) -> None:
        closed_fraction = (command + 1.0) * 0.5
        lay = self.layout
        data.ctrl[self.gripper_ctrl_idx] = (
            lay.gripper_ctrl_open
            + (lay.gripper_ctrl_closed - lay.gripper_ctrl_open) * closed_fraction
        )

    def _set_base_velocity(self, data: mujoco.MjData, command) -> None:
        if not self.layout.has_base:
            return
        if command is None:
            data.ctrl[self.base_ctrl_idx] = 0.0
            return
        # Joints slide along the attachment frame's axes: rotate the base-frame command by yaw.
        yaw = data.qpos[self.base_qpos_adr[2]]
        c, s = np.cos(yaw), np.sin(yaw)
        vx, vy, wz = command
        data.ctrl[self.base_ctrl_idx] = (c * vx - s * vy, s * vx + c * vy, wz)

    def _ee_delta(self, data: mujoco.MjData, dpos_m: np.ndarray, drot_rad: np.ndarray) -> None:
        if self._q_cmd is None:
            self._q_cmd = data.qpos[self.arm_qpos_adr].copy()
        scratch = self._scratch
        if self._target_pos is None:
            self._target_pos, self._target_quat = ik.mount_tcp_pose(
                self, data, scratch, self._q_cmd
            )
        self._target_pos = self._target_pos + dpos_m
        # Blocked by contact (a table, an object), the arm cannot follow: bound how far the target
        # may lead the measured TCP so pushing on a surface cannot wind up into a huge force.
        mount_mat = data.xmat[self.mount_body_id].reshape(3, 3)
        measured = mount_mat.T @ (data.site_xpos[self.tcp_site_id] - data.xpos[self.mount_body_id])
        lead = self._target_pos - measured
        lead_m = float(np.linalg.norm(lead))
        if lead_m > MAX_TARGET_LEAD_M:
            self._target_pos = measured + lead * (MAX_TARGET_LEAD_M / lead_m)
        self._target_quat = ik.rotate_quat(self._target_quat, drot_rad)
        q, pos_err, rot_err = ik.solve(
            self, data, scratch, self._q_cmd, self._target_pos, self._target_quat
        )
        self.last_ik_error = (pos_err, rot_err)
        if pos_err > ik.UNREACHABLE_POS_M or rot_err > ik.UNREACHABLE_ROT_RAD:
            # An unreachable target would otherwise wind up and hold the arm against its limits
            # long after the policy turned back: follow what the arm can actually do.
            self._target_pos, self._target_quat = ik.mount_tcp_pose(self, data, scratch, q)
        self._q_cmd = q
        data.ctrl[self.arm_ctrl_idx] = q
