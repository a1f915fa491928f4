"""Sample a SceneSpec from a room program: floorplan, furniture, robot pose, objects, lights, cameras.

Placement is semantic and collision-free by construction: furniture footprints (plus the floor kept
free in front of them) never overlap each other, doorways or the robot; objects rest on support
surfaces with margins and never overlap; the robot faces its workspace furniture with the workspace
objects within reach. Every draw comes from the `rng` argument, in a fixed order.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simfarm.errors import SceneError
from simfarm.scene.catalog import Catalog, RoomProgram, load_catalog, load_program
from simfarm.scene.furniture import (
    fixture_keepouts,
    furniture_params,
    furniture_surfaces,
    handle_local_positions,
)
from simfarm.scene.objects import family_dims, family_extents, family_params, family_volume
from simfarm.scene.robot_info import RobotInfo, robot_info, with_mount_height
from simfarm.scene.spec import (
    Camera,
    Furniture,
    Light,
    Material,
    Opening,
    RobotPlacement,
    Room,
    SceneObject,
    SceneSpec,
    Surface,
    Texture,
    Wall,
)
from simfarm.scene.textures import dress_lights, style_materials
from simfarm.seeding import derived_rng

MAX_ATTEMPTS = 25  # whole-scene retries before an impossible request raises SceneError
PLACE_TRIES = 40  # per furniture piece / object
OBJECT_MARGIN_M = 0.015
DOORWAY_KEEPOUT_M = 0.9
TROLLEY_CLEARANCE_M = 1.5
WORKSPACE_KINDS = ("surface", "drawer", "trolley", "shelf")
# A shelf workspace: a top-down hand does not fit under the board above, so the arm reaches into
# a compartment from the front, its hand level or tilted down a little. Where a Panda's ee_delta
# IK gets there within its joint limits, following the commanded joints from home, 0.5-0.8 m
# from its base: grasp points 0.40-0.65 m above its mount (its home TCP is 0.49 m up) whatever
# their side, and -0.15..+0.02 m (the hand low, the elbow up, turned a little off straight ahead);
# in between, a level hand runs into the limits of its wrist. The sampler stands the base SHELF_STANCE_M in
# front of the shelf's face and mounts the arm so that two neighbouring boards fall in the two
# bands when the shelf's spacing allows (the lowest such pair), else one board in the upper band.
SHELF_REACH_BANDS_M = ((-0.15, 0.02), (0.40, 0.65))
SHELF_MOUNT_BELOW_M = 0.48  # one board: its grasp height this far above the mount
SHELF_MOUNT_M = (0.05, 1.2)
SHELF_GRASP_ABOVE_BOARD_M = 0.05  # where a hand grasps a small object on a board: this far above it
SHELF_MIN_CLEARANCE_M = 0.2  # free height under the board above a hand can work in
SHELF_STANCE_M = 0.52
SHELF_MAX_DEPTH_M = 0.2  # workspace objects on a shelf: centres at most this far behind the front edge
SHELF_MAX_REACH = 0.95  # ... and at most this fraction of the arm's reach from its base, horizontally
SHELF_ARM_SWEEP_M = 0.3  # other furniture keeps this much farther from the robot than its footprint


@dataclass(frozen=True)
class SceneRequest:
    """What a task needs from a scene (see docs/contracts.md)."""

    workspace: str | None = None  # "surface" | "drawer" | "trolley" | "shelf" | None (program default: surface)
    min_workspace_objects: int = 0
    need_receptacle: bool = False
    trolley_clearance_m: float = TROLLEY_CLEARANCE_M
    # Families the workspace objects are drawn from, among those the program's rules put on the
    # workspace furniture (empty: all of them), e.g. the graspable ones for a pick from a shelf.
    workspace_families: tuple[str, ...] = ()
    # (family, colour) pairs the scene must not contain (a benchmark suite's held-out objects).
    exclude_objects: frozenset = frozenset()

    def __post_init__(self):
        if self.workspace not in (None, *WORKSPACE_KINDS):
            raise SceneError(f"SceneRequest.workspace: got {self.workspace!r}; accepted: {', '.join(WORKSPACE_KINDS)}, None")
        if self.min_workspace_objects < 0:
            raise SceneError(f"SceneRequest.min_workspace_objects: must be >= 0, got {self.min_workspace_objects}")


@dataclass
class _Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, o: _Rect) -> bool:
        return self.x0 < o.x1 and o.x0 < self.x1 and self.y0 < o.y1 and o.y0 < self.y1

    def inside(self, o: _Rect) -> bool:
        return self.x0 >= o.x0 and self.y0 >= o.y0 and self.x1 <= o.x1 and self.y1 <= o.y1

    def grow(self, m: float) -> _Rect:
        return _Rect(self.x0 - m, self.y0 - m, self.x1 + m, self.y1 + m)


@dataclass
class _Layout:
    """Occupancy of the floor while sampling: hard footprints and soft clearances per room."""

    interiors: list[_Rect]
    hard: list[_Rect] = field(default_factory=list)  # furniture bodies, robot
    soft: list[_Rect] = field(default_factory=list)  # floor kept free (fronts, doorways); may overlap each other

    def fits(self, body: _Rect, clear: _Rect, room: int) -> bool:
        interior = self.interiors[room]
        if not body.inside(interior) or not clear.inside(interior):
            return False
        if any(body.overlaps(r) for r in self.hard) or any(body.overlaps(r) for r in self.soft):
            return False
        return not any(clear.overlaps(r) for r in self.hard)


class _Unsatisfied(Exception):
    """One attempt failed on `constraint`; the sampler retries, then raises SceneError with it."""


def sample_scene(
    program: str | RoomProgram,
    rng: np.random.Generator,
    robot: Any = "arm",
    request: SceneRequest | None = None,
) -> SceneSpec:
    """Sample a scene of `program` using only `rng`; SceneError names the constraint that could not be met."""
    request = request or SceneRequest()
    prog = program if isinstance(program, RoomProgram) else load_program(program)
    catalog = _without_objects(load_catalog(), request.exclude_objects)
    if prog.extra_families:  # user assets the program's `assets:` folders bring
        catalog = dataclasses.replace(catalog, families={**catalog.families, **prog.extra_families})
    info = robot_info(robot)
    if info.arms > 1:
        raise SceneError(f"robot {info.name!r} has two arms facing each other across its own table: room programs do "
                         "not place it yet; use scene=tabletop")
    kind = request.workspace or "surface"
    candidates = prog.workspace.get(kind, ())
    if not candidates:
        raise SceneError(
            f"room program {prog.name!r} ({prog.path}) offers no furniture for workspace={kind!r}: "
            f"its `workspace.{kind}` list is missing; it has: {', '.join(prog.workspace) or 'none'}"
        )
    seed = _seed_of(rng)
    reasons: dict[str, int] = {}
    for _ in range(MAX_ATTEMPTS):
        try:
            return _sample_once(prog, catalog, rng, info, request, kind, seed)
        except _Unsatisfied as exc:
            reasons[str(exc)] = reasons.get(str(exc), 0) + 1
    worst = max(reasons, key=reasons.get)
    raise SceneError(
        f"cannot sample a {prog.name!r} scene for robot {info.name!r} with {request} after {MAX_ATTEMPTS} attempts; "
        f"unmet constraint: {worst}"
    )


def _without_objects(catalog: Catalog, pairs) -> Catalog:
    """The catalog without the colours of `pairs` ((family, colour)): its objects are never drawn.
    With no pairs, the catalog itself (scenes stay byte-identical)."""
    if not pairs:
        return catalog
    families = {}
    for name, fam in catalog.families.items():
        colors = tuple(c for c in fam.colors if (name, c) not in pairs)
        if not colors:
            raise SceneError(f"every colour of object family {name!r} is excluded; a scene could not hold one")
        families[name] = dataclasses.replace(fam, colors=colors)
    return dataclasses.replace(catalog, families=families)


def _seed_of(rng: np.random.Generator) -> tuple[int, ...]:
    seq = getattr(rng.bit_generator, "seed_seq", None)
    entropy = getattr(seq, "entropy", None)
    if entropy is None:
        return ()
    values = [int(entropy)] if isinstance(entropy, (int, np.integer)) else [int(v) for v in entropy]
    return tuple(values + [int(k) for k in getattr(seq, "spawn_key", ())])


def _u(rng: np.random.Generator, lo_hi: tuple[float, float], digits: int = 4) -> float:
    return round(float(rng.uniform(lo_hi[0], lo_hi[1])), digits)


def _i(rng: np.random.Generator, lo_hi: tuple[int, int]) -> int:
    return int(rng.integers(lo_hi[0], lo_hi[1] + 1))


# Grid cells (col, row) of each floorplan shape; room 0 is always cell (0, 0).
_SHAPES = {1: [[(0, 0)]], 2: [[(0, 0), (1, 0)], [(0, 0), (0, 1)]], 3: [[(0, 0), (1, 0), (2, 0)], [(0, 0), (1, 0), (0, 1)]],
           4: [[(0, 0), (1, 0), (0, 1), (1, 1)]]}


def _sample_once(prog, catalog: Catalog, rng, info: RobotInfo, request: SceneRequest, ws_kind: str, seed) -> SceneSpec:
    # Decor's own stream, forked before the attempt's first draw: decor depends on the seed and the
    # layout only, and leaves every draw of the scene stream as it would be without it.
    decor_rng = derived_rng(rng, "decor")
    style = catalog.palettes[prog.styles[int(rng.integers(len(prog.styles)))]]
    # Looks (material families, light colours) draw from a stream derived from this one without
    # consuming it: every draw of the geometry (and of the spec randomization after it) is as before.
    looks = derived_rng(rng, "looks")
    materials, textures = style_materials(style, looks, _style_materials)
    rooms, walls, interiors, door_zones = _floorplan(prog, rng)
    layout = _Layout(interiors=interiors, soft=list(door_zones))
    furniture: list[Furniture] = []
    counters: dict[str, int] = {}
    # Push buttons on tops where the program asks for them (`fixtures: {buttons: [min, max]}`).
    buttons = (catalog.button, prog.fixtures["buttons"]) if "buttons" in prog.fixtures and catalog.button else None

    def new_piece(kind: str, room: int, placement: str, ws_room_clearance: float = 0.0) -> Furniture | None:
        fk = catalog.furniture[kind]
        size = (_u(rng, fk.size_m["depth"]), _u(rng, fk.size_m["width"]), _u(rng, fk.size_m["height"]))
        params = furniture_params(kind, size, rng, fk.extra, buttons)
        name = f"{kind}_{counters.get(kind, 0)}"
        placed = _place_furniture(layout, rng, room, placement, size, fk.front_clearance_m, ws_room_clearance)
        if placed is None:
            return None
        pos, yaw, body, clear = placed
        counters[kind] = counters.get(kind, 0) + 1
        layout.hard.append(body)
        layout.soft.append(clear)
        mats = {part: f"mat_{role}" for part, role in fk.materials.items()}
        piece = Furniture(name=name, kind=kind, room=room, pos=pos, yaw_rad=yaw, size=size, placement=placement,
                          materials=mats, surfaces=furniture_surfaces(kind, size, params), params=params)
        furniture.append(piece)
        return piece

    # 1. The workspace furniture and the robot in front of it, in the main room.
    ws_choice = prog.workspace[ws_kind]
    ws_kind_name = ws_choice[int(rng.integers(len(ws_choice)))]
    rule_placement = next((r.placement for r in prog.furniture if r.kind == ws_kind_name), None)
    placement = "center" if ws_kind == "trolley" else (rule_placement or "wall")
    clearance = request.trolley_clearance_m if ws_kind == "trolley" else 0.0
    workspace = None
    for _ in range(PLACE_TRIES // 4):
        workspace = new_piece(ws_kind_name, 0, placement, clearance)
        if workspace is None:
            continue
        robot_pose = _place_robot(layout, workspace, info, ws_kind, rng)
        if robot_pose is not None:
            break
        furniture.pop()
        layout.hard.pop()
        layout.soft.pop()
        counters[ws_kind_name] -= 1
        workspace = None
    if workspace is None:
        constraint = f"workspace {ws_kind_name!r} ({placement}) with the robot {info.name!r} in front of it fits in the main room"
        if ws_kind == "trolley":
            constraint += f" with {request.trolley_clearance_m} m of free floor around the trolley"
        raise _Unsatisfied(constraint)
    robot_pos, robot_yaw, robot_rect, info = robot_pose
    # At a shelf the arm works low, its links at the height of the furniture around: keep the
    # other pieces away from its sweep, not only its footprint.
    layout.hard.append(robot_rect.grow(SHELF_ARM_SWEEP_M) if ws_kind == "shelf" else robot_rect)
    if ws_kind == "trolley":
        # The trolley's free floor is hard for everything else (the robot already stands in it).
        d, w, _ = workspace.size
        layout.hard.append(_footprint(workspace.pos, workspace.yaw_rad, d, w).grow(request.trolley_clearance_m))

    # 2. The rest of the program's furniture; the workspace piece counts toward the first rule of its kind.
    credit = True
    for rule in prog.furniture:
        targets = [r for r in range(len(rooms)) if rule.rooms == "any" or (rule.rooms == "main") == (r == 0)]
        for room in targets:
            count = _i(rng, rule.count)
            if credit and room == 0 and rule.kind == workspace.kind:
                count, credit = max(0, count - 1), False
            for _ in range(count):
                new_piece(rule.kind, room, rule.placement)

    # 3. Objects: the workspace first (in reach, with a receptacle if asked), then the rest.
    objects: list[SceneObject] = []
    # Objects keep clear of fixtures (push buttons) on the tops: none, and every draw is as before.
    placed_on: dict[str, list[tuple[float, float, float]]] = {
        site: spots for piece in furniture for site, spots in fixture_keepouts(piece).items()}
    names: dict[str, int] = {}
    ws_rules = [r for r in prog.objects if workspace.kind in r.on]
    families = sorted({f for r in ws_rules for f in r.families}) or ["block"]
    if request.workspace_families:
        families = [f for f in families if f in request.workspace_families]
        if not families:
            raise SceneError(
                f"SceneRequest.workspace_families: none of {', '.join(request.workspace_families)} is among the families "
                f"room program {prog.name!r} puts on a {workspace.kind} ({', '.join(sorted({f for r in ws_rules for f in r.families})) or 'none'})"
            )
    n_ws = max(request.min_workspace_objects, _i(rng, ws_rules[0].count) if ws_rules else 0)
    if ws_kind != "surface":
        n_ws = request.min_workspace_objects
    want = []
    if request.need_receptacle:
        recs = [f for f in families if catalog.families[f].receptacle] or sorted(
            f for f, fam in catalog.families.items() if fam.receptacle)
        want.append(recs[int(rng.integers(len(recs)))])
    while len(want) < n_ws:
        want.append(families[int(rng.integers(len(families)))])
    shoulder = (robot_pos[0], robot_pos[1], info.mount_height_m)
    reach = _reach_filter(info, shoulder) if ws_kind == "surface" and info.has_arm else None
    boards = None
    if ws_kind == "shelf" and info.has_arm:
        # Workspace objects on the boards the arm reaches into, near the front edge.
        boards = shelf_reach_boards(workspace, robot_pos[2] + info.mount_height_m)
        reach = _shelf_reach_filter(workspace, info, shoulder)
    for fam in want:
        obj = _place_object(catalog, rng, fam, workspace, placed_on, names, reach, boards)
        if obj is None:
            what = f"{request.min_workspace_objects} objects" if request.min_workspace_objects else f"a {fam}"
            raise _Unsatisfied(
                f"min_workspace_objects: {what} on workspace {workspace.name!r} "
                f"(surface {workspace.size[0]:.2f} x {workspace.size[1]:.2f} m) within the robot's reach "
                f"({info.reach_m} m)" + (" including a receptacle" if request.need_receptacle else "")
            )
        objects.append(obj)
    for rule in prog.objects:
        for piece in furniture:
            if piece.kind not in rule.on or (piece is workspace and ws_kind == "surface"):
                continue
            for _ in range(_i(rng, rule.count)):
                fam = rule.families[int(rng.integers(len(rule.families)))]
                obj = _place_object(catalog, rng, fam, piece, placed_on, names, None)
                if obj is not None:
                    objects.append(obj)

    if prog.decor:  # rugs, pictures, lamps (simfarm/scene/decor.py)
        from simfarm.scene.decor import sample_decor

        furniture.extend(sample_decor(prog, catalog, decor_rng, rooms, interiors, door_zones, furniture, workspace,
                                      placed_on))
    lights = dress_lights(_lights(prog, rng, rooms), rooms, walls, looks)
    cameras = _cameras(rooms, workspace, robot_pos)
    robot = RobotPlacement(name=info.name, params=dict(info.params), pos=robot_pos, yaw_rad=robot_yaw)
    return SceneSpec(
        program=prog.name, seed=seed, style=style.name, rooms=tuple(rooms), walls=tuple(walls),
        furniture=tuple(furniture), objects=tuple(objects), lights=lights, cameras=cameras,
        materials=materials, textures=textures, robot=robot, workspace=workspace.name, workspace_kind=ws_kind,
    )


def _style_materials(style) -> tuple[tuple[Material, ...], tuple[Texture, ...]]:
    textures = []
    for role, t in (("floor", style.floor), ("wall", style.wall)):
        textures.append(Texture(name=f"tex_{role}", builtin=t.builtin, rgb1=t.rgb1, rgb2=t.rgb2, mark=t.mark,
                                markrgb=t.markrgb, random=t.random))
    mats = [
        Material("mat_floor", (1.0, 1.0, 1.0, 1.0), texture="tex_floor", texrepeat=(style.floor.repeat, style.floor.repeat),
                 specular=0.1, shininess=0.1, reflectance=0.1),
        Material("mat_wall", (1.0, 1.0, 1.0, 1.0), texture="tex_wall", texrepeat=(style.wall.repeat, style.wall.repeat),
                 specular=0.05, shininess=0.05),
    ]
    for role, rgb in sorted(style.roles.items()):
        shiny = 0.6 if role in ("metal", "stone") else 0.2
        mats.append(Material(f"mat_{role}", (*rgb, 1.0), specular=shiny, shininess=shiny))
    return tuple(mats), tuple(textures)


def _floorplan(prog: RoomProgram, rng):
    n = _i(rng, prog.room_count)
    shapes = _SHAPES[n]
    cells = shapes[int(rng.integers(len(shapes)))]
    ncol = max(c for c, _ in cells) + 1
    nrow = max(r for _, r in cells) + 1
    col_w = [_u(rng, prog.width_m, 2) for _ in range(ncol)]
    row_d = [_u(rng, prog.depth_m, 2) for _ in range(nrow)]
    wall_h = _u(rng, prog.wall_height_m, 2)
    t = prog.wall_thickness_m
    xs = [0.0]
    for w in col_w:
        xs.append(round(xs[-1] + w, 4))
    ys = [0.0]
    for d in row_d:
        ys.append(round(ys[-1] + d, 4))
    index = {cell: k for k, cell in enumerate(cells)}
    rooms, interiors = [], []
    for k, (c, r) in enumerate(cells):
        x0, x1, y0, y1 = xs[c] + t / 2, xs[c + 1] - t / 2, ys[r] + t / 2, ys[r + 1] - t / 2
        rooms.append(Room(name=f"room_{k}", kind=prog.name, polygon=((x0, y0), (x1, y0), (x1, y1), (x0, y1)),
                          floor_material="mat_floor", wall_height_m=wall_h))
        interiors.append(_Rect(x0, y0, x1, y1))
    # Doorways on a spanning tree of the grid adjacency (BFS from the main room), so every room is reachable.
    connected, seen, queue = set(), {0}, [cells[0]]
    while queue:
        c, r = queue.pop(0)
        for nb in ((c + 1, r), (c, r + 1), (c - 1, r), (c, r - 1)):
            if nb in index and index[nb] not in seen:
                seen.add(index[nb])
                connected.add(frozenset((index[(c, r)], index[nb])))
                queue.append(nb)
    walls, door_zones = [], []

    def add_wall(start, end, opening_between=None):
        length = math.dist(start, end)
        openings = ()
        if opening_between is not None and frozenset(opening_between) in connected:
            width = _u(rng, prog.doorway_width_m, 3)
            height = _u(rng, prog.doorway_height_m, 3)
            lo, hi = 0.35 + width / 2, length - 0.35 - width / 2
            if hi > lo:
                off = _u(rng, (lo, hi), 3)
                openings = (Opening(off, width, height),)
                ux, uy = (end[0] - start[0]) / length, (end[1] - start[1]) / length
                cx, cy = start[0] + ux * off, start[1] + uy * off
                hx = abs(ux) * (width / 2 + 0.1) + abs(uy) * DOORWAY_KEEPOUT_M
                hy = abs(uy) * (width / 2 + 0.1) + abs(ux) * DOORWAY_KEEPOUT_M
                door_zones.append(_Rect(cx - hx, cy - hy, cx + hx, cy + hy))
        walls.append(Wall(name=f"wall_{len(walls)}", start=start, end=end, thickness_m=t, height_m=wall_h,
                          material="mat_wall", openings=openings))

    for (c, r), k in index.items():
        x0, x1, y0, y1 = xs[c], xs[c + 1], ys[r], ys[r + 1]
        # Each grid edge once: bottom and left edges always, top/right only on the outside.
        add_wall((x0, y0), (x1, y0), (k, index[(c, r - 1)]) if (c, r - 1) in index else None)
        add_wall((x0, y0), (x0, y1), (k, index[(c - 1, r)]) if (c - 1, r) in index else None)
        if (c, r + 1) not in index:
            add_wall((x0, y1), (x1, y1))
        if (c + 1, r) not in index:
            add_wall((x1, y0), (x1, y1))
    return rooms, walls, interiors, door_zones


def _footprint(pos, yaw: float, depth: float, width: float) -> _Rect:
    quarter = int(round(yaw / (math.pi / 2))) % 2
    hx, hy = (depth / 2, width / 2) if quarter == 0 else (width / 2, depth / 2)
    return _Rect(pos[0] - hx, pos[1] - hy, pos[0] + hx, pos[1] + hy)


def _front(yaw: float) -> tuple[float, float]:
    return (round(math.cos(yaw)), round(math.sin(yaw)))


def _clearance(body: _Rect, yaw: float, amount: float) -> _Rect:
    fx, fy = _front(yaw)
    return _Rect(
        body.x0 + min(fx, 0) * amount, body.y0 + min(fy, 0) * amount,
        body.x1 + max(fx, 0) * amount, body.y1 + max(fy, 0) * amount,
    )


# Front direction of a piece backed against each wall of a room: west, east, south, north.
_WALL_YAWS = (0.0, math.pi, math.pi / 2, -math.pi / 2)


def _place_furniture(layout: _Layout, rng, room: int, placement: str, size, front_clear: float, all_round: float):
    d, w, _ = size
    inner = layout.interiors[room]
    gap = 0.01
    for _ in range(PLACE_TRIES):
        if placement in ("wall", "corner"):
            side = int(rng.integers(4))
            yaw = _WALL_YAWS[side]
            along = "y" if side < 2 else "x"
            lo, hi = (inner.y0, inner.y1) if along == "y" else (inner.x0, inner.x1)
            if hi - lo < w + 2 * gap:
                continue
            if placement == "corner":
                t = lo + w / 2 + gap if rng.random() < 0.5 else hi - w / 2 - gap
                t = round(t, 4)
            else:
                t = _u(rng, (lo + w / 2 + gap, hi - w / 2 - gap))
            normal = {0: inner.x0 + d / 2 + gap, 1: inner.x1 - d / 2 - gap, 2: inner.y0 + d / 2 + gap, 3: inner.y1 - d / 2 - gap}[side]
            pos = (round(normal, 4), t) if along == "y" else (t, round(normal, 4))
        else:
            yaw = (0.0, math.pi / 2, math.pi, -math.pi / 2)[int(rng.integers(4))]
            half = max(d, w) / 2 + (all_round or 0.6)
            if inner.x1 - inner.x0 < 2 * half or inner.y1 - inner.y0 < 2 * half:
                return None
            pos = (_u(rng, (inner.x0 + half, inner.x1 - half)), _u(rng, (inner.y0 + half, inner.y1 - half)))
        body = _footprint(pos, yaw, d, w)
        clear = _clearance(body, yaw, front_clear)
        if all_round:
            clear = body.grow(all_round)
        if layout.fits(body, clear, room):
            return (pos[0], pos[1], 0.0), yaw, body, clear
    return None


def _place_robot(layout: _Layout, piece: Furniture, info: RobotInfo, ws_kind: str, rng):
    """The robot's base pose (on the floor) facing `piece` and its arm mount height, or None if it does not fit."""
    d, w, h = piece.size
    fx, fy = _front(piece.yaw_rad)
    r = info.footprint_radius_m
    handles = handle_local_positions(piece)
    if ws_kind == "drawer":
        # The arm pulls a handle from ~0.6 m to ~0.35 m in front of its base, with its base ~0.3 m
        # below the top handle: a horizontal grasp close to the arm's own base at base height is
        # outside a Panda's workspace, and the opened drawer then passes over the pedestal.
        travel = float(piece.params.get("travel_m", 0.3))
        dist = max(d / 2 + 0.058 + 0.85 * travel + 0.3, d / 2 + 0.02 + travel + r + 0.04)
        top_handle = max((v[2] for k, v in handles.items() if k.startswith("drawer_")), default=h)
        mount = max(0.3, top_handle - 0.3)
    elif ws_kind == "trolley":
        dist = d / 2 + 0.1 + r + 0.08
        mount = h - 0.1
    elif ws_kind == "shelf":
        # In front of the shelf, the arm's base at the height its hand reaches into the boards from.
        dist = d / 2 + max(r + 0.05, SHELF_STANCE_M)
        mount = shelf_mount_height(piece)
    else:
        dist = d / 2 + r + 0.04
        # The arm's base a little below the surface top keeps the whole top comfortably reachable.
        top = max(s.center[2] for s in piece.surfaces)
        # A table-top arm (SO-101) beside the piece at its top's height, with no draw (the stream
        # of every other robot is unchanged).
        mount = top if info.mount_below_surface_m == 0 else top - _u(rng, (0.0, 0.1))
    info = with_mount_height(info, mount)
    # A fixed arm that cannot set its own mount height (e.g. a Menagerie model) stands on a
    # pedestal the builder adds: its base pose is raised instead.
    lift = 0.0
    if info.has_arm and not info.has_base and not info.adjustable_mount:
        lift = round(max(0.0, mount - info.mount_height_m), 4)
        info = dataclasses.replace(info, mount_height_m=info.mount_height_m + lift)
    pos = (round(piece.pos[0] + fx * dist, 4), round(piece.pos[1] + fy * dist, 4), lift)
    yaw = round(math.atan2(-fy, -fx), 6)
    rect = _Rect(pos[0] - r - 0.03, pos[1] - r - 0.03, pos[0] + r + 0.03, pos[1] + r + 0.03)
    if not rect.inside(layout.interiors[piece.room]):
        return None
    if any(rect.overlaps(o) for o in layout.hard[:-1]) or any(rect.overlaps(o) for o in layout.soft[:-1]):
        return None
    if ws_kind == "drawer" and info.has_arm:
        shoulder = (pos[0], pos[1], info.mount_height_m)
        for key, local in handles.items():
            if key.startswith("drawer_") and _dist3(_to_world(piece, local), shoulder) > 0.85 * info.reach_m:
                return None
    return pos, yaw, rect, info


