"""Serial arms from their published kinematic chains: one table per robot, one builder for all.

A robot module (simfarm/robots/models/) gives its chain as the official description does, body by
body: the joint frame's position and orientation in its parent (`pos_m`, `quat`, exactly the
numbers of the manufacturer's URDF or MuJoCo Menagerie's MJCF, which are cited there), the joint
axis, its limits and torque, and its link's inertial. `add_serial_arm` turns the table into bodies
with capsule links (from each joint to the next), a flange, a parallel gripper with simfarm's TCP
convention (z approach, y finger motion), a wrist camera where the robot has one, and position
servos with gravity compensation (the real arms' controllers compensate gravity too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import mujoco
import numpy as np

from simfarm.robots.builtin import (
    ARM_MOUNT_BODY,
    DEFAULT_MOUNT_HEIGHT_M,
    Robot,
    add_pedestal,
    check_mount_height,
    new_spec,
)
from simfarm.robots.collision import enable_self_collision
from simfarm.robots.geometry import look_at_quat  # noqa: F401  (re-exported for robot modules)
from simfarm.robots.gripper import (
    DARK,
    GRIPPER_ACTUATOR,
    GRIPPER_JOINTS,
    WHITE,
    ParallelGripper,
    add_gripper_actuator,
    add_parallel_gripper,
    robot_geom,
)


@dataclass(frozen=True)
class Joint:
    """One revolute joint and the link it moves, in the official description's frames."""

    name: str
    pos_m: tuple[float, float, float]  # joint frame origin in the parent body's frame
    quat: tuple[float, float, float, float]  # parent_R_joint (w, x, y, z; normalized here)
    range_rad: tuple[float, float]
    torque_nm: float
    kp: float  # position gain (N m / rad) of the servo; kv its damping (N m s / rad)
    kv: float
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0)
    mass_kg: float = 1.0
    com_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    inertia: tuple[float, ...] = (1e-3, 1e-3, 1e-3)  # principal (3) or full (ixx iyy izz ixy ixz iyz) at the COM
    radius_m: float = 0.04  # link geometry: capsule radius


@dataclass(frozen=True)
class WristCamera:
    """A camera on the hand: position and a point it looks at, in the hand frame."""

    eye_m: tuple[float, float, float]
    target_m: tuple[float, float, float]
    up: tuple[float, float, float] = (1.0, 0.0, 0.0)
    fovy_deg: float = 58.0
    quat: tuple[float, float, float, float] | None = None  # hand_R_camera given directly (then target/up unused)


@dataclass(frozen=True)
class SerialArm:
    """A whole arm: its chain from the base link to the flange, hand, home pose and servo settings."""

    joints: tuple[Joint, ...]
    flange_pos_m: tuple[float, float, float]  # hand frame in the last link: z out of the flange,
    flange_quat: tuple[float, float, float, float]  # y along the fingers' motion
    gripper: ParallelGripper
    home_qpos: tuple[float, ...]
    reach_m: float
    base_quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)  # mount_R_base: the robot faces +x
    min_reach_m: float = 0.25  # nearer than this (horizontally) the arm cannot work top-down
    footprint_radius_m: float = 0.15  # floor (or table) kept free around the base
    base_radius_m: float = 0.07
    base_height_m: float = 0.08
    wrist_camera: WristCamera | None = None
    armature_kgm2: float = 0.1
    damping_nms: float = 1.0
    colors: tuple[tuple[float, float, float, float], ...] = (WHITE, DARK)

    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def actuator_names(self) -> tuple[str, ...]:
        return tuple(f"act_{j.name}" for j in self.joints)


def _unit(q) -> list[float]:
    q = np.asarray(q, dtype=float)
    return list(q / np.linalg.norm(q))


