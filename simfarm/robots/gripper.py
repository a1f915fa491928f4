"""A parallel two-finger gripper from primitives, sized by each robot's published hand.

Every arm of the library carries one: two fingers on slide joints along the hand's y axis, coupled
by an equality so they move together, driven by one position actuator on their mean opening (a
tendon), with high-friction pads at the tips. The hand frame is the TCP convention of simfarm:
z is the approach direction, y the finger motion. Linkage grippers (Robotiq 2F-85, xArm Gripper)
move their pads parallel while pinching, so their pinch geometry (stroke, pad depth, force) is what
is modelled; their knuckles are not.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

GRIPPER_JOINTS = ("finger_left", "finger_right")
GRIPPER_ACTUATOR = "act_gripper"
GRIPPER_TENDON = "gripper_split"
# Robot geoms collide with the world and, since the robot library, with each other
# (simfarm.robots.collision excludes the pairs that touch by construction).
ROBOT_CONTYPE = 2
ROBOT_CONAFFINITY = 1

WHITE = (0.92, 0.92, 0.93, 1.0)
DARK = (0.22, 0.22, 0.24, 1.0)
PAD = (0.1, 0.1, 0.1, 1.0)


@dataclass(frozen=True)
class ParallelGripper:
    """The published numbers of a hand, in its own frame (z approach, y finger motion)."""

    finger_travel_m: float  # each finger, 0 (closed) to this (open): half the stroke
    finger_base_m: float  # finger joints' origin beyond the hand frame along z
    tcp_m: float  # the grasp point (between the pads' centres) beyond the hand frame along z:
    # finger_base_m + finger_length_m - 0.003 (a test holds every robot's hand to it)
    force_n: float  # continuous grasp force of the pads
    finger_length_m: float = 0.048
    finger_width_m: float = 0.02
    pad_length_m: float = 0.032
    palm_half_size_m: tuple[float, float, float] = (0.025, 0.1, 0.022)  # box at the hand's base
    palm_mass_kg: float = 0.73
    finger_mass_kg: float = 0.03
    color: tuple[float, float, float, float] = WHITE


def robot_geom(body: mujoco.MjsBody, name: str = "", **kw) -> mujoco.MjsGeom:
    geom = body.add_geom(name=name, **kw)
    geom.contype = ROBOT_CONTYPE
    geom.conaffinity = ROBOT_CONAFFINITY
    return geom


def add_parallel_gripper(spec: mujoco.MjSpec, hand: mujoco.MjsBody, g: ParallelGripper) -> None:
    """Fingers, pads, coupling and tendon under `hand` (the TCP site and the actuator are the caller's)."""
    for side, finger_name in zip((1, -1), GRIPPER_JOINTS, strict=True):
        finger = hand.add_body(
            name=f"{finger_name}_body",
            pos=[0, 0, g.finger_base_m],
            quat=[1, 0, 0, 0] if side > 0 else [0, 0, 0, 1],
        )
        finger.gravcomp = 1.0
        finger.explicitinertial = True
        finger.mass = g.finger_mass_kg
        finger.ipos = [0, 0.01, g.finger_length_m / 2 + 0.001]
        finger.inertia = [1e-5, 1e-5, 4e-6]
        finger.add_joint(
            name=finger_name,
            type=mujoco.mjtJoint.mjJNT_SLIDE,
            axis=[0, 1, 0],
            range=[0, g.finger_travel_m],
            limited=mujoco.mjtLimited.mjLIMITED_TRUE,
            armature=0.05,
            damping=10.0,
        )
        half_len = g.finger_length_m / 2
        robot_geom(
            finger,
            f"{finger_name}_link",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[g.finger_width_m / 2, 0.006, half_len],
            pos=[0, 0.011, half_len - 0.002],
            rgba=g.color,
        )
        pad = robot_geom(
            finger,
            f"{finger_name}_pad",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[g.finger_width_m / 2 - 0.0005, 0.0025, g.pad_length_m / 2],
            pos=[0, 0.0025, g.finger_length_m - 0.003],  # the pad's centre just short of the tip
            rgba=PAD,
        )
        # High friction and torsional friction so a pinched object neither slides nor spins.
        pad.friction = [1.5, 0.02, 0.0001]
        pad.condim = 4
        pad.priority = 1
        # A stiffer impedance (d up to 0.999) cuts MuJoCo's soft-contact creep of a pinched object
        # from ~2 mm/s to ~0.6 mm/s; priority makes these values win over the object's.
        pad.solref = [0.01, 1.0]
        pad.solimp = [0.99, 0.999, 0.001, 0.5, 2.0]

    spec.add_exclude(bodyname1="finger_left_body", bodyname2="finger_right_body")

    tendon = spec.add_tendon(name=GRIPPER_TENDON)
    tendon.wrap_joint(GRIPPER_JOINTS[0], 0.5)
    tendon.wrap_joint(GRIPPER_JOINTS[1], 0.5)
    spec.add_equality(
        name="gripper_coupling",
        type=mujoco.mjtEq.mjEQ_JOINT,
        name1=GRIPPER_JOINTS[0],
        name2=GRIPPER_JOINTS[1],
        data=np.array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], dtype=float),
        solref=[0.005, 1.0],
        solimp=[0.95, 0.99, 0.001, 0.5, 2.0],
    )


def add_gripper_actuator(spec: mujoco.MjSpec, g: ParallelGripper) -> None:
    """The gripper's position actuator (added after the arm's, so actuator order is arm then gripper)."""
    grip = spec.add_actuator(name=GRIPPER_ACTUATOR, target=GRIPPER_TENDON, trntype=mujoco.mjtTrn.mjTRN_TENDON)
    # Tendon length is the mean finger opening; each finger receives half the tendon force, so a
    # limit of 2 F gives a grasp force of F per pad.
    grip.set_to_position(kp=3000.0)
    grip.ctrlrange = [0.0, g.finger_travel_m]
    grip.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
    grip.forcerange = [-2 * g.force_n, 2 * g.force_n]
    grip.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
