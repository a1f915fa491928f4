"""Shared pieces of the scripted experts: waypoint state machines over the ee_delta action space.

Experts read privileged state from the env (poses of objects, handles, trolleys) and act only
through the same action interface a learned policy uses: they never move objects directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

GRIPPER_OPEN = -1.0
GRIPPER_CLOSED = 1.0
# Fingers closer than this hold nothing between them (the thinnest graspable thing is ~2 cm).
MIN_HELD_OPENING_M = 0.005


def rotvec_to_mat(rotvec: np.ndarray) -> np.ndarray:
    """Rotation matrix of an axis-angle vector."""
    angle = float(np.linalg.norm(rotvec))
    if angle < 1e-12:
        return np.eye(3)
    quat = np.empty(4)
    mujoco.mju_axisAngle2Quat(quat, np.asarray(rotvec, dtype=float) / angle, angle)
    return quat_to_mat(quat)


def quat_to_mat(quat: np.ndarray) -> np.ndarray:
    mat = np.empty(9)
    mujoco.mju_quat2Mat(mat, np.asarray(quat, dtype=float))
    return mat.reshape(3, 3)


def rotation_error(world_R_current: np.ndarray, world_R_target: np.ndarray) -> np.ndarray:
    """Axis-angle (world frame) rotating `current` onto `target`."""
    err_R = world_R_target @ world_R_current.T
    quat = np.empty(4)
    mujoco.mju_mat2Quat(quat, err_R.reshape(-1))
    vel = np.empty(3)
    mujoco.mju_quat2Vel(vel, quat, 1.0)
    return vel


def top_down_rotation(yaw: float) -> np.ndarray:
    """world_R_tcp for a gripper pointing down, fingers moving along the horizontal direction `yaw`.

    The TCP frame's z axis is the approach direction and its y axis the finger motion (robots/).
    """
    c, s = np.cos(yaw), np.sin(yaw)
    y = np.array([c, s, 0.0])
    z = np.array([0.0, 0.0, -1.0])
    return np.column_stack([np.cross(y, z), y, z])


def wrap_yaw_for_gripper(yaw: float, current_yaw: float) -> float:
    """A parallel gripper is symmetric under 180°: pick the equivalent yaw nearest the current one."""
    candidates = yaw + np.pi * np.arange(-2, 3)
    return float(candidates[np.argmin(np.abs(candidates - current_yaw))])


def gripper_yaw(world_R_tcp: np.ndarray) -> float:
    """Yaw of the finger motion axis (the TCP frame's y axis) in the world."""
    return float(np.arctan2(world_R_tcp[1, 1], world_R_tcp[0, 1]))


def robot_geom_mask(model: mujoco.MjModel, handle) -> np.ndarray:
    mask = np.zeros(model.ngeom, dtype=bool)
    mask[np.asarray(handle.geom_ids, dtype=int)] = True
    return mask


def touching_robot_bodies(model: mujoco.MjModel, data: mujoco.MjData, body: int, robot_mask: np.ndarray) -> set[int]:
    """Robot bodies (fingers, palm...) in contact with `body` now."""
    n = data.ncon
    if not n:
        return set()
    g1, g2 = data.contact.geom1[:n], data.contact.geom2[:n]
    b1, b2 = model.geom_bodyid[g1], model.geom_bodyid[g2]
    found = model.geom_bodyid[g2[(b1 == body) & robot_mask[g2]]].tolist()
    found += model.geom_bodyid[g1[(b2 == body) & robot_mask[g1]]].tolist()
    return set(found)


def held(model: mujoco.MjModel, data: mujoco.MjData, body: int, robot_mask: np.ndarray, opening: float | None = None) -> bool:
    """Whether the gripper holds `body`: two robot bodies (the two fingers) touch it, and, when
    the finger `opening` is given, something keeps them apart (closed fingers pushing an object
    with their outsides hold nothing)."""
    if opening is not None and opening < MIN_HELD_OPENING_M:
        return False
    return len(touching_robot_bodies(model, data, body, robot_mask)) >= 2


def fingers_moving(handle, data: mujoco.MjData, speed_m_s: float = 0.005) -> bool:
    """Whether the fingers are still opening or closing (a grip that has not settled)."""
    return abs(float(data.qvel[handle.gripper_dof_adr].sum())) > speed_m_s


def over_column(tcp: np.ndarray, xy: np.ndarray, top_z: float, radius_m: float = 0.012) -> bool:
    """Whether the TCP is in the vertical column of `radius_m` around `xy`, no higher than `top_z` + 1 cm."""
    return bool(np.linalg.norm(tcp[:2] - xy) < radius_m and tcp[2] < top_z + 0.01)


@dataclass
class Waypoint:
    """Move the TCP to `pos` with orientation `rot` (3x3), gripper command `grip`; done within tol."""

    pos: np.ndarray
    rot: np.ndarray
    grip: float
    tol_m: float = 0.01
    hold_steps: int = 0  # extra steps to stay once reached (e.g. let the gripper close)
    max_steps: int = 60
    max_step_m: float | None = None  # cap on the commanded motion per step (gentle contact phases)


class WaypointExpert:
    """Follows a list of waypoints produced by `plan(env)`, re-planned at reset.

    Subclasses implement `plan` (and may override `update_waypoint` to track moving targets).

    It steers the pose its robot will be commanded once the actions it sent and has not yet seen
    applied arrive (a Smith predictor), not the pose commanded now: with a control latency of d
    steps (randomization's `action_delay_steps`), steering the commanded pose re-sends the same
    correction d times, which at these gains overshoots and rings for d >= 2. The latency is
    estimated online: the one under which the commanded pose moved, step after step, by the action
    sent that many steps earlier. With no latency it steers the commanded pose itself.

    As a labeller (`follow_state`, set by the rollout when another policy drives: DAgger, DART),
    two things change. What was sent is the driving policy's action (`executed`), not this
    expert's label, so the latency estimate and the predictor follow what really moved the arm.
    And the stage is checked against the state every step and taken from it where they disagree
    (`resync`), so a state's label does not hang on the path the driver took to it: a stage machine advanced only by reaching its
    own waypoints would label a held object "open and go above it" when the learner grasped it
    its own way, and DAgger would train on labels that contradict the demonstrations. Experts
    that do not override `resync` keep their stage machine (their labels are path dependent).
    """

    name = "scripted"
    pos_gain = 0.6
    rot_gain = 0.6
    max_delay = 3
    follow_state = False

    def __init__(self, env, noise_std: float = 0.0):
        self.env = env
        self.waypoints: list[Waypoint] = []
        self.stage = 0
        self.steps_in_stage = 0
        self.hold = 0
        self.noise_std = float(noise_std)
        self._rng = np.random.default_rng(0)
        self._scratch: mujoco.MjData | None = None
        self._scratch_model: mujoco.MjModel | None = None

    def reset(self, instruction: str, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self.stage = 0
        self.steps_in_stage = 0
        self.hold = 0
        self._sent: list[tuple[np.ndarray, np.ndarray]] = []  # world (dpos, drot) of each action sent
        self._prev_cmd: np.ndarray | None = None
        self._delay_err = np.zeros(self.max_delay + 1)
        self.delay = 0
        self.waypoints = self.plan(self.env)

    def plan(self, env) -> list[Waypoint]:  # pragma: no cover - abstract
        raise NotImplementedError

    def update_waypoint(self, env, index: int, waypoint: Waypoint) -> Waypoint:
        return waypoint

    def resync(self, env) -> None:
        """Labelling (`follow_state`): where the state disagrees with `stage`, set it (and re-plan) from
        the state; default: keep the stage machine's."""

    def set_stage(self, stage: int) -> None:
        """Jump to `stage` (from `resync`); the stage's step count restarts only when it changes."""
        if stage != self.stage:
            self.stage, self.steps_in_stage, self.hold = stage, 0, 0

    def executed(self, action: np.ndarray) -> None:
        """As a labeller: the action the driving policy sent this step replaces this expert's own."""
        if getattr(self, "_sent", None):
            self._sent.pop()
            self._record_sent(np.asarray(action, dtype=float))

    def act(self, observation: Any) -> np.ndarray:
        env = self.env
        handle = env.handle
        data = env.data
        self._estimate_delay(handle)
        if self.follow_state:
            self.resync(env)
        pos, rot = handle.ee_pose(data)
        if self.stage >= len(self.waypoints):
            wp = self.waypoints[-1]
        else:
            wp = self.update_waypoint(env, self.stage, self.waypoints[self.stage])
        reached = np.linalg.norm(wp.pos - pos) < wp.tol_m
        if self.stage < len(self.waypoints):
            self.steps_in_stage += 1
            if reached or self.steps_in_stage >= wp.max_steps:
                if self.hold < wp.hold_steps:
                    self.hold += 1
                else:
                    self.stage += 1
                    self.steps_in_stage = 0
                    self.hold = 0
        dpos, drot = self.step_toward(handle, wp)
        action = self.ee_action(dpos, drot, wp.grip)
        action = np.clip(action, env.action_space.low, env.action_space.high)
        if self.noise_std > 0:
            # DART-style: the executed action is perturbed; the next step's command corrects it.
            action[:6] += self._rng.normal(0.0, self.noise_std, 6) * env.action_space.high[:6]
            action = np.clip(action, env.action_space.low, env.action_space.high)
        self._record_sent(action)
        return action.astype(np.float32)

    def _record_sent(self, action: np.ndarray) -> None:
        """Remember what this step sends (world frame), for the latency estimate of `_commanded_pose`."""
        if not hasattr(self, "_sent"):
            return
        world_R_base = self.env.data.xmat[self.env.handle.root_body_id].reshape(3, 3)
        self._sent.append((world_R_base @ np.asarray(action[0:3], float), world_R_base @ np.asarray(action[3:6], float)))
        del self._sent[: -(self.max_delay + 1)]

    def step_toward(self, handle, wp: Waypoint) -> tuple[np.ndarray, np.ndarray]:
        """The ee_delta (position, rotation; base frame of `handle`'s robot) one step toward `wp`."""
        cmd_pos, cmd_R = self._commanded_pose(handle)
        # ee_delta targets accumulate on the robot side, so the expert steers the commanded pose (not
        # the measured one) toward the waypoint: steering the measured pose would integrate the arm's
        # lag and oscillate. A gain below 1 keeps it stable under a step of action delay.
        world_R_base = self.env.data.xmat[handle.root_body_id].reshape(3, 3)
        step_world = (wp.pos - cmd_pos) * self.pos_gain
        if wp.max_step_m is not None and np.linalg.norm(step_world) > wp.max_step_m:
            step_world *= wp.max_step_m / np.linalg.norm(step_world)
        return world_R_base.T @ step_world, world_R_base.T @ (rotation_error(cmd_R, wp.rot) * self.rot_gain)

    def _commanded_pose(self, handle) -> tuple[np.ndarray, np.ndarray]:
        """Where the arm will be commanded once the actions in flight arrive (see the class doc)."""
        pos, R = self._current_command(handle)
        sent = getattr(self, "_sent", None)
        if not sent or not self.delay:
            return pos, R
        # Still to arrive: the last `delay` actions (the env holds the first one through its latency).
        pending = ([sent[0]] * self.delay + sent)[-self.delay:]
        dpos = np.sum([p for p, _ in pending], axis=0)
        drot = np.sum([r for _, r in pending], axis=0)
        return pos + dpos, rotvec_to_mat(drot) @ R

    def _estimate_delay(self, handle) -> None:
        """Once per step: the latency under which the commanded pose moved as the actions sent."""
        sent = getattr(self, "_sent", None)
        if sent is None:
            return
        pos, _ = self._current_command(handle)
        if self._prev_cmd is not None and sent:
            moved = pos - self._prev_cmd
            for k in range(self.max_delay + 1):
                i = len(sent) - 1 - k
                applied = sent[i][0] if i >= 0 else sent[0][0]
                self._delay_err[k] = 0.8 * self._delay_err[k] + float(np.sum((moved - applied) ** 2))
            self.delay = int(np.argmin(self._delay_err))
        self._prev_cmd = pos.copy()

    def _current_command(self, handle) -> tuple[np.ndarray, np.ndarray]:
        """World TCP pose of the arm's commanded joint targets (forward kinematics of data.ctrl).

        That is where the robot is being driven, whatever delay or clipping happened on its side.
        """
        env = self.env
        if self._scratch is None or self._scratch_model is not env.model:
            self._scratch_model = env.model
            self._scratch = mujoco.MjData(env.model)
        scratch = self._scratch
        scratch.qpos[:] = env.data.qpos
        if env.model.nmocap:
            scratch.mocap_pos[:] = env.data.mocap_pos
            scratch.mocap_quat[:] = env.data.mocap_quat
        scratch.qpos[handle.arm_qpos_adr] = env.data.ctrl[handle.arm_ctrl_idx]
        mujoco.mj_kinematics(env.model, scratch)
        site = handle.tcp_site_id
        return scratch.site_xpos[site].copy(), scratch.site_xmat[site].reshape(3, 3).copy()

    def ee_action(self, dpos: np.ndarray, drot: np.ndarray, grip: float) -> np.ndarray:
        action = np.zeros(self.env.action_space.shape, dtype=np.float32)
        action[0:3] = dpos
        action[3:6] = drot
        action[6] = grip
        return action

    def close(self) -> None:
        pass


def as_labeller(expert):
    """`expert` set up to label the states another policy drives (see WaypointExpert)."""
    if hasattr(expert, "follow_state"):
        expert.follow_state = True
    return expert
