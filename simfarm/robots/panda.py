"""A 7-DoF arm with the Franka Emika Panda's kinematics, built from primitives with MjSpec.

Link frames follow Franka's published modified (Craig) Denavit-Hartenberg parameters, so the
forward kinematics equal the real robot's; geometry is capsules and boxes (cheap to collide and
render), masses and centres of mass are the published identified values.

Frames: the arm's base link sits at the origin of the body it is attached to (`arm_base`), z up,
facing +x. `grip_site` (the TCP) is 0.1034 m beyond the flange along the approach axis, like the
real hand's TCP; its z axis is the approach direction and its y axis the finger motion.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from simfarm.robots.geometry import look_at_quat as _look_at_quat
from simfarm.robots.gripper import (  # noqa: F401  (re-exported: robot modules and tests use them)
    DARK,
    GRIPPER_ACTUATOR,
    GRIPPER_JOINTS,
    GRIPPER_TENDON,
    PAD,
    ROBOT_CONAFFINITY,
    ROBOT_CONTYPE,
    WHITE,
    ParallelGripper,
    add_gripper_actuator,
    add_parallel_gripper,
)
from simfarm.robots.gripper import robot_geom as _robot_geom

# Franka's modified DH table, one entry per joint: a_{i-1}, d_i, alpha_{i-1}.
DH_A_M = (0.0, 0.0, 0.0, 0.0825, -0.0825, 0.0, 0.088)
DH_D_M = (0.333, 0.0, 0.316, 0.0, 0.384, 0.0, 0.0)
DH_ALPHA_RAD = (0.0, -math.pi / 2, math.pi / 2, math.pi / 2, -math.pi / 2, math.pi / 2, math.pi / 2)
FLANGE_D_M = 0.107
# The hand is mounted on the flange rotated by -45 deg about the flange's z axis.
HAND_YAW_RAD = -math.pi / 4
# TCP offset of the Franka Hand from the flange along the approach axis.
TCP_OFFSET_M = 0.1034
FINGER_BASE_M = 0.0584  # finger joints' origin beyond the flange (hand frame z)
FINGER_TRAVEL_M = 0.04  # each finger, 0 (closed) to 40 mm

JOINT_LIMITS_RAD = (
    (-2.8973, 2.8973),
    (-1.7628, 1.7628),
    (-2.8973, 2.8973),
    (-3.0718, -0.0698),
    (-2.8973, 2.8973),
    (-0.0175, 3.7525),
    (-2.8973, 2.8973),
)
TORQUE_LIMITS_NM = (87.0, 87.0, 87.0, 87.0, 12.0, 12.0, 12.0)
# Position gains: stiff enough to track within a few mrad with gravity compensated.
KP_NM_PER_RAD = (4500.0, 4500.0, 3500.0, 3500.0, 2000.0, 2000.0, 2000.0)
# Velocity gains near critical damping for the links' reflected inertia. They also stay below
# 2 * inertia / timestep at 2 ms, so the explicit Euler integrator is as stable as implicitfast.
KV_NMS_PER_RAD = (150.0, 150.0, 80.0, 80.0, 30.0, 30.0, 30.0)
JOINT_DAMPING_NMS_PER_RAD = 1.0
ARMATURE_KGM2 = 0.1
HOME_QPOS = (0.0, -math.pi / 4, 0.0, -3 * math.pi / 4, 0.0, math.pi / 2, math.pi / 4)
MAX_REACH_M = 0.855  # Franka datasheet

# Identified link inertials (mass kg, centre of mass in the link frame, full inertia
# Ixx Iyy Izz Ixy Ixz Iyz). Link 1's published Ixx/Iyy (0.70) are a known identification
# artefact (not physically consistent once the products of inertia are kept); we use the
# principal moments of a 5 kg, 0.2 m cylinder instead.
LINK_INERTIALS = (
    (4.970684, (0.003875, 0.002081, -0.04762), (0.0337, 0.0338, 0.0091, 0.0, 0.0, 0.0)),
    (
        0.646926,
        (-0.003141, -0.02872, 0.003495),
        (7.962e-3, 2.811e-2, 2.5995e-2, -3.925e-3, 1.0254e-2, 7.04e-4),
    ),
    (
        3.228604,
        (2.7518e-2, 3.9252e-2, -6.6502e-2),
        (3.7242e-2, 3.6155e-2, 1.083e-2, -4.761e-3, -1.1396e-2, -1.2805e-2),
    ),
    (
        3.587895,
        (-5.317e-2, 1.04419e-1, 2.7454e-2),
        (2.5853e-2, 1.9552e-2, 2.8323e-2, 7.796e-3, -1.332e-3, 8.641e-3),
    ),
    (
        1.225946,
        (-1.1953e-2, 4.1065e-2, -3.8437e-2),
        (3.5549e-2, 2.9474e-2, 8.627e-3, -2.117e-3, -4.037e-3, 2.29e-4),
    ),
    (
        1.666555,
        (6.0149e-2, -1.4117e-2, -1.0517e-2),
        (1.964e-3, 4.354e-3, 5.433e-3, 1.09e-4, -1.158e-3, 3.41e-4),
    ),
    (
        0.735522,
        (1.0517e-2, -4.252e-3, 6.1597e-2),
        (1.2516e-2, 1.0027e-2, 4.815e-3, -4.28e-4, -1.196e-3, -7.41e-4),
    ),
)
LINK0_INERTIAL = (
    0.629769,
    (-0.041018, -0.00014, 0.049974),
    (3.15e-3, 3.88e-3, 4.285e-3, 8.29e-7, 1.5e-4, 8.23e-6),
)
HAND_INERTIAL = (0.73, (-0.01, 0.0, 0.03), (1e-3, 2.5e-3, 1.7e-3, 0.0, 0.0, 0.0))
FINGER_MASS_KG = 0.03

# The Franka Hand: 2 x 40 mm finger travel, 70 N continuous grasp force (Franka datasheet).
FRANKA_HAND = ParallelGripper(finger_travel_m=FINGER_TRAVEL_M, finger_base_m=FINGER_BASE_M, tcp_m=TCP_OFFSET_M,
                              force_n=70.0, finger_mass_kg=FINGER_MASS_KG)

ARM_JOINTS = tuple(f"joint{i}" for i in range(1, 8))
ARM_ACTUATORS = tuple(f"act_joint{i}" for i in range(1, 8))


def quat_x(angle_rad: float) -> np.ndarray:
    """Unit quaternion (w, x, y, z) of a rotation about x."""
    return np.array([math.cos(angle_rad / 2), math.sin(angle_rad / 2), 0.0, 0.0])


def quat_z(angle_rad: float) -> np.ndarray:
    """Unit quaternion (w, x, y, z) of a rotation about z."""
    return np.array([math.cos(angle_rad / 2), 0.0, 0.0, math.sin(angle_rad / 2)])


def dh_child_offset(a_m: float, d_m: float, alpha_rad: float) -> np.ndarray:
    """Origin of frame i in frame i-1 for modified DH: RotX(alpha) TransX(a) TransZ(d)."""
    return np.array([a_m, -d_m * math.sin(alpha_rad), d_m * math.cos(alpha_rad)])


def dh_forward_kinematics(q: np.ndarray, tcp_offset_m: float = 0.0) -> np.ndarray:
    """4x4 base_T_flange (or base_T_tcp with an offset along the flange z) from Franka's DH table.

    Independent of MuJoCo on purpose: tests compare the built model against it.
    """

    def rot_x(t):
        c, s = math.cos(t), math.sin(t)
        return np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1.0]])

    def rot_z(t):
        c, s = math.cos(t), math.sin(t)
        return np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])

    def trans(x, y, z):
        t = np.eye(4)
        t[:3, 3] = (x, y, z)
        return t

    t = np.eye(4)
    for i in range(7):
        t = (
            t
            @ rot_x(DH_ALPHA_RAD[i])
            @ trans(DH_A_M[i], 0, 0)
            @ rot_z(float(q[i]))
            @ trans(0, 0, DH_D_M[i])
        )
    return t @ trans(0, 0, FLANGE_D_M + tcp_offset_m)


def _set_inertial(body: mujoco.MjsBody, inertial) -> None:
    mass, com, full = inertial
    body.explicitinertial = True
    body.mass = mass
    body.ipos = com
    body.fullinertia = full


def add_panda_arm(
    spec: mujoco.MjSpec, mount: mujoco.MjsBody, wrist_camera_fovy_deg: float = 75.0
) -> None:
    """Add link0..hand, fingers, TCP site, wrist camera, actuators and gripper coupling under `mount`."""
    link0 = mount.add_body(name="link0")
    _set_inertial(link0, LINK0_INERTIAL)
    link0.gravcomp = 1.0
    _robot_geom(
        link0,
        "link0",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        size=[0.075, 0.07, 0],
        pos=[-0.01, 0, 0.07],
        rgba=WHITE,
    )

    parent = link0
    for i in range(7):
        body = parent.add_body(
            name=f"link{i + 1}",
            pos=dh_child_offset(DH_A_M[i], DH_D_M[i], DH_ALPHA_RAD[i]),
            quat=quat_x(DH_ALPHA_RAD[i]),
        )
        body.gravcomp = 1.0
        _set_inertial(body, LINK_INERTIALS[i])
        lo, hi = JOINT_LIMITS_RAD[i]
        body.add_joint(
            name=ARM_JOINTS[i],
            type=mujoco.mjtJoint.mjJNT_HINGE,
            axis=[0, 0, 1],
            range=[lo, hi],
            limited=mujoco.mjtLimited.mjLIMITED_TRUE,
            armature=ARMATURE_KGM2,
            damping=JOINT_DAMPING_NMS_PER_RAD,
            frictionloss=0.0,
        )
        radius = 0.06 if i < 4 else 0.05
        # Joint housing along the joint axis.
        _robot_geom(
            body,
            f"link{i + 1}_housing",
            type=mujoco.mjtGeom.mjGEOM_CYLINDER,
            size=[radius, 0.06 if i < 4 else 0.05, 0],
            rgba=WHITE if i % 2 == 0 else DARK,
        )
        # Segment to the next joint's origin (or the flange).
        if i < 6:
            end = dh_child_offset(DH_A_M[i + 1], DH_D_M[i + 1], DH_ALPHA_RAD[i + 1])
        else:
            end = np.array([0.0, 0.0, FLANGE_D_M - 0.01])
        if np.linalg.norm(end) > 1e-6:
            _robot_geom(
                body,
                f"link{i + 1}_segment",
                type=mujoco.mjtGeom.mjGEOM_CAPSULE,
                fromto=[0, 0, 0, *end],
                size=[radius * 0.9, 0, 0],
                rgba=WHITE,
            )
        parent = body

    hand = parent.add_body(name="hand", pos=[0, 0, FLANGE_D_M], quat=quat_z(HAND_YAW_RAD))
    hand.gravcomp = 1.0
    _set_inertial(hand, HAND_INERTIAL)
    _robot_geom(
        hand,
        "hand_mount",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        size=[0.04, 0.01, 0],
        pos=[0, 0, 0.01],
        rgba=DARK,
    )
    _robot_geom(
        hand,
        "hand_body",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[0.025, 0.1, 0.022],
        pos=[0, 0, 0.034],
        rgba=WHITE,
    )
    hand.add_site(
        name="grip_site",
        pos=[0, 0, TCP_OFFSET_M],
        size=[0.006, 0, 0],
        rgba=[1, 0.2, 0.2, 0.6],
        group=4,
    )
    hand.add_site(name="hand_site", pos=[0, 0, 0], size=[0.005, 0, 0], group=4)
    # The camera sits on the hand's side (away from the fingers' travel) and looks along the
    # approach axis, tilted so the fingertips are in the lower part of the image.
    eye = np.array([0.075, 0.0, 0.03])
    hand.add_camera(
        name="wrist_cam",
        pos=eye,
        quat=_look_at_quat(eye, np.array([0.0, 0.0, 0.22]), up=np.array([1.0, 0.0, 0.0])),
        fovy=wrist_camera_fovy_deg,
    )

    add_parallel_gripper(spec, hand, FRANKA_HAND)

    for i in range(7):
        act = spec.add_actuator(
            name=ARM_ACTUATORS[i], target=ARM_JOINTS[i], trntype=mujoco.mjtTrn.mjTRN_JOINT
        )
        # kv lives in the actuator (not in joint damping) so the torque limit bounds the net
        # P-D torque, as on the real controller, instead of capping joint speed at limit / kv.
        act.set_to_position(kp=KP_NM_PER_RAD[i], kv=KV_NMS_PER_RAD[i])
        act.ctrlrange = JOINT_LIMITS_RAD[i]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-TORQUE_LIMITS_NM[i], TORQUE_LIMITS_NM[i]]
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
    add_gripper_actuator(spec, FRANKA_HAND)
