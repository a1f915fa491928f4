"""What a handle needs to know about a robot model: the unprefixed names of its parts.

Every robot source (builtin, Menagerie) describes its compiled model through one `RobotLayout`,
so `RobotHandle` works the same for all of them and never guesses joint names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RobotLayout:
    """Names (without the attachment prefix) of the elements a `RobotHandle` binds to."""

    root_body: str = "base"
    # Arm (empty when the robot has none).
    arm_joints: tuple[str, ...] = ()
    arm_actuators: tuple[str, ...] = ()
    arm_home_qpos: tuple[float, ...] = ()
    # The body whose frame ee_delta commands and TCP states are expressed in (moves with a mobile base).
    arm_mount_body: str = ""
    tcp_site: str = ""
    wrist_camera: str = ""
    gripper_joints: tuple[str, ...] = ()
    gripper_actuator: str = ""
    # ctrl values of the gripper actuator for a fully open and a fully closed hand.
    gripper_ctrl_open: float = 0.0
    gripper_ctrl_closed: float = 0.0
    # qpos of each gripper joint when open (written by reset).
    gripper_home_qpos: tuple[float, ...] = ()
    # Mobile base: slide x, slide y, hinge yaw in the attachment frame, velocity actuators on each.
    base_joints: tuple[str, ...] = ()
    base_actuators: tuple[str, ...] = ()
    max_base_speed_mps: float = 0.5
    max_base_yaw_rate_radps: float = 1.0
    extra: dict = field(default_factory=dict)

    @property
    def has_arm(self) -> bool:
        return bool(self.arm_joints)

    @property
    def has_base(self) -> bool:
        return bool(self.base_joints)

    def home_arm(self) -> np.ndarray:
        return np.asarray(self.arm_home_qpos, dtype=np.float64)
