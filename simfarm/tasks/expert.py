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


@dataclass
class Waypoint:
    """Move the TCP to `pos` with orientation `rot` (3x3), gripper command `grip`; done within tol."""

    pos: np.ndarray
    rot: np.ndarray
    grip: float
    tol_m: float = 0.01
    hold_steps: int = 0  # extra steps to stay once reached (e.g. let the gripper close)
    max_steps: int = 60


class WaypointExpert:
    """Follows a list of waypoints produced by `plan(env)`, re-planned at reset.

    Subclasses implement `plan` (and may override `update_waypoint` to track moving targets).
    """

    name = "scripted"
    pos_gain = 1.0
    rot_gain = 1.0

    def __init__(self, env):
        self.env = env
        self.waypoints: list[Waypoint] = []
        self.stage = 0
        self.steps_in_stage = 0
        self.hold = 0
        self.noise_std = 0.0
        self._rng = np.random.default_rng(0)

    def reset(self, instruction: str, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
        self.stage = 0
        self.steps_in_stage = 0
        self.hold = 0
        self.waypoints = self.plan(self.env)

    def plan(self, env) -> list[Waypoint]:  # pragma: no cover - abstract
        raise NotImplementedError

    def update_waypoint(self, env, index: int, waypoint: Waypoint) -> Waypoint:
        return waypoint

    def act(self, observation: Any) -> np.ndarray:
        env = self.env
        handle = env.handle
        pos, rot = handle.ee_pose(env.data)
        if self.stage >= len(self.waypoints):
            wp = self.waypoints[-1]
        else:
            wp = self.update_waypoint(env, self.stage, self.waypoints[self.stage])
        delta = wp.pos - pos
        reached = np.linalg.norm(delta) < wp.tol_m
        if self.stage < len(self.waypoints):
            self.steps_in_stage += 1
            if reached or self.steps_in_stage >= wp.max_steps:
                if self.hold < wp.hold_steps:
                    self.hold += 1
                else:
                    self.stage += 1
                    self.steps_in_stage = 0
                    self.hold = 0
        # ee_delta is expressed in the robot's base frame.
        dpos = handle.world_to_base(env.data, delta * self.pos_gain)
        drot = handle.world_to_base(env.data, rotation_error(rot, wp.rot) * self.rot_gain)
        action = self.ee_action(dpos, drot, wp.grip)
        if self.noise_std > 0:
            action[:6] += self._rng.normal(0.0, self.noise_std, 6) * env.action_space.high[:6]
        return np.clip(action, env.action_space.low, env.action_space.high).astype(np.float32)

    def ee_action(self, dpos: np.ndarray, drot: np.ndarray, grip: float) -> np.ndarray:
        action = np.zeros(self.env.action_space.shape, dtype=np.float32)
        action[0:3] = dpos
        action[3:6] = drot
        action[6] = grip
        return action

    def close(self) -> None:
        pass
