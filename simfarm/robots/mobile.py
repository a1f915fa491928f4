"""A holonomic mobile base built from primitives.

The base moves through three joints relative to the frame it is attached to (slide x, slide y,
hinge yaw), driven by velocity actuators. Planar joints cannot tip or bounce, and the chassis
rides a few millimetres above the floor, so the base never jitters on floor contacts; wheels and
casters are visual only. A box bumper at the front (+x) pushes objects and trolleys.
"""

from __future__ import annotations

import mujoco

from simfarm.robots.panda import ROBOT_CONAFFINITY, ROBOT_CONTYPE

CHASSIS_LENGTH_M = 0.50
CHASSIS_WIDTH_M = 0.44
CHASSIS_HEIGHT_M = 0.22
GROUND_CLEARANCE_M = 0.02
BUMPER_DEPTH_M = 0.04
BASE_MASS_KG = 45.0
BASE_JOINTS = ("base_x", "base_y", "base_yaw")
BASE_ACTUATORS = ("act_base_x", "act_base_y", "act_base_yaw")
# Velocity-tracking gains: a ~0.03 s time constant on the base's own mass, force limits like
# a small indoor platform's drive.
KV_LINEAR_NS_PER_M = 1500.0
KV_YAW_NMS_PER_RAD = 300.0
FORCE_LIMIT_N = 400.0
TORQUE_LIMIT_NM = 120.0

GREY = (0.3, 0.32, 0.35, 1.0)
DARK = (0.08, 0.08, 0.09, 1.0)
BUMPER = (0.85, 0.55, 0.1, 1.0)


def footprint_radius_m() -> float:
    """Radius of the circle around the base axis that holds the chassis and bumper."""
    half_len = CHASSIS_LENGTH_M / 2 + BUMPER_DEPTH_M
    return float((half_len**2 + (CHASSIS_WIDTH_M / 2) ** 2) ** 0.5)


def _geom(body: mujoco.MjsBody, name: str, visual_only: bool = False, **kw) -> mujoco.MjsGeom:
    geom = body.add_geom(name=name, **kw)
    if visual_only:
        geom.contype = 0
        geom.conaffinity = 0
        geom.group = 1
    else:
        geom.contype = ROBOT_CONTYPE
        geom.conaffinity = ROBOT_CONAFFINITY
    return geom


def add_mobile_base(
    spec: mujoco.MjSpec, base: mujoco.MjsBody, extra_yaw_inertia_kgm2: float = 0.0
) -> None:
    """Give `base` its planar joints, chassis, bumper, wheels and velocity actuators."""
    base.explicitinertial = True
    base.mass = BASE_MASS_KG
    base.ipos = [0, 0, GROUND_CLEARANCE_M + CHASSIS_HEIGHT_M / 2]
    izz = BASE_MASS_KG * (CHASSIS_LENGTH_M**2 + CHASSIS_WIDTH_M**2) / 12 + extra_yaw_inertia_kgm2
    base.inertia = [
        BASE_MASS_KG * (CHASSIS_WIDTH_M**2 + CHASSIS_HEIGHT_M**2) / 12,
        BASE_MASS_KG * (CHASSIS_LENGTH_M**2 + CHASSIS_HEIGHT_M**2) / 12,
        izz,
    ]

    for name, jtype, axis in zip(
        BASE_JOINTS,
        (mujoco.mjtJoint.mjJNT_SLIDE, mujoco.mjtJoint.mjJNT_SLIDE, mujoco.mjtJoint.mjJNT_HINGE),
        ([1, 0, 0], [0, 1, 0], [0, 0, 1]),
        strict=True,
    ):
        # A little damping keeps a base at rest when no actuator pushes (e.g. after a reset).
        base.add_joint(name=name, type=jtype, axis=axis, damping=5.0, armature=1.0)

    z_mid = GROUND_CLEARANCE_M + CHASSIS_HEIGHT_M / 2
    _geom(
        base,
        "chassis",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[CHASSIS_LENGTH_M / 2, CHASSIS_WIDTH_M / 2, CHASSIS_HEIGHT_M / 2],
        pos=[0, 0, z_mid],
        rgba=GREY,
    )
    bumper = _geom(
        base,
        "bumper",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[BUMPER_DEPTH_M / 2, CHASSIS_WIDTH_M / 2 + 0.01, 0.05],
        pos=[CHASSIS_LENGTH_M / 2 + BUMPER_DEPTH_M / 2, 0, GROUND_CLEARANCE_M + 0.07],
        rgba=BUMPER,
    )
    # Low friction: the bumper pushes objects rather than dragging them sideways.
    bumper.friction = [0.3, 0.005, 0.0001]
    wheel_r = 0.06
    for k, (x, y) in enumerate(((0.16, 0.2), (0.16, -0.2), (-0.16, 0.2), (-0.16, -0.2))):
        _geom(
            base,
            f"wheel_{k}",
            visual_only=True,
            type=mujoco.mjtGeom.mjGEOM_CYLINDER,
            size=[wheel_r, 0.02, 0],
            pos=[x, y, wheel_r],
            quat=[0.7071068, 0.7071068, 0, 0],
            rgba=DARK,
        )

    for joint, act_name, kv, limit in zip(
        BASE_JOINTS,
        BASE_ACTUATORS,
        (KV_LINEAR_NS_PER_M, KV_LINEAR_NS_PER_M, KV_YAW_NMS_PER_RAD),
        (FORCE_LIMIT_N, FORCE_LIMIT_N, TORQUE_LIMIT_NM),
        strict=True,
    ):
        act = spec.add_actuator(name=act_name, target=joint, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_velocity(kv=kv)
        act.ctrlrange = [-2.0, 2.0]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-limit, limit]
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
