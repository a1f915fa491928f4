"""Furniture geometry from primitives: support surfaces (for the sampler) and MjSpec bodies (for the builder).

Local frame: origin on the floor at the footprint's centre, +x the front, size = (depth, width, height).
Both functions read only the Furniture's kind, size and params, so the surfaces the sampler puts
objects on are exactly the tops the builder makes.
"""

from __future__ import annotations

import math
from typing import Any

import mujoco
import numpy as np

from simfarm.errors import SceneError
from simfarm.scene.spec import Furniture, Surface

PANEL_M = 0.02  # carcass panel thickness
GAP_M = 0.004  # clearance between moving parts and the carcass, so nothing touches at rest
DRAWER_HEIGHT_M = 0.15
TABLE_TOP_M = 0.04
OPEN_CLEARANCE_M = 10.0  # "nothing above" for open tops


def furniture_params(kind: str, size: tuple[float, float, float], rng: np.random.Generator, extra: dict[str, Any]) -> dict[str, Any]:
    """Sample the kind-specific structure (shelf count, drawers, door) into JSON-able params."""
    depth, width, height = size
    params: dict[str, Any] = {}
    if kind == "shelf":
        lo, hi = extra.get("shelves", (3, 4))
        params["shelves"] = int(rng.integers(lo, hi + 1))
    elif kind == "cabinet":
        lo, hi = extra.get("drawers", (1, 2))
        n = int(rng.integers(lo, hi + 1))
        # Keep a door compartment of at least 0.3 m under the drawers.
        n = max(0, min(n, int((height - 0.08 - PANEL_M - 0.3) // DRAWER_HEIGHT_M)))
        params["drawers"] = n
        params["door"] = bool(extra.get("door", True))
        params["travel_m"] = round(0.75 * (depth - 2 * PANEL_M), 4)
    elif kind == "trolley":
        params["caster_radius_m"] = 0.04
    return params


def furniture_surfaces(kind: str, size: tuple[float, float, float], params: dict[str, Any]) -> tuple[Surface, ...]:
    """Support surfaces in the local frame (empty for chairs and sofas)."""
    d, w, h = size
    if kind in ("table", "counter", "workbench", "cabinet"):
        return (Surface((0.0, 0.0, h), (d / 2 - 0.02, w / 2 - 0.02), OPEN_CLEARANCE_M),)
    if kind == "trolley":
        return (Surface((0.0, 0.0, _trolley_tray_z(h)), (d / 2 - 0.03, w / 2 - 0.03), OPEN_CLEARANCE_M),)
    if kind == "shelf":
        tops = _shelf_board_tops(h, int(params["shelves"]))
        out = []
        for k, z in enumerate(tops):
            clearance = (tops[k + 1] - PANEL_M - z) if k + 1 < len(tops) else OPEN_CLEARANCE_M
            # Boards sit between the side panels and in front of the back panel.
            out.append(Surface((PANEL_M / 2, 0.0, z), (d / 2 - PANEL_M - 0.01, w / 2 - PANEL_M - 0.02), clearance))
        return tuple(out)
    if kind in ("chair", "sofa"):
        return ()
    raise SceneError(f"unknown furniture kind {kind!r}")


def drawer_slots(f: Furniture) -> list[tuple[float, float]]:
    """(z_bottom, z_top) of each drawer opening, top drawer first."""
    d, w, h = f.size
    top = h - PANEL_M
    return [(top - (k + 1) * DRAWER_HEIGHT_M, top - k * DRAWER_HEIGHT_M) for k in range(int(f.params.get("drawers", 0)))]


def handle_local_positions(f: Furniture) -> dict[str, tuple[float, float, float]]:
    """Handle sites (closed state) in the furniture's local frame: 'drawer_<k>', 'door', 'handle'."""
    d, w, h = f.size
    out = {}
    for k, (z0, z1) in enumerate(drawer_slots(f)):
        out[f"drawer_{k}"] = (d / 2 + 0.02 + 0.038, 0.0, (z0 + z1) / 2)
    if f.params.get("door"):
        z0, z1 = _door_span(f)
        out["door"] = (d / 2 + 0.02 + 0.038, -w / 2 + 0.07, (z0 + z1) / 2)
    if f.kind == "trolley":
        out["handle"] = (d / 2 + 0.06, 0.0, h)
    return out


def add_furniture(parent: mujoco.MjsBody, f: Furniture, material: dict[str, str]) -> mujoco.MjsBody:
    """Add the furniture's body (and its drawers, door, casters) under `parent`; returns the body.

    `material` maps the furniture's part roles (top, body, front, handle, seat) to material names.
    """
    yaw = f.yaw_rad
    body = parent.add_body(name=f"furn/{f.name}", pos=list(f.pos), quat=_yaw_quat(yaw))
    d, w, h = f.size
    prefix = f"furn/{f.name}"
    mat = _MaterialPicker(material)
    if f.kind == "trolley":
        _add_trolley(body, prefix, f, mat)
    else:
        builder = {
            "table": _add_table,
            "counter": _add_counter,
            "workbench": _add_workbench,
            "shelf": _add_shelf,
            "cabinet": _add_cabinet,
            "chair": _add_chair,
            "sofa": _add_sofa,
        }[f.kind]
        builder(body, prefix, f, mat)
    for k, s in enumerate(f.surfaces):
        body.add_site(
            name=f"{prefix}/surface_{k}", type=mujoco.mjtGeom.mjGEOM_BOX, pos=list(s.center),
            size=[s.half_extents[0], s.half_extents[1], 0.001], rgba=[0, 0, 0, 0], group=5,
        )
    return body


class _MaterialPicker:
    def __init__(self, material: dict[str, str]):
        self.material = material

    def __call__(self, role: str) -> str:
        return self.material.get(role) or self.material.get("body") or next(iter(self.material.values()))


def _box(body, name, pos, half, material, **kw):
    return body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=list(pos), size=list(half), material=material, **kw)


def _legs(body, prefix, d, w, z_top, leg_half, mat, inset=0.04):
    for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        _box(body, f"{prefix}/leg_{i}", (sx * (d / 2 - inset), sy * (w / 2 - inset), z_top / 2),
             (leg_half, leg_half, z_top / 2), mat)


def _add_table(body, prefix, f, mat):
    d, w, h = f.size
    _box(body, f"{prefix}/top", (0, 0, h - TABLE_TOP_M / 2), (d / 2, w / 2, TABLE_TOP_M / 2), mat("top"))
    _legs(body, prefix, d, w, h - TABLE_TOP_M, 0.025, mat("body"))


def _add_workbench(body, prefix, f, mat):
    d, w, h = f.size
    top = 0.05
    _box(body, f"{prefix}/top", (0, 0, h - top / 2), (d / 2, w / 2, top / 2), mat("top"))
    _legs(body, prefix, d, w, h - top, 0.03, mat("body"))
    _box(body, f"{prefix}/lower_shelf", (0, 0, 0.18), (d / 2 - 0.06, w / 2 - 0.06, 0.01), mat("top"))


def _add_counter(body, prefix, f, mat):
    d, w, h = f.size
    top = 0.04
    _box(body, f"{prefix}/base", (-0.01, 0, (h - top) / 2), (d / 2 - 0.01, w / 2, (h - top) / 2), mat("body"))
    _box(body, f"{prefix}/top", (0, 0, h - top / 2), (d / 2, w / 2, top / 2), mat("top"))


def _shelf_board_tops(h: float, n: int) -> list[float]:
    # Board k's top face; the last one is the shelf's top panel.
    base = 0.06
    step = (h - base) / n
    return [base + k * step for k in range(n)] + [h]


def _add_shelf(body, prefix, f, mat):
    d, w, h = f.size
    n = int(f.params["shelves"])
    _box(body, f"{prefix}/side_0", (0, w / 2 - PANEL_M / 2, h / 2), (d / 2, PANEL_M / 2, h / 2), mat("body"))
    _box(body, f"{prefix}/side_1", (0, -w / 2 + PANEL_M / 2, h / 2), (d / 2, PANEL_M / 2, h / 2), mat("body"))
    _box(body, f"{prefix}/back", (-d / 2 + PANEL_M / 2, 0, h / 2), (PANEL_M / 2, w / 2 - PANEL_M, h / 2), mat("body"))
    for k, z in enumerate(_shelf_board_tops(h, n)):
        _box(body, f"{prefix}/board_{k}", (PANEL_M / 2, 0, z - PANEL_M / 2),
             (d / 2 - PANEL_M / 2, w / 2 - PANEL_M, PANEL_M / 2), mat("body"))


def _door_span(f: Furniture) -> tuple[float, float]:
    slots = drawer_slots(f)
    top = (slots[-1][0] if slots else f.size[2] - PANEL_M) - PANEL_M
    return 0.08, top


def _add_cabinet(body, prefix, f, mat):
    d, w, h = f.size
    p = PANEL_M
    _box(body, f"{prefix}/plinth", (0, 0, 0.04), (d / 2 - 0.03, w / 2 - 0.02, 0.04), mat("body"))
    _box(body, f"{prefix}/bottom", (0, 0, 0.08 + p / 2), (d / 2, w / 2 - p, p / 2), mat("body"))
    _box(body, f"{prefix}/top", (0, 0, h - p / 2), (d / 2, w / 2, p / 2), mat("top"))
    _box(body, f"{prefix}/side_0", (0, w / 2 - p / 2, (h - p + 0.08) / 2), (d / 2, p / 2, (h - p - 0.08) / 2), mat("body"))
    _box(body, f"{prefix}/side_1", (0, -w / 2 + p / 2, (h - p + 0.08) / 2), (d / 2, p / 2, (h - p - 0.08) / 2), mat("body"))
    _box(body, f"{prefix}/back", (-d / 2 + p / 2, 0, (h - p + 0.08) / 2), (p / 2, w / 2 - p, (h - p - 0.08) / 2), mat("body"))
    travel = float(f.params["travel_m"])
    inner_w = w / 2 - p - GAP_M  # half width inside the carcass
    inner_d = d - p - GAP_M  # from the back panel to the front plane
    slots = drawer_slots(f)
    for k, (z0, z1) in enumerate(slots):
        # Dividers under each drawer keep the compartments apart (and make the door compartment's top).
        _box(body, f"{prefix}/divider_{k}", (0, 0, z0 - p / 2), (d / 2 - p, w / 2 - p, p / 2), mat("body"))
        name = f"{prefix}/drawer_{k}"
        drawer = body.add_body(name=name, pos=[0, 0, 0])
        drawer.add_joint(
            name=f"{name}/slide", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[1, 0, 0], range=[0, travel],
            limited=mujoco.mjtLimited.mjLIMITED_TRUE, damping=4.0, armature=0.05, frictionloss=0.2,
        )
        box_h = (z1 - z0) - 2 * GAP_M - 0.03
        zb = z0 + GAP_M
        x_back, x_front = d / 2 - inner_d + GAP_M, d / 2
        xc, half_d = (x_back + x_front) / 2, (x_front - x_back) / 2
        wall = 0.01
        kw = {"mass": 0.3}
        _box(drawer, f"{name}/bottom", (xc, 0, zb + wall / 2), (half_d, inner_w, wall / 2), mat("body"), **kw)
        _box(drawer, f"{name}/left", (xc, inner_w - wall / 2, zb + box_h / 2), (half_d, wall / 2, box_h / 2), mat("body"), **kw)
        _box(drawer, f"{name}/right", (xc, -inner_w + wall / 2, zb + box_h / 2), (half_d, wall / 2, box_h / 2), mat("body"), **kw)
        _box(drawer, f"{name}/rear", (x_back + wall / 2, 0, zb + box_h / 2), (wall / 2, inner_w - wall, box_h / 2), mat("body"), **kw)
        _box(drawer, f"{name}/front", (d / 2 + 0.01, 0, (z0 + z1) / 2), (0.01, w / 2 - GAP_M, (z1 - z0) / 2 - GAP_M), mat("front"), **kw)
        _add_handle(drawer, name, (d / 2 + 0.02, 0.0, (z0 + z1) / 2), horizontal=True, material=mat("handle"))
    if f.params.get("door"):
        z0, z1 = _door_span(f)
        name = f"{prefix}/door"
        # Hinge on the +y edge: opening (positive angle) swings the free edge out to +x.
        door = body.add_body(name=name, pos=[d / 2 + 0.01, w / 2 - GAP_M, 0])
        door.add_joint(
            name=f"{name}/hinge", type=mujoco.mjtJoint.mjJNT_HINGE, axis=[0, 0, 1], range=[0, 1.7],
            limited=mujoco.mjtLimited.mjLIMITED_TRUE, damping=1.0, armature=0.05, frictionloss=0.1,
        )
        panel_w = w / 2 - GAP_M
        _box(door, f"{name}/panel", (0, -panel_w, (z0 + z1) / 2), (0.01, panel_w, (z1 - z0) / 2 - GAP_M), mat("front"), mass=1.0)
        hx, hy, hz = handle_local_positions(f)["door"]
        _add_handle(door, name, (0.01, hy - (w / 2 - GAP_M), hz), horizontal=False, material=mat("handle"))


def _add_handle(body, name, front_center, horizontal: bool, material: str):
    """A bar handle standing 3 cm proud of a front panel, with its `handle` site at the bar's centre."""
    x, y, z = front_center
    span = 0.05
    for i, s in enumerate((-1, 1)):
        off = (0, s * span, 0) if horizontal else (0, 0, s * span)
        _box(body, f"{name}/handle_post_{i}", (x + 0.015, y + off[1], z + off[2]), (0.015, 0.006, 0.006), material, mass=0.02)
    bar_half = (0.008, span + 0.012, 0.008) if horizontal else (0.008, 0.008, span + 0.012)
    _box(body, f"{name}/handle", (x + 0.038, y, z), bar_half, material, mass=0.05)
    body.add_site(name=f"{name}/handle", pos=[x + 0.038, y, z], size=[0.01, 0.01, 0.01], rgba=[0, 0, 0, 0], group=5)


def _add_chair(body, prefix, f, mat):
    d, w, h = f.size
    seat_z = 0.45
    _box(body, f"{prefix}/seat", (0, 0, seat_z - 0.02), (d / 2, w / 2, 0.02), mat("seat"))
    _legs(body, prefix, d, w, seat_z - 0.04, 0.018, mat("body"), inset=0.03)
    _box(body, f"{prefix}/backrest", (-d / 2 + 0.015, 0, (seat_z + h) / 2), (0.015, w / 2, (h - seat_z) / 2), mat("body"))


def _add_sofa(body, prefix, f, mat):
    d, w, h = f.size
    seat_h = 0.42
    arm_w = 0.15
    _box(body, f"{prefix}/base", (0.05, 0, seat_h / 2), (d / 2 - 0.05, w / 2 - arm_w, seat_h / 2), mat("body"))
    _box(body, f"{prefix}/back", (-d / 2 + 0.1, 0, h / 2), (0.1, w / 2 - arm_w, h / 2), mat("body"))
    for i, s in enumerate((1, -1)):
        _box(body, f"{prefix}/arm_{i}", (0, s * (w / 2 - arm_w / 2), 0.3), (d / 2, arm_w / 2, 0.3), mat("body"))


def _trolley_tray_z(h: float) -> float:
    return h - 0.2


def _add_trolley(body, prefix, f, mat):
    """A free body on four low-friction caster spheres, with a push handle along its front edge."""
    d, w, h = f.size
    r = float(f.params.get("caster_radius_m", 0.04))
    body.add_freejoint(name=f"{prefix}/free")
    tray_z = _trolley_tray_z(h)
    # priority 1: a contact takes the higher-priority geom's friction, not the max of both (the floor's 1.0).
    low_friction = {"friction": [0.002, 0.0005, 0.00001], "condim": 3, "priority": 1}
    for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        body.add_geom(name=f"{prefix}/caster_{i}", type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[r, 0, 0],
                      pos=[sx * (d / 2 - r), sy * (w / 2 - r), r], material=mat("handle"), mass=0.2, **low_friction)
        _box(body, f"{prefix}/post_{i}", (sx * (d / 2 - r), sy * (w / 2 - r), (2 * r + tray_z) / 2 + 0.001),
             (0.012, 0.012, (tray_z - 2 * r) / 2 - 0.001), mat("body"), mass=0.4)
    _box(body, f"{prefix}/lower_tray", (0, 0, 2 * r + 0.12), (d / 2, w / 2, 0.01), mat("top"), mass=1.5)
    _box(body, f"{prefix}/tray", (0, 0, tray_z - 0.01), (d / 2, w / 2, 0.01), mat("top"), mass=2.0)
    for i, s in enumerate((1, -1)):
        _box(body, f"{prefix}/upright_{i}", (d / 2 + 0.03, s * (w / 2 - 0.05), (tray_z + h) / 2),
             (0.012, 0.012, (h - tray_z) / 2), mat("body"), mass=0.3)
    body.add_geom(name=f"{prefix}/handle", type=mujoco.mjtGeom.mjGEOM_CAPSULE, size=[0.015, w / 2 - 0.05, 0],
                  pos=[d / 2 + 0.06, 0, h], quat=[math.sqrt(0.5), math.sqrt(0.5), 0, 0], material=mat("handle"), mass=0.3)
    body.add_geom(name=f"{prefix}/handle_arm", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.015, w / 2 - 0.05, 0.008],
                  pos=[d / 2 + 0.045, 0, h - 0.02], material=mat("body"), mass=0.1, contype=0, conaffinity=0, group=1)
    body.add_site(name=f"{prefix}/handle", pos=[d / 2 + 0.06, 0, h], size=[0.01, 0.01, 0.01], rgba=[0, 0, 0, 0], group=5)


def _yaw_quat(yaw: float) -> list[float]:
    return [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