def add_serial_arm(spec: mujoco.MjSpec, mount: mujoco.MjsBody, arm: SerialArm, wrist_fovy_deg: float | None = None) -> None:
    """The arm's bodies, joints, links, hand, gripper, TCP site, wrist camera and servos under `mount`."""
    base = mount.add_body(name="link0", quat=_unit(arm.base_quat))
    base.gravcomp = 1.0
    robot_geom(base, "link0", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[arm.base_radius_m, arm.base_height_m / 2, 0],
               pos=[0, 0, arm.base_height_m / 2], rgba=arm.colors[1])
    first = np.asarray(arm.joints[0].pos_m, dtype=float)
    if np.linalg.norm(first) > arm.base_height_m:
        # The column from the base link up to the first joint (the xArm's 0.267 m shoulder).
        robot_geom(base, "link0_column", type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0, *first],
                   size=[arm.joints[0].radius_m * 0.9, 0, 0], rgba=arm.colors[0])
    parent = base
    for i, j in enumerate(arm.joints):
        body = parent.add_body(name=f"link{i + 1}", pos=list(j.pos_m), quat=_unit(j.quat))
        body.gravcomp = 1.0
        body.explicitinertial = True
        body.mass = j.mass_kg
        body.ipos = list(j.com_m)
        if len(j.inertia) == 6:
            body.fullinertia = list(j.inertia)
        else:
            body.inertia = list(j.inertia)
        body.add_joint(name=j.name, type=mujoco.mjtJoint.mjJNT_HINGE, axis=list(j.axis), range=list(j.range_rad),
                       limited=mujoco.mjtLimited.mjLIMITED_TRUE, armature=arm.armature_kgm2, damping=arm.damping_nms)
        axis = np.asarray(j.axis, dtype=float)
        # The joint's housing: a short cylinder along its axis.
        robot_geom(body, f"link{i + 1}_housing", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[j.radius_m, j.radius_m, 0],
                   fromto=[*(-axis * j.radius_m), *(axis * j.radius_m)], rgba=arm.colors[i % 2])
        end = np.asarray(arm.joints[i + 1].pos_m if i + 1 < len(arm.joints) else arm.flange_pos_m, dtype=float)
        if np.linalg.norm(end) > 1e-4:
            robot_geom(body, f"link{i + 1}_segment", type=mujoco.mjtGeom.mjGEOM_CAPSULE, fromto=[0, 0, 0, *end],
                       size=[j.radius_m * 0.85, 0, 0], rgba=arm.colors[0])
        parent = body

    g = arm.gripper
    hand = parent.add_body(name="hand", pos=list(arm.flange_pos_m), quat=_unit(arm.flange_quat))
    hand.gravcomp = 1.0
    hand.explicitinertial = True
    hand.mass = g.palm_mass_kg
    hand.ipos = [0, 0, g.palm_half_size_m[2]]
    hand.inertia = [1e-3, 1e-3, 1e-3]
    robot_geom(hand, "hand_mount", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[0.035, 0.006, 0], pos=[0, 0, 0.006],
               rgba=arm.colors[1])
    robot_geom(hand, "hand_body", type=mujoco.mjtGeom.mjGEOM_BOX, size=list(g.palm_half_size_m),
               pos=[0, 0, 0.012 + g.palm_half_size_m[2]], rgba=g.color)
    hand.add_site(name="grip_site", pos=[0, 0, g.tcp_m], size=[0.006, 0, 0], rgba=[1, 0.2, 0.2, 0.6], group=4)
    hand.add_site(name="hand_site", pos=[0, 0, 0], size=[0.005, 0, 0], group=4)
    cam = arm.wrist_camera
    if cam is not None:
        quat = _unit(cam.quat) if cam.quat is not None else look_at_quat(cam.eye_m, cam.target_m, cam.up)
        hand.add_camera(name="wrist_cam", pos=list(cam.eye_m), quat=quat, fovy=float(wrist_fovy_deg or cam.fovy_deg))
    add_parallel_gripper(spec, hand, g)

    for j, act_name in zip(arm.joints, arm.actuator_names, strict=True):
        act = spec.add_actuator(name=act_name, target=j.name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        # kv in the actuator: the torque limit bounds the net P-D torque, as on the real controller.
        act.set_to_position(kp=j.kp, kv=j.kv)
        act.ctrlrange = list(j.range_rad)
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-j.torque_nm, j.torque_nm]
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
    add_gripper_actuator(spec, g)


def serial_layout(arm: SerialArm, base_joints=(), base_actuators=()):
    """The RobotLayout of an arm built by `add_serial_arm`."""
    from simfarm.robots.layout import RobotLayout

    travel = arm.gripper.finger_travel_m
    return RobotLayout(
        root_body="base",
        arm_joints=arm.joint_names,
        arm_actuators=arm.actuator_names,
        arm_home_qpos=tuple(float(v) for v in arm.home_qpos),
        arm_mount_body=ARM_MOUNT_BODY,
        tcp_site="grip_site",
        wrist_camera="wrist_cam" if arm.wrist_camera is not None else "",
        gripper_joints=GRIPPER_JOINTS,
        gripper_actuator=GRIPPER_ACTUATOR,
        gripper_ctrl_open=travel,
        gripper_ctrl_closed=0.0,
        gripper_home_qpos=(travel, travel),
        base_joints=tuple(base_joints),
        base_actuators=tuple(base_actuators),
    )


class PedestalArmRobot(Robot):
    """An arm of the library on a fixed pedestal; a subclass sets ARM (its published chain) and registers."""

    ARM: ClassVar[SerialArm]
    registered_name: ClassVar[str]
    mount_below_surface_m: ClassVar[float] = 0.05  # 0: a table-top arm (on its table, no pedestal)

    def __init__(self, mount_height_m: float = DEFAULT_MOUNT_HEIGHT_M, wrist_camera_fovy_deg: float | None = None):
        mount_height_m = check_mount_height(mount_height_m)
        params = {"mount_height_m": mount_height_m}
        if self.ARM.wrist_camera is not None:
            fovy = self.ARM.wrist_camera.fovy_deg if wrist_camera_fovy_deg is None else float(wrist_camera_fovy_deg)
            params["wrist_camera_fovy_deg"] = fovy
        super().__init__(
            name=self.registered_name,
            layout=serial_layout(self.ARM),
            has_arm=True,
            has_base=False,
            footprint_radius_m=self.ARM.footprint_radius_m,
            reach_m=self.ARM.reach_m,
            mount_height_m=mount_height_m,
            params=params,
            mount_below_surface_m=self.mount_below_surface_m,
            min_reach_m=self.ARM.min_reach_m,
        )

    def build_spec(self) -> mujoco.MjSpec:
        spec = new_spec(f"simfarm_{self.name}")
        base = spec.worldbody.add_body(name="base")
        add_pedestal(base, self.mount_height_m)
        mount = base.add_body(name=ARM_MOUNT_BODY, pos=[0, 0, self.mount_height_m])
        add_serial_arm(spec, mount, self.ARM, self.params.get("wrist_camera_fovy_deg"))
        enable_self_collision(spec, self.layout, key=self.cache_key)
        return spec
