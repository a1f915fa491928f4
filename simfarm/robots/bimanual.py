"""Two arms as one robot: `BimanualHandle` drives a left and a right `RobotHandle` with one action.

Actions, states and names are the two arms' concatenated, left first (`left_dx ... right_gripper`),
so `ee_delta` is 14-D for two 6-DoF arms and `joint_pos` is both arms' joints and grippers. Each arm
keeps its own IK and frames (its own mount: `robot/left/arm_base`, `robot/right/arm_base`).
"""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np

from simfarm.robots.handle import RobotHandle, control_modes_for
from simfarm.robots.layout import RobotLayout

ARMS = ("left", "right")


class BimanualHandle:
    """A two-armed robot bound to a compiled model (arms under `<prefix>left/` and `<prefix>right/`)."""

    def __init__(self, model: mujoco.MjModel, layout: RobotLayout, prefix: str = "robot/", robot_name: str = "robot"):
        self.model = model
        self.layout = layout
        self.prefix = prefix
        self.robot_name = robot_name
        self.arms = {arm: RobotHandle(model, layout, prefix=f"{prefix}{arm}/", robot_name=f"{robot_name}/{arm}") for arm in ARMS}
        self.control_modes = control_modes_for(layout)
        first = self.arms[ARMS[0]]
        self.root_body_id = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, prefix + "base")
        self.geom_ids = np.unique(np.concatenate([h.geom_ids for h in self.arms.values()]))
        self.arm_qpos_adr = np.concatenate([h.arm_qpos_adr for h in self.arms.values()])
        self.arm_limits = np.concatenate([h.arm_limits for h in self.arms.values()])
        self.wrist_camera = None
        self._sizes = {mode: first.action_space(mode).shape[0] for mode in self.control_modes}
        self._spaces = {mode: self._joint_space(mode) for mode in self.control_modes}

    def _joint_space(self, mode: str) -> gym.spaces.Box:
        spaces = [h.action_space(mode) for h in self.arms.values()]
        return gym.spaces.Box(np.concatenate([s.low for s in spaces]), np.concatenate([s.high for s in spaces]), dtype=np.float32)

    def action_space(self, mode: str) -> gym.spaces.Box:
        return self._spaces[mode] if mode in self._spaces else self.arms[ARMS[0]].action_space(mode)

    def action_names(self, mode: str) -> list[str]:
        return [f"{arm}_{n}" for arm, h in self.arms.items() for n in h.action_names(mode)]

    def state_names(self) -> list[str]:
        return [f"{arm}_{n}" for arm, h in self.arms.items() for n in h.state_names()]

    def split(self, action: np.ndarray, mode: str) -> dict[str, np.ndarray]:
        n = self._sizes[mode]
        a = np.asarray(action)
        return {arm: a[k * n:(k + 1) * n] for k, arm in enumerate(ARMS)}

    def reset(self, data: mujoco.MjData) -> None:
        for h in self.arms.values():
            h.reset(data)

    def apply_action(self, data: mujoco.MjData, action, mode: str) -> None:
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.action_space(mode).shape:
            from simfarm.errors import RobotError

            raise RobotError(f"action for mode {mode!r} of robot {self.robot_name!r} has shape {action.shape}; "
                             f"expected {self.action_space(mode).shape} (left arm, then right)")
        for arm, part in self.split(action, mode).items():
            self.arms[arm].apply_action(data, part, mode)

    def state(self, data: mujoco.MjData) -> np.ndarray:
        return np.concatenate([h.state(data) for h in self.arms.values()]).astype(np.float32)

    def joint_limit_hits(self, data: mujoco.MjData) -> int:
        return sum(h.joint_limit_hits(data) for h in self.arms.values())

    def ee_pose(self, data: mujoco.MjData):
        """The left arm's TCP (single-arm code paths); `arms[...]` gives each arm's own."""
        return self.arms[ARMS[0]].ee_pose(data)
