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
    elif kind in _ROOM_KIND_PARAMS:
        params.update(_ROOM_KIND_PARAMS[kind](size, rng, extra))
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
    if kind in _ROOM_KIND_SURFACES:
        return _ROOM_KIND_SURFACES[kind](size, params)
    if kind in _ROOM_KIND_BUILDERS:
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
            **_ROOM_KIND_BUILDERS,
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


# --- Bedrooms, offices, bathrooms, warehouses, and decor -------------------------------------------
# Sizes come from procgen/furniture.yaml (standard dimensions cited there). Carcasses are one
# collision box each; drawer fronts, door panels, handles, textiles and decor are visual-only
# (contype/conaffinity 0): nothing acts on them, so they add no contact work and cannot penetrate
# anything. Fronts and handles stay inside the footprint, so a robot standing right in front of a
# dresser or vanity touches none of them. Surfaces are exactly the collision tops.
VISUAL = {"contype": 0, "conaffinity": 0}
CERAMIC_RGBA = (0.94, 0.94, 0.92, 1.0)
GLASS_RGBA = (0.72, 0.79, 0.83, 1.0)
SCREEN_RGBA = (0.03, 0.04, 0.06, 1.0)
# Textile, art, shade, pot and foliage colours (RGB) the kinds draw from.
TEXTILE_RGB = ((0.90, 0.90, 0.88), (0.75, 0.80, 0.86), (0.62, 0.66, 0.58), (0.80, 0.70, 0.62), (0.45, 0.52, 0.62),
               (0.70, 0.55, 0.55), (0.35, 0.38, 0.45), (0.85, 0.80, 0.68))
ART_RGB = ((0.85, 0.55, 0.30), (0.20, 0.35, 0.55), (0.75, 0.20, 0.20), (0.90, 0.80, 0.40), (0.25, 0.50, 0.35),
           (0.92, 0.90, 0.85), (0.15, 0.15, 0.18), (0.55, 0.45, 0.65), (0.40, 0.65, 0.75))
SHADE_RGB = ((0.95, 0.92, 0.82), (0.92, 0.92, 0.90), (0.80, 0.72, 0.58), (0.35, 0.38, 0.40))
POT_RGB = ((0.72, 0.40, 0.25), (0.92, 0.92, 0.90), (0.45, 0.45, 0.47), (0.12, 0.12, 0.13))
LEAF_RGB = ((0.20, 0.45, 0.18), (0.28, 0.52, 0.22), (0.16, 0.38, 0.20), (0.35, 0.55, 0.25))
CARTON_RGB = (0.62, 0.47, 0.30)
BED_LEGS_M = 0.15  # bed frame: legs, then the base, then a 0.22 m mattress
MATTRESS_M = 0.22
VANITY_TOP_M = 0.03
BASIN_HEIGHT_M = 0.14  # a vessel basin standing on the vanity top
RACK_POST_M = 0.05  # rack upright section
RACK_BOARD_M = 0.03
RACK_FIRST_M = 0.12  # lowest level's top
PALLET_DECK_M = 0.144


def _rbox(body, name, pos, half, rgba, **kw):
    return body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=list(pos), size=list(half), rgba=list(rgba), **kw)


def _pick(rng, options) -> list[float]:
    return [round(float(v), 4) for v in options[int(rng.integers(len(options)))]]


def _rgba(rgb) -> list[float]:
    return [*(float(v) for v in rgb), 1.0]


def _params_desk(size, rng, extra):
    return {"pedestal": bool(rng.random() < 0.6), "pedestal_side": int(rng.choice((-1, 1)))}