def shelf_boards(piece: Furniture) -> tuple[int, ...]:
    """Indexes of a shelf's boards among its surfaces, bottom first (its open top panel excluded)."""
    boards = [k for k, s in enumerate(piece.surfaces) if s.clearance_m < 5.0]
    return tuple(sorted(boards, key=lambda k: piece.surfaces[k].center[2]))


def _grasp_height(piece: Furniture, k: int) -> float:
    return piece.pos[2] + piece.surfaces[k].center[2] + SHELF_GRASP_ABOVE_BOARD_M


def shelf_mount_height(piece: Furniture) -> float:
    """The arm's mount height in front of a shelf: the lowest pair of neighbouring boards (room for
    a hand under the board above each) with the lower one in the lower reach band and the upper one
    in the upper band; else SHELF_MOUNT_BELOW_M under the lowest board that leaves the mount at
    least SHELF_MOUNT_M[0] up."""
    usable = [k for k in shelf_boards(piece) if piece.surfaces[k].clearance_m >= SHELF_MIN_CLEARANCE_M]
    (low_lo, low_hi), (up_lo, up_hi) = SHELF_REACH_BANDS_M
    lo, hi = SHELF_MOUNT_M
    for a, b in zip(usable, usable[1:], strict=False):
        ga, gb = _grasp_height(piece, a), _grasp_height(piece, b)
        m0, m1 = max(ga - low_hi, gb - up_hi, lo), min(ga - low_lo, gb - up_lo, hi)
        if m0 <= m1:
            ideal = ((ga - (low_lo + low_hi) / 2) + (gb - (up_lo + up_hi) / 2)) / 2
            return round(min(max(ideal, m0), m1), 4)
    for k in usable:
        mount = _grasp_height(piece, k) - SHELF_MOUNT_BELOW_M
        if mount >= lo:
            return round(min(mount, hi), 4)
    return lo


