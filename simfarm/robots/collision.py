"""Self-collision for the library's robots: links collide with each other, except where they touch by design.

Robot geoms (contype 2) always collided with the world; with conaffinity 2|1 they also collide
with each other. MuJoCo already skips a body and its parent; what is left are pairs whose simple
shapes overlap by construction (a capsule link reaching into the next housing, the pedestal under
the base link, a finger against the wrist): those pairs are found once, on the robot alone at its
home pose with a small margin, and excluded. Every other pair of links (the forearm against the
base, the hand against the shoulder) now collides, as on the real robot.
"""

from __future__ import annotations

import mujoco
import numpy as np

from simfarm.robots.gripper import ROBOT_CONAFFINITY, ROBOT_CONTYPE

# Pairs nearer than this at the home pose are taken as touching by design.
DESIGN_CONTACT_MARGIN_M = 0.003


# Excluded pairs per robot and parameters: finding them compiles the robot once more (~3 ms), and
# a job builds the same robot for every scene.
_PAIRS: dict[tuple, list[tuple[str, str]]] = {}


def enable_self_collision(spec: mujoco.MjSpec, layout, key: tuple | None = None) -> list[tuple[str, str]]:
    """Turn on robot-robot contacts in `spec` (a standalone robot); returns the excluded body pairs.

    `key` (the robot's name and parameters) caches the pairs: the same key must mean the same spec.
    """
    for geom in spec.geoms:
        if geom.contype == ROBOT_CONTYPE:
            geom.conaffinity = ROBOT_CONAFFINITY | ROBOT_CONTYPE
    pairs = _PAIRS.get(key) if key is not None else None
    if pairs is None:
        pairs = touching_pairs(spec, layout)
        if key is not None:
            _PAIRS[key] = pairs
    for a, b in pairs:
        spec.add_exclude(bodyname1=a, bodyname2=b)
    return pairs


def touching_pairs(spec: mujoco.MjSpec, layout) -> list[tuple[str, str]]:
    """Robot body pairs whose geoms touch (within the margin) at the home pose."""
    model = spec.copy().compile()
    data = mujoco.MjData(model)
    for name, q in zip(layout.arm_joints, layout.arm_home_qpos, strict=True):
        data.qpos[model.joint(name).qposadr[0]] = q
    for name, q in zip(layout.gripper_joints, layout.gripper_home_qpos, strict=True):
        data.qpos[model.joint(name).qposadr[0]] = q
    model.geom_margin[:] = DESIGN_CONTACT_MARGIN_M
    mujoco.mj_forward(model, data)
    robot = model.geom_contype == ROBOT_CONTYPE
    pairs: set[tuple[str, str]] = set()
    for c in data.contact[: data.ncon]:
        if robot[c.geom1] and robot[c.geom2]:
            b1, b2 = model.geom_bodyid[c.geom1], model.geom_bodyid[c.geom2]
            if b1 != b2:
                pairs.add(tuple(sorted((model.body(b1).name, model.body(b2).name))))
    return sorted(pairs)


def self_contacts(model: mujoco.MjModel, data: mujoco.MjData, prefix: str = "") -> list[tuple[str, str, float]]:
    """Contacts between two robot bodies now (names without `prefix`, penetration depth in m)."""
    out = []
    robot = np.asarray(model.geom_contype) == ROBOT_CONTYPE
    for c in data.contact[: data.ncon]:
        if robot[c.geom1] and robot[c.geom2] and c.dist < 0:
            names = [model.body(model.geom_bodyid[g]).name.removeprefix(prefix) for g in (c.geom1, c.geom2)]
            out.append((*names, float(-c.dist)))
    return out