def _params_fronts(size, rng, extra):
    d, w, h = size
    rows = max(1, min(4, int((h - 0.12) // 0.2)))
    return {"rows": rows, "cols": 2 if w > 1.1 else 1}


def _params_nightstand(size, rng, extra):
    return {"rows": int(rng.integers(1, 3))}


def _params_bed(size, rng, extra):
    return {"mattress_top_m": round(float(rng.uniform(0.5, 0.6)), 4), "duvet_rgba": _rgba(_pick(rng, TEXTILE_RGB)),
            "pillow_rgba": _rgba(_pick(rng, TEXTILE_RGB[:3]))}


def _params_wardrobe(size, rng, extra):
    return {"doors": 3 if size[1] > 1.25 else 2}


def _params_vanity(size, rng, extra):
    return {"basin_side": int(rng.choice((-1, 1))), "basin_radius_m": round(float(rng.uniform(0.17, 0.2)), 4)}


def _params_rack(size, rng, extra):
    lo, hi = extra.get("shelves", (4, 5))
    return {"levels": int(rng.integers(lo, hi + 1))}


def _params_pallet(size, rng, extra):
    d, w, h = size
    cols, rows = int(rng.integers(2, 4)), 2
    cw, cd = w / cols, d / rows
    ch = round(float(rng.uniform(0.25, 0.4)), 4)
    layers = max(1, int((h - PALLET_DECK_M) // ch))
    cartons = []
    for layer in range(layers):
        for i in range(cols):
            for j in range(rows):
                if layer == layers - 1 and layers > 1 and rng.random() < 0.35:
                    continue  # a part-picked top layer
                tint = float(rng.uniform(0.9, 1.08))
                cartons.append({"pos": [round(-d / 2 + (j + 0.5) * cd, 4), round(-w / 2 + (i + 0.5) * cw, 4),
                                        round(PALLET_DECK_M + (layer + 0.5) * ch, 4)],
                                "half": [round(cd / 2 - 0.006, 4), round(cw / 2 - 0.006, 4), round(ch / 2 - 0.002, 4)],
                                "rgba": _rgba([min(1.0, c * tint) for c in CARTON_RGB])})
    return {"cartons": cartons}


def _params_rug(size, rng, extra):
    return {"field_rgba": _rgba(_pick(rng, TEXTILE_RGB)), "border_m": round(float(rng.uniform(0.04, 0.12)), 4)}


def _params_art(size, rng, extra):
    a, b = rng.choice(len(ART_RGB), size=2, replace=False)
    return {"canvas_rgba": _rgba(ART_RGB[int(a)]), "motif_rgba": _rgba(ART_RGB[int(b)]),
            "motif": [round(float(v), 4) for v in rng.uniform((-0.2, -0.2, 0.2, 0.2), (0.2, 0.2, 0.45, 0.45))]}


def _params_lamp(size, rng, extra):
    return {"shade_rgba": _rgba(_pick(rng, SHADE_RGB))}


def _params_plant(size, rng, extra):
    leaves = []
    for _ in range(int(rng.integers(3, 6))):
        leaves.append({"pos": [round(float(v), 4) for v in rng.uniform((-0.25, -0.25, 0.55), (0.25, 0.25, 0.8))],
                       "r": round(float(rng.uniform(0.22, 0.32)), 4), "rgba": _rgba(_pick(rng, LEAF_RGB))})
    return {"pot_rgba": _rgba(_pick(rng, POT_RGB)), "leaves": leaves}


def _top_surface(size, params):
    d, w, h = size
    return (Surface((0.0, 0.0, h), (d / 2 - 0.02, w / 2 - 0.02), OPEN_CLEARANCE_M),)


def vanity_basin(size, params) -> tuple[float, float, float]:
    """(x, y, radius) of a vanity's vessel basin in its local frame."""
    d, w, _ = size
    r = float(params["basin_radius_m"])
    return -0.02, int(params["basin_side"]) * (w / 2 - 0.05 - r), r


def _vanity_surface(size, params):
    d, w, h = size
    _, by, r = vanity_basin(size, params)
    s = 1 if by > 0 else -1
    inner = abs(by) - r - 0.04  # the basin's inner edge, less a margin, from the centre line
    lo, hi = -w / 2 + 0.02, inner  # along +s
    half = (hi - lo) / 2
    return (Surface((0.0, s * (lo + hi) / 2, h), (d / 2 - 0.02, half), OPEN_CLEARANCE_M),)


def _rack_level_tops(h: float, n: int) -> list[float]:
    step = (h - RACK_FIRST_M - 0.1) / (n - 1)
    return [RACK_FIRST_M + k * step for k in range(n)]


def _rack_surfaces(size, params):
    d, w, h = size
    tops = _rack_level_tops(h, int(params["levels"]))
    out = []
    for k, z in enumerate(tops):
        clearance = (tops[k + 1] - RACK_BOARD_M - z) if k + 1 < len(tops) else OPEN_CLEARANCE_M
        out.append(Surface((0.0, 0.0, z), (d / 2 - 0.03, w / 2 - RACK_POST_M - 0.02), clearance))
    return tuple(out)


def _fronts(body, prefix, mat, x_face, y0, y1, z0, z1, rows, cols, handle: str = "bar"):
    """Fixed drawer fronts (visual) on a carcass face at x_face, rows x cols, with handles inside x_face + 0.025."""
    rh, cw = (z1 - z0) / rows, (y1 - y0) / cols
    for r in range(rows):
        for c in range(cols):
            zc, yc = z0 + (r + 0.5) * rh, y0 + (c + 0.5) * cw
            name = f"{prefix}/front_{r}_{c}"
            _box(body, name, (x_face + 0.009, yc, zc), (0.009, cw / 2 - 0.003, rh / 2 - 0.003), mat("front"), **VISUAL)
            if handle == "knob":
                body.add_geom(name=f"{name}/knob", type=mujoco.mjtGeom.mjGEOM_SPHERE, size=[0.011, 0, 0],
                              pos=[x_face + 0.018 + 0.006, yc, zc], material=mat("handle"), **VISUAL)
            else:
                span = min(0.08, cw / 4)
                _box(body, f"{name}/handle", (x_face + 0.018 + 0.005, yc, zc + rh * 0.25), (0.005, span, 0.006),
                     mat("handle"), **VISUAL)


def _add_desk(body, prefix, f, mat):
    """Top, two slab ends and a modesty panel; optionally a drawer pedestal under one end."""
    d, w, h = f.size
    top = 0.03
    _box(body, f"{prefix}/top", (0, 0, h - top / 2), (d / 2, w / 2, top / 2), mat("top"))
    for i, s in enumerate((1, -1)):
        _box(body, f"{prefix}/end_{i}", (0, s * (w / 2 - 0.0325), (h - top) / 2), (d / 2 - 0.03, 0.0125, (h - top) / 2), mat("body"))
    _box(body, f"{prefix}/modesty", (-d / 2 + 0.06, 0, h - top - 0.2), (0.01, w / 2 - 0.045, 0.18), mat("body"))
    if f.params.get("pedestal"):
        s = int(f.params["pedestal_side"])
        yc, half_w = s * (w / 2 - 0.045 - 0.2), 0.195
        z0, z1 = 0.04, h - top - 0.01
        x_face = d / 2 - 0.06
        _box(body, f"{prefix}/pedestal", ((x_face - d / 2 + 0.07) / 2, yc, (z0 + z1) / 2),
             ((x_face + d / 2 - 0.07) / 2, half_w, (z1 - z0) / 2), mat("body"))
        _fronts(body, prefix, mat, x_face, yc - half_w, yc + half_w, z0, z1, 3, 1)


def _add_case(body, prefix, f, mat, rows, cols, plinth=0.08, handle="bar"):
    """A carcass on a recessed plinth with a top slab and fixed fronts (nightstands, dressers)."""
    d, w, h = f.size
    top = 0.025
    x_face = d / 2 - 0.03
    _box(body, f"{prefix}/plinth", (-0.03, 0, plinth / 2), (d / 2 - 0.05, w / 2 - 0.03, plinth / 2), mat("body"))
    _box(body, f"{prefix}/carcass", ((x_face - d / 2) / 2, 0, (plinth + h - top) / 2),
         ((x_face + d / 2) / 2, w / 2, (h - top - plinth) / 2), mat("body"))
    _box(body, f"{prefix}/top", (0, 0, h - top / 2), (d / 2, w / 2, top / 2), mat("top"))
    _fronts(body, prefix, mat, x_face, -w / 2 + 0.02, w / 2 - 0.02, plinth + 0.01, h - top - 0.01, rows, cols, handle)


def _add_nightstand(body, prefix, f, mat):
    _add_case(body, prefix, f, mat, int(f.params["rows"]), 1, plinth=0.1, handle="knob")


def _add_dresser(body, prefix, f, mat):
    _add_case(body, prefix, f, mat, int(f.params["rows"]), int(f.params["cols"]))


def _add_bed(body, prefix, f, mat):
    """Headboard at the back (-x), frame on legs, mattress, pillows and a duvet (textiles visual)."""
    d, w, h = f.size
    mt = float(f.params["mattress_top_m"])
    head = 0.06
    _box(body, f"{prefix}/headboard", (-d / 2 + head / 2, 0, h / 2), (head / 2, w / 2, h / 2), mat("body"))
    x0 = -d / 2 + head
    base_top = mt - MATTRESS_M
    _box(body, f"{prefix}/base", ((x0 + d / 2) / 2, 0, (BED_LEGS_M + base_top) / 2),
         ((d / 2 - x0) / 2, w / 2, (base_top - BED_LEGS_M) / 2), mat("body"))
    for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        x = d / 2 - 0.04 if sx > 0 else x0 + 0.04
        _box(body, f"{prefix}/leg_{i}", (x, sy * (w / 2 - 0.04), BED_LEGS_M / 2), (0.03, 0.03, BED_LEGS_M / 2), mat("body"))
    _box(body, f"{prefix}/mattress", ((x0 + d / 2) / 2, 0, base_top + MATTRESS_M / 2),
         ((d / 2 - x0) / 2 - 0.02, w / 2 - 0.02, MATTRESS_M / 2), mat("mattress"))
    n = 1 if w < 1.2 else 2
    pw = min(0.36, (w - 0.1) / (2 * n) - 0.02)
    for k in range(n):
        yc = 0.0 if n == 1 else (k - 0.5) * (w - 0.1) / 2
        body.add_geom(name=f"{prefix}/pillow_{k}", type=mujoco.mjtGeom.mjGEOM_ELLIPSOID, size=[0.19, pw, 0.06],
                      pos=[x0 + 0.25, yc, mt + 0.045], rgba=list(f.params["pillow_rgba"]), **VISUAL)
    duvet = list(f.params["duvet_rgba"])
    x_d0 = x0 + 0.55  # turned down below the pillows
    _rbox(body, f"{prefix}/duvet", ((x_d0 + d / 2) / 2, 0, mt + 0.015), ((d / 2 - x_d0) / 2, w / 2 - 0.005, 0.015),
          rgba=duvet, **VISUAL)
    for i, s in enumerate((1, -1)):
        _rbox(body, f"{prefix}/duvet_side_{i}", ((x_d0 + d / 2) / 2, s * (w / 2 - 0.01), mt - 0.1),
              ((d / 2 - x_d0) / 2, 0.005, 0.12), rgba=duvet, **VISUAL)


def _add_wardrobe(body, prefix, f, mat):
    d, w, h = f.size
    plinth, cornice = 0.08, 0.04
    x_face = d / 2 - 0.03
    _box(body, f"{prefix}/plinth", (-0.03, 0, plinth / 2), (d / 2 - 0.05, w / 2 - 0.03, plinth / 2), mat("body"))
    _box(body, f"{prefix}/carcass", ((x_face - d / 2) / 2, 0, (plinth + h - cornice) / 2),
         ((x_face + d / 2) / 2, w / 2, (h - cornice - plinth) / 2), mat("body"))
    _box(body, f"{prefix}/cornice", (0, 0, h - cornice / 2), (d / 2, w / 2, cornice / 2), mat("body"))
    n = int(f.params["doors"])
    dw = (w - 0.02) / n
    for k in range(n):
        yc = -w / 2 + 0.01 + (k + 0.5) * dw
        _box(body, f"{prefix}/door_{k}", (x_face + 0.009, yc, (plinth + h - cornice) / 2),
             (0.009, dw / 2 - 0.003, (h - cornice - plinth) / 2 - 0.005), mat("front"), **VISUAL)
        edge = yc + (dw / 2 - 0.05) * (1 if k % 2 == 0 else -1)
        _box(body, f"{prefix}/door_{k}/handle", (x_face + 0.023, edge, h * 0.52), (0.005, 0.006, 0.12), mat("handle"), **VISUAL)


def _add_vanity(body, prefix, f, mat):
    """A door cabinet with a stone top and a vessel basin and tap at one end."""
    d, w, h = f.size
    top, plinth = VANITY_TOP_M, 0.1
    x_face = d / 2 - 0.03
    _box(body, f"{prefix}/plinth", (-0.03, 0, plinth / 2), (d / 2 - 0.05, w / 2 - 0.03, plinth / 2), mat("body"))
    _box(body, f"{prefix}/carcass", ((x_face - d / 2) / 2, 0, (plinth + h - top) / 2),
         ((x_face + d / 2) / 2, w / 2 - 0.01, (h - top - plinth) / 2), mat("body"))
    _box(body, f"{prefix}/top", (0, 0, h - top / 2), (d / 2, w / 2, top / 2), mat("top"))
    _fronts(body, prefix, mat, x_face, -w / 2 + 0.02, w / 2 - 0.02, plinth + 0.01, h - top - 0.01, 1, 2 if w < 1.3 else 3)
    bx, by, r = vanity_basin(f.size, f.params)
    cyl = mujoco.mjtGeom.mjGEOM_CYLINDER
    body.add_geom(name=f"{prefix}/basin", type=cyl, size=[r, BASIN_HEIGHT_M / 2, 0], pos=[bx, by, h + BASIN_HEIGHT_M / 2],
                  rgba=list(CERAMIC_RGBA))
    body.add_geom(name=f"{prefix}/basin_bowl", type=cyl, size=[r - 0.012, 0.002, 0], pos=[bx, by, h + BASIN_HEIGHT_M + 0.001],
                  rgba=[0.80, 0.81, 0.80, 1.0], **VISUAL)
    tap_x = -d / 2 + 0.045
    body.add_geom(name=f"{prefix}/tap", type=cyl, size=[0.014, 0.13, 0], pos=[tap_x, by, h + 0.13], material=mat("handle"))
    _box(body, f"{prefix}/tap_spout", (tap_x + 0.06, by, h + 0.245), (0.06, 0.011, 0.011), mat("handle"), **VISUAL)


def _add_toilet(body, prefix, f, mat):
    """Cistern against the wall (-x), pedestal, bowl and seat (ceramic white)."""
    d, w, h = f.size
    ceramic = list(CERAMIC_RGBA)
    cistern_d = 0.18
    _rbox(body, f"{prefix}/cistern", (-d / 2 + cistern_d / 2, 0, (0.42 + h) / 2), (cistern_d / 2, w / 2, (h - 0.42) / 2), rgba=ceramic)
    bowl_r = min(0.19, w / 2 - 0.01)
    bowl_x = d / 2 - bowl_r
    _rbox(body, f"{prefix}/pedestal", ((-d / 2 + 0.05 + bowl_x) / 2, 0, 0.19), ((bowl_x + d / 2 - 0.05) / 2, 0.12, 0.19), rgba=ceramic)
    cyl = mujoco.mjtGeom.mjGEOM_CYLINDER
    body.add_geom(name=f"{prefix}/bowl", type=cyl, size=[bowl_r, 0.1, 0], pos=[bowl_x, 0, 0.28], rgba=ceramic)
    body.add_geom(name=f"{prefix}/seat", type=cyl, size=[bowl_r + 0.005, 0.01, 0], pos=[bowl_x, 0, 0.39], material=mat("seat"))
    _box(body, f"{prefix}/seat_back", ((-d / 2 + cistern_d + bowl_x) / 2, 0, 0.39), ((bowl_x - (-d / 2 + cistern_d)) / 2, bowl_r * 0.8, 0.01),
         mat("seat"))
    body.add_geom(name=f"{prefix}/flush", type=cyl, size=[0.025, 0.004, 0], pos=[-d / 2 + cistern_d / 2, 0, h + 0.004],
                  material=mat("handle"), **VISUAL)


def _add_bathtub(body, prefix, f, mat):
    d, w, h = f.size
    ceramic = list(CERAMIC_RGBA)
    rim = 0.07
    _rbox(body, f"{prefix}/bottom", (0, 0, 0.05), (d / 2, w / 2, 0.05), rgba=ceramic)
    for i, s in enumerate((1, -1)):
        _rbox(body, f"{prefix}/long_{i}", (s * (d / 2 - rim / 2), 0, h / 2), (rim / 2, w / 2, h / 2), rgba=ceramic)
        _rbox(body, f"{prefix}/end_{i}", (0, s * (w / 2 - rim / 2), h / 2), (d / 2 - rim, rim / 2, h / 2), rgba=ceramic)
    cyl = mujoco.mjtGeom.mjGEOM_CYLINDER
    body.add_geom(name=f"{prefix}/tap", type=cyl, size=[0.015, 0.05, 0], pos=[-d / 2 + rim / 2, w / 2 - 0.2, h + 0.05],
                  material=mat("handle"))


def _add_rack(body, prefix, f, mat):
    """Four steel uprights, a pair of painted beams and a wooden deck per level."""
    d, w, h = f.size
    p = RACK_POST_M / 2
    for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        _box(body, f"{prefix}/upright_{i}", (sx * (d / 2 - p), sy * (w / 2 - p), h / 2), (p, p, h / 2), mat("body"))
    for k, z in enumerate(_rack_level_tops(h, int(f.params["levels"]))):
        _box(body, f"{prefix}/board_{k}", (0, 0, z - RACK_BOARD_M / 2), (d / 2, w / 2 - RACK_POST_M, RACK_BOARD_M / 2), mat("board"))
        for i, s in enumerate((1, -1)):
            _box(body, f"{prefix}/beam_{k}_{i}", (s * (d / 2 - 0.02), 0, z - RACK_BOARD_M - 0.035),
                 (0.02, w / 2 - RACK_POST_M, 0.035), mat("beam"))


def _add_pallet(body, prefix, f, mat):
    """A block pallet (3 x 3 blocks, top deck boards) and its static load of cartons."""
    d, w, _ = f.size
    deck = 0.022
    for i in range(3):
        for j in range(3):
            x, y = (i - 1) * (d / 2 - 0.05), (j - 1) * (w / 2 - 0.07)
            _box(body, f"{prefix}/block_{i}_{j}", (x, y, (PALLET_DECK_M - deck) / 2), (0.05, 0.07, (PALLET_DECK_M - deck) / 2),
                 mat("body"))
    n = 5
    for k in range(n):
        x = -d / 2 + 0.05 + k * (d - 0.1) / (n - 1)
        _box(body, f"{prefix}/deck_{k}", (x, 0, PALLET_DECK_M - deck / 2), (0.05, w / 2, deck / 2), mat("body"))
    for k, c in enumerate(f.params.get("cartons") or ()):
        _rbox(body, f"{prefix}/carton_{k}", tuple(c["pos"]), tuple(c["half"]), rgba=list(c["rgba"]))


def _add_rug(body, prefix, f, mat):
    """A flat pile with a contrasting field inside its border (visual only: objects never rest on floors)."""
    d, w, h = f.size
    b = float(f.params["border_m"])
    _box(body, f"{prefix}/pile", (0, 0, h / 2), (d / 2, w / 2, h / 2), mat("body"), **VISUAL)
    _rbox(body, f"{prefix}/field", (0, 0, h / 2 + 0.0005), (d / 2 - b, w / 2 - b, h / 2),
         rgba=list(f.params["field_rgba"]), **VISUAL)


def _add_wall_art(body, prefix, f, mat):
    """A framed picture hung on a wall: its back at local -x (the wall face), bottom at local z = 0."""
    d, w, h = f.size
    frame = 0.025
    for i, s in enumerate((1, -1)):
        _box(body, f"{prefix}/frame_h{i}", (0, 0, h / 2 + s * (h / 2 - frame / 2)), (d / 2, w / 2, frame / 2), mat("frame"), **VISUAL)
        _box(body, f"{prefix}/frame_v{i}", (0, s * (w / 2 - frame / 2), h / 2), (d / 2, frame / 2, h / 2 - frame), mat("frame"), **VISUAL)
    canvas = f.params.get("canvas_rgba") or list(GLASS_RGBA)
    _rbox(body, f"{prefix}/canvas", (-0.003, 0, h / 2), (d / 2 - 0.003, w / 2 - frame, h / 2 - frame), rgba=list(canvas), **VISUAL)
    motif = f.params.get("motif")
    if motif:
        cx, cy, sx, sy = motif
        iw, ih = w / 2 - frame, h / 2 - frame
        _rbox(body, f"{prefix}/motif", (d / 2 - 0.0025, cx * iw, h / 2 + cy * ih), (0.001, sx * iw, sy * ih),
             rgba=list(f.params["motif_rgba"]), **VISUAL)


def _add_lamp(body, prefix, f, mat):
    d, w, h = f.size
    r = min(d, w) / 2
    cyl = mujoco.mjtGeom.mjGEOM_CYLINDER
    shade_h = 0.4 * h
    body.add_geom(name=f"{prefix}/base", type=cyl, size=[0.6 * r, 0.012, 0], pos=[0, 0, 0.012], material=mat("body"))
    body.add_geom(name=f"{prefix}/stem", type=cyl, size=[0.008, (h - shade_h) / 2, 0], pos=[0, 0, (h - shade_h) / 2 + 0.012],
                  material=mat("body"))
    body.add_geom(name=f"{prefix}/shade", type=cyl, size=[r, shade_h / 2, 0], pos=[0, 0, h - shade_h / 2],
                  rgba=list(f.params["shade_rgba"]))


def _add_monitor(body, prefix, f, mat):
    d, w, h = f.size
    _box(body, f"{prefix}/foot", (0, 0, 0.006), (d / 2, 0.11, 0.006), mat("body"))
    _box(body, f"{prefix}/neck", (-d / 2 + 0.03, 0, 0.09), (0.015, 0.03, 0.08), mat("body"))
    screen_z0 = 0.1
    _box(body, f"{prefix}/panel", (-d / 2 + 0.06, 0, (screen_z0 + h) / 2), (0.015, w / 2, (h - screen_z0) / 2), mat("body"))
    _rbox(body, f"{prefix}/screen", (-d / 2 + 0.076, 0, (screen_z0 + h) / 2 + 0.005), (0.001, w / 2 - 0.008, (h - screen_z0) / 2 - 0.015),
         rgba=list(SCREEN_RGBA), **VISUAL)


def _add_plant(body, prefix, f, mat):
    d, w, h = f.size
    r = min(d, w) / 2
    pot_h = 0.4 * h
    cyl = mujoco.mjtGeom.mjGEOM_CYLINDER
    body.add_geom(name=f"{prefix}/pot", type=cyl, size=[0.7 * r, pot_h / 2, 0], pos=[0, 0, pot_h / 2], rgba=list(f.params["pot_rgba"]))
    body.add_geom(name=f"{prefix}/soil", type=cyl, size=[0.66 * r, 0.002, 0], pos=[0, 0, pot_h + 0.001], rgba=[0.22, 0.15, 0.1, 1.0],
                  **VISUAL)
    for k, leaf in enumerate(f.params["leaves"]):
        lx, ly, lz = leaf["pos"]
        lr = float(leaf["r"]) * min(r * 2, h)
        z = min(pot_h + lz * (h - pot_h), h - lr)
        body.add_geom(name=f"{prefix}/leaf_{k}", type=mujoco.mjtGeom.mjGEOM_ELLIPSOID, size=[lr, lr, lr * 1.2],
                      pos=[lx * r, ly * r, z], rgba=list(leaf["rgba"]), **VISUAL)


_ROOM_KIND_PARAMS = {
    "desk": _params_desk, "nightstand": _params_nightstand, "dresser": _params_fronts, "bed": _params_bed,
    "wardrobe": _params_wardrobe, "vanity": _params_vanity, "rack": _params_rack, "pallet": _params_pallet,
    "rug": _params_rug, "bath_mat": _params_rug, "wall_art": _params_art, "lamp": _params_lamp, "plant": _params_plant,
}
_ROOM_KIND_SURFACES = {
    "desk": _top_surface, "nightstand": _top_surface, "dresser": _top_surface, "vanity": _vanity_surface,
    "rack": _rack_surfaces,
}
_ROOM_KIND_BUILDERS = {
    "desk": _add_desk, "nightstand": _add_nightstand, "dresser": _add_dresser, "bed": _add_bed,
    "wardrobe": _add_wardrobe, "vanity": _add_vanity, "toilet": _add_toilet, "bathtub": _add_bathtub,
    "rack": _add_rack, "pallet": _add_pallet, "rug": _add_rug, "bath_mat": _add_rug, "wall_art": _add_wall_art,
    "mirror": _add_wall_art, "lamp": _add_lamp, "monitor": _add_monitor, "plant": _add_plant,
}