def shelf_reach_boards(piece: Furniture, mount_z: float) -> tuple[int, ...]:
    """The boards of a shelf an arm mounted at world height `mount_z` in front of it reaches into."""
    return tuple(k for k in shelf_boards(piece) if piece.surfaces[k].clearance_m >= SHELF_MIN_CLEARANCE_M
                 and any(lo - 1e-6 <= _grasp_height(piece, k) - mount_z <= hi + 1e-6 for lo, hi in SHELF_REACH_BANDS_M))


def _shelf_reach_filter(piece: Furniture, info: RobotInfo, base):
    """Points near a shelf's front edge (a hand reaching in from the front gets there), within the
    arm's horizontal reach (the boards' heights are the mount's business)."""
    front = piece.size[0] / 2
    c, s = math.cos(piece.yaw_rad), math.sin(piece.yaw_rad)

    def ok(point) -> bool:
        local_x = c * (point[0] - piece.pos[0]) + s * (point[1] - piece.pos[1])
        horizontal = math.hypot(point[0] - base[0], point[1] - base[1])
        return front - local_x <= SHELF_MAX_DEPTH_M and horizontal <= SHELF_MAX_REACH * info.reach_m

    return ok


def _to_world(piece: Furniture, local) -> tuple[float, float, float]:
    c, s = math.cos(piece.yaw_rad), math.sin(piece.yaw_rad)
    return (piece.pos[0] + c * local[0] - s * local[1], piece.pos[1] + s * local[0] + c * local[1], piece.pos[2] + local[2])


