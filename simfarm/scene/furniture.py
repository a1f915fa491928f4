"""Furniture geometry from primitives: support surfaces (for the sampler) and MjSpec bodies (for the builder).

Local frame: origin on the floor at the footprint's centre, +x the front, size = (depth, width, height).
Both functions read only the Furniture's kind, size and params, so the surfaces the sampler puts
objects on are exactly the tops the builder makes.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import mujoco
import numpy as np

from simfarm.errors import SceneError
from simfarm.scene.catalog import load_catalog
from simfarm.scene.spec import Furniture, Surface

PANEL_M = 0.02  # carcass panel thickness
GAP_M = 0.004  # clearance between moving parts and the carcass, so nothing touches at rest
DRAWER_HEIGHT_M = 0.15
TABLE_TOP_M = 0.04
OPEN_CLEARANCE_M = 10.0  # "nothing above" for open tops

# Push buttons (`params["buttons"]` of tables, counters, workbenches): a dark housing on the top and
# a coloured cap on a spring-loaded slide joint that pops back. The cap floats `travel + BUTTON_GAP_M`
# above the housing, so it never touches the housing (its joint limit stops it first); a stem that
# collides with nothing closes the gap for the camera.
BUTTON_HOUSING_M = 0.012  # housing height
BUTTON_RIM_M = 0.008  # housing wider than the cap by this, all round
BUTTON_CAP_M = 0.01  # cap height
BUTTON_GAP_M = 0.001  # cap bottom above the housing at full travel
# The cap's weight is compensated (gravcomp) and the spring rests at the top of travel, so the cap
# sits exactly at q = 0 with no force on its stop; a press needs ~2 N at PRESS_FRACTION, 3 N at the stop.
BUTTON_STIFFNESS_N_M = 600.0
# The mechanism's inertia (armature) makes the stops firm: MuJoCo's constraint stiffness scales with
# the inertia it acts on, and a 10 g cap alone would sink centimetres past its stop under a hard push.
BUTTON_ARMATURE = 0.05  # kg
BUTTON_DAMPING = 6.0  # N s/m: about half of critical with the cap's mass and armature
BUTTON_SOLREF = (0.004, 1.0)  # stiffer stops than MuJoCo's default (0.02 s): two timesteps
BUTTON_SPACING_M = 0.1  # between two buttons' centres
BUTTON_EDGE_M = 0.05  # housing edge to the top's edge
BUTTON_KEEPOUT_M = 0.05  # objects are placed this much clear of a button's housing (room for fingers)
PRESS_FRACTION = 0.7  # a press registers when the cap passes this fraction of its travel
HOUSING_RGBA = (0.12, 0.12, 0.13, 1.0)


def furniture_params(kind: str, size: tuple[float, float, float], rng: np.random.Generator, extra: dict[str, Any],
                     buttons: tuple[Any, tuple[int, int]] | None = None) -> dict[str, Any]:
    """Sample the kind-specific structure (shelf count, drawers, door) into JSON-able params.

    `buttons` is (the catalog's ButtonKind, [min, max] per piece) when the room program places
    push buttons (`fixtures: {buttons: ...}`); they are drawn from a stream forked off `rng`
    without advancing it, so every other draw of the scene is the same as without buttons, and a
    piece that gets none has the same params as before.
    """
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
    if buttons is not None and kind in buttons[0].mounted_on:
        placed = sample_buttons(size, _fork(rng), buttons[0], buttons[1])
        if placed:
            params["buttons"] = placed
    return params


def _fork(rng: np.random.Generator) -> np.random.Generator:
    """A generator seeded from `rng`'s current state; `rng` itself is left untouched."""
    state = json.dumps(rng.bit_generator.state, sort_keys=True, default=repr)
    return np.random.default_rng(int.from_bytes(hashlib.sha256(state.encode()).digest()[:16], "little"))


def sample_buttons(size: tuple[float, float, float], rng: np.random.Generator, kind: Any, count: tuple[int, int]) -> list[dict[str, Any]]:
    """Push buttons on a top of `size`: local xy of each centre, shape, colour, cap diameter, travel.

    Buttons keep BUTTON_EDGE_M from the top's edges and BUTTON_SPACING_M between centres; one that
    does not fit after a few tries is left out.
    """
    colors = load_catalog().colors
    d, w, _ = size
    n = int(rng.integers(count[0], count[1] + 1))
    out: list[dict[str, Any]] = []
    for _ in range(n):
        diameter = round(float(rng.uniform(*kind.cap_diameter_m)), 4)
        travel = round(float(rng.uniform(*kind.travel_m)), 4)
        shape = kind.shapes[int(rng.integers(len(kind.shapes)))]
        color = kind.colors[int(rng.integers(len(kind.colors)))]
        half = diameter / 2 + BUTTON_RIM_M
        hx, hy = d / 2 - BUTTON_EDGE_M - half, w / 2 - BUTTON_EDGE_M - half
        if hx <= 0 or hy <= 0:
            break
        for _ in range(20):
            xy = (round(float(rng.uniform(-hx, hx)), 4), round(float(rng.uniform(-hy, hy)), 4))
            if all(math.dist(xy, b["pos"]) >= BUTTON_SPACING_M for b in out):
                out.append({"pos": list(xy), "shape": shape, "color": color, "rgba": [*colors[color], 1.0],
                            "diameter_m": diameter, "travel_m": travel})
                break
    return out


def button_name(f: Furniture, k: int) -> str:
    """Body name of button `k` of piece `f` (its cap is `<name>/cap`, slide `<name>/press`, site `<name>/top`).

    Not under `furn/`: a button keeps its own colour when furniture colours are randomized (tasks say
    "the red button"), and touching it is no collision with the furniture.
    """
    return f"fixture/{f.name}/button_{k}"


def button_footprint_radius(button: dict[str, Any]) -> float:
    """Radius of the circle around a button's housing (a square housing's half diagonal)."""
    half = float(button["diameter_m"]) / 2 + BUTTON_RIM_M
    return half * math.sqrt(2) if button["shape"] == "square" else half


def fixture_keepouts(f: Furniture) -> dict[str, list[tuple[float, float, float]]]:
    """Discs objects must not overlap, per support site: (x, y, radius) in the surface's frame."""
    buttons = f.params.get("buttons") or []
    if not buttons or not f.surfaces:
        return {}
    top = max(range(len(f.surfaces)), key=lambda k: f.surfaces[k].center[2])
    cx, cy, _ = f.surfaces[top].center
    spots = [(float(b["pos"][0]) - cx, float(b["pos"][1]) - cy, button_footprint_radius(b) + BUTTON_KEEPOUT_M) for b in buttons]
    return {f"furn/{f.name}/surface_{top}": spots}


def button_top_z(f: Furniture, button: dict[str, Any]) -> float:
    """Local height of a button's cap top at rest."""
    return f.size[2] + BUTTON_HOUSING_M + float(button["travel_m"]) + BUTTON_GAP_M + BUTTON_CAP_M


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
    for k, button in enumerate(f.params.get("buttons") or ()):
        _add_button(body, button_name(f, k), f, button)
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


def _add_button(body, name: str, f: Furniture, button: dict[str, Any]) -> None:
    """A push button on the piece's top: housing, then the cap on a slide `<name>/press` (q = depth
    pressed, 0 at rest, `travel_m` at the stop) with a preloaded spring, and a `<name>/top` site."""
    x, y = (float(v) for v in button["pos"])
    r = float(button["diameter_m"]) / 2
    travel = float(button["travel_m"])
    round_ = button["shape"] == "round"
    top = f.size[2]
    root = body.add_body(name=name, pos=[x, y, top])
    cyl, box = mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_BOX
    half_h = BUTTON_HOUSING_M / 2
    housing = r + BUTTON_RIM_M
    root.add_geom(name=f"{name}/housing", type=cyl if round_ else box, pos=[0, 0, half_h],
                  size=[housing, half_h, 0] if round_ else [housing, housing, half_h], rgba=list(HOUSING_RGBA))
    cap_z = BUTTON_HOUSING_M + travel + BUTTON_GAP_M + BUTTON_CAP_M / 2  # cap centre at rest
    cap = root.add_body(name=f"{name}/cap", pos=[0, 0, cap_z])
    cap.gravcomp = 1.0
    # Never asleep: held still under a finger, a cap would fall asleep the moment the finger lifts
    # (sleep is judged on velocity) and stay pressed in, its spring's force ignored.
    cap.sleep = mujoco.mjtSleepPolicy.mjSLEEP_NEVER
    cap.add_joint(
        name=f"{name}/press", type=mujoco.mjtJoint.mjJNT_SLIDE, axis=[0, 0, -1], range=[0, travel],
        limited=mujoco.mjtLimited.mjLIMITED_TRUE, stiffness=BUTTON_STIFFNESS_N_M, springref=0.0,
        damping=BUTTON_DAMPING, armature=BUTTON_ARMATURE, solref_limit=list(BUTTON_SOLREF),
    )
    half_c = BUTTON_CAP_M / 2
    rgba = [float(v) for v in button["rgba"]]
    cap.add_geom(name=f"{name}/cap", type=cyl if round_ else box, size=[r, half_c, 0] if round_ else [r, r, half_c],
                 rgba=rgba, mass=0.01)
    stem = travel + BUTTON_GAP_M + 0.004
    cap.add_geom(name=f"{name}/stem", type=cyl if round_ else box, pos=[0, 0, -half_c - stem / 2],
                 size=[0.8 * r, stem / 2, 0] if round_ else [0.8 * r, 0.8 * r, stem / 2], rgba=rgba,
                 contype=0, conaffinity=0, mass=0.001)
    cap.add_site(name=f"{name}/top", pos=[0, 0, half_c], size=[0.005, 0.005, 0.005], rgba=[0, 0, 0, 0], group=5)


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