def _dist3(a, b) -> float:
    return math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)))


def _reach_filter(info: RobotInfo, base):
    limit = 0.8 * info.reach_m

    def ok(point) -> bool:
        horizontal = math.hypot(point[0] - base[0], point[1] - base[1])
        return 0.25 <= horizontal and _dist3(point, base) <= limit

    return ok


def _place_object(catalog: Catalog, rng, family: str, piece: Furniture, placed_on, names, reach,
                  boards: tuple[int, ...] | None = None) -> SceneObject | None:
    """An object of `family` resting on one of `piece`'s surfaces (those in `boards` when given)."""
    fam = catalog.families[family]
    dims = family_dims(fam, rng)
    size = family_extents(fam, dims)
    color = fam.colors[int(rng.integers(len(fam.colors)))]
    yaw = _u(rng, (-math.pi, math.pi), 6)
    radius = math.hypot(size[0], size[1]) / 2
    surfaces = [k for k, s in enumerate(piece.surfaces) if s.clearance_m > size[2] + 0.03
                and min(s.half_extents) > radius + OBJECT_MARGIN_M and (boards is None or k in boards)]
    if not surfaces:
        return None
    k = surfaces[int(rng.integers(len(surfaces)))]
    surf: Surface = piece.surfaces[k]
    site = f"furn/{piece.name}/surface_{k}"
    others = placed_on.setdefault(site, [])
    hx, hy = surf.half_extents[0] - radius - OBJECT_MARGIN_M, surf.half_extents[1] - radius - OBJECT_MARGIN_M
    for _ in range(PLACE_TRIES):
        lx, ly = _u(rng, (-hx, hx)), _u(rng, (-hy, hy))
        if any(math.hypot(lx - ox, ly - oy) < radius + orad + OBJECT_MARGIN_M for ox, oy, orad in others):
            continue
        local = (surf.center[0] + lx, surf.center[1] + ly, surf.center[2] + size[2] / 2)
        world = _to_world(piece, local)
        if reach is not None and not reach(world):
            continue
        others.append((lx, ly, radius))
        idx = names.get(family, 0)
        names[family] = idx + 1
        rgb = catalog.colors[color]
        mass = round(max(0.02, fam.density_kg_m3 * family_volume(fam, dims)), 4)
        full_yaw = yaw + piece.yaw_rad
        quat = (math.cos(full_yaw / 2), 0.0, 0.0, math.sin(full_yaw / 2))
        return SceneObject(
            name=f"{family}_{idx}", family=family, category=fam.category, color=color, rgba=(*rgb, 1.0),
            size=size, params=family_params(fam, dims), mass_kg=mass, pos=tuple(round(v, 6) for v in world), quat=quat,
            support=site, receptacle=fam.receptacle,
        )
    return None


def _lights(prog: RoomProgram, rng, rooms: list[Room]) -> tuple[Light, ...]:
    lights = []
    for room in rooms:
        (x0, y0), _, (x1, y1), _ = room.polygon
        for _ in range(_i(rng, prog.lights_per_room)):
            power = _u(rng, prog.light_intensity, 3)
            pos = (_u(rng, (x0 + 0.5, x1 - 0.5), 3), _u(rng, (y0 + 0.5, y1 - 0.5), 3), round(room.wall_height_m - 0.1, 3))
            lights.append(Light(name=f"light_{len(lights)}", pos=pos, dir=(0.0, 0.0, -1.0), diffuse=(power, power, power),
                                castshadow=not lights))
    return tuple(lights)


def look_at_quat(eye, target) -> tuple[float, float, float, float]:
    """Camera quaternion looking from `eye` at `target` with world +z up (MuJoCo cameras look along -z)."""
    fwd = np.asarray(target, float) - np.asarray(eye, float)
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    mat = np.stack([right, up, -fwd], axis=1)
    import mujoco

    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, mat.flatten())
    return tuple(round(float(v), 8) for v in q)


def _cameras(rooms: list[Room], workspace: Furniture, robot_pos) -> tuple[Camera, ...]:
    cams = []
    for k, room in enumerate(rooms):
        (x0, y0), _, (x1, y1), _ = room.polygon
        eye = (x0 + 0.15, y0 + 0.15, room.wall_height_m - 0.15)
        target = ((x0 + x1) / 2, (y0 + y1) / 2, 0.5)
        cams.append(Camera(name=f"overview_{k}", pos=tuple(round(v, 4) for v in eye), quat=look_at_quat(eye, target),
                           fovy_deg=75.0))
    top = max((s.center[2] for s in workspace.surfaces), default=workspace.size[2])
    fx, fy = _front(workspace.yaw_rad)
    d = workspace.size[0]
    # From behind the workspace looking at the robot across it; a piece against a wall keeps the
    # camera above its own back edge so the view never starts inside the wall.
    back = d / 2 + 0.35 if workspace.placement == "center" else d / 2 - 0.05
    eye = (workspace.pos[0] - fx * back, workspace.pos[1] - fy * back, top + 0.75)
    target = (workspace.pos[0] + fx * d * 0.45, workspace.pos[1] + fy * d * 0.45, top + 0.05)
    if workspace.kind == "cabinet":
        # Drawers are on the front: look at it from the front-side, on the roomier side.
        (x0, y0), _, (x1, y1), _ = rooms[workspace.room].polygon
        front = (workspace.pos[0] + fx * (d / 2 + 0.35), workspace.pos[1] + fy * (d / 2 + 0.35))
        options = []
        for side in (1.0, -1.0):
            e = (front[0] - fy * side * 0.75, front[1] + fx * side * 0.75)
            margin = min(e[0] - x0, x1 - e[0], e[1] - y0, y1 - e[1])
            options.append((margin, e))
        margin, (ex, ey) = max(options)
        eye = (ex, ey, top + 0.45)
        target = (workspace.pos[0] + fx * d / 2, workspace.pos[1] + fy * d / 2, top - 0.2)
    cams.append(Camera(name="workspace", pos=tuple(round(v, 4) for v in eye), quat=look_at_quat(eye, target), fovy_deg=70.0))
    return tuple(cams)
