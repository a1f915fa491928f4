"""Decor of a room program (its `decor:` rules): rugs on floors, pictures and mirrors on walls,
lamps, monitors and plants on furniture tops.

Decor pieces are Furniture entries of the SceneSpec (kinds in procgen/furniture.yaml with a `decor:`
placement), sampled after the furniture and objects from the same stream, so a program without
`decor:` draws exactly what it drew before. Floor and wall decor is visual-only (simfarm/scene/
furniture.py) and takes no floor: a rug may lie under a bed or a table. Wall decor keeps clear of
doorways, other decor, and furniture that stands taller than its bottom edge. Surface decor is solid
and rests exactly on a support top, clear of the objects already there (the objects' discs), never
on the robot's workspace piece (the arm works there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simfarm.scene.furniture import furniture_params
from simfarm.scene.sampler import (
    _WALL_YAWS,
    OBJECT_MARGIN_M,
    PLACE_TRIES,
    _footprint,
    _i,
    _Rect,
    _to_world,
    _u,
)
from simfarm.scene.spec import Furniture

# Gallery hanging: a picture's centre 1.45-1.6 m up (57-63 in); a mirror's bottom 1.1-1.3 m
# (above a vanity's splash zone).
ART_CENTER_M = (1.45, 1.6)
MIRROR_BOTTOM_M = (1.1, 1.3)
CEILING_GAP_M = 0.15  # wall decor top at most this close to the ceiling
WALL_END_GAP_M = 0.1  # wall decor this far from a room's corners
DECOR_GAP_M = 0.15  # between two pieces of wall decor
FLOOR_MARGIN_M = 0.3  # rugs this far inside the walls
SURFACE_CLEARANCE_M = 0.02  # free height above surface decor under a shelf board
# Decor nothing collides with (contype 0): on the floor under things or hung on a wall.
VISUAL_ONLY_DECOR = ("rug", "bath_mat", "wall_art", "mirror")
ROUND_DECOR = ("lamp", "plant")  # round footprints, min(depth, width) across (simfarm/scene/furniture.py)


@dataclass(frozen=True)
class DecorRule:
    kind: str
    count: tuple[int, int]  # per room (floor, wall) or per matching piece (surface)
    rooms: str  # main | other | any
    place_on: tuple[str, ...] = ()  # surface decor: furniture kinds it stands on


def parse_decor_rules(c, data: Any, catalog) -> tuple[DecorRule, ...]:
    """Validate a room program's `decor:` list ({kind, count, rooms, place_on}) against the catalog."""
    if not isinstance(data, list):
        raise c.fail("decor", "a list of {kind, count, rooms, place_on}", data)
    decor_kinds = {k for k, fk in catalog.furniture.items() if "decor" in fk.extra}
    out = []
    for i, rule in enumerate(data):
        key = f"decor[{i}]"
        c.mapping(rule, key, {"kind", "count", "rooms", "place_on"}, {"kind", "count"})
        kind = c.choice(rule["kind"], f"{key}.kind", decor_kinds)
        on: tuple[str, ...] = ()
        if catalog.furniture[kind].extra["decor"] == "surface":
            if "place_on" not in rule:
                raise c.fail(f"{key}.place_on", f"furniture kinds a {kind} stands on", None)
            on = c.string_list(rule["place_on"], f"{key}.place_on", catalog.furniture)
            for k in on:
                if not catalog.furniture[k].support:
                    raise c.fail(f"{key}.place_on", "furniture kinds with support surfaces", k)
        elif "place_on" in rule:
            raise c.fail(f"{key}.place_on", f"nothing: a {kind} goes on the {catalog.furniture[kind].extra['decor']}", rule["place_on"])
        out.append(DecorRule(kind=kind, count=c.range(rule["count"], f"{key}.count", 0, 20, integer=True),
                             rooms=c.choice(rule.get("rooms", "any"), f"{key}.rooms", ("main", "other", "any")), place_on=on))
    return tuple(out)


def sample_decor(prog, catalog, rng, rooms, interiors: list[_Rect], door_zones: list[_Rect], furniture: list[Furniture],
                 workspace: Furniture, placed_on: dict[str, list]) -> list[Furniture]:
    """The program's decor pieces: surface rules first, then floor, then wall (which sees the others)."""
    out: list[Furniture] = []
    counters: dict[str, int] = {}
    order = {"surface": 0, "floor": 1, "wall": 2}
    rules = sorted(prog.decor, key=lambda r: order[catalog.furniture[r.kind].extra["decor"]])

    def piece(kind, room, pos, yaw, size, placement, params):
        fk = catalog.furniture[kind]
        name = f"{kind}_{counters.get(kind, 0)}"
        counters[kind] = counters.get(kind, 0) + 1
        mats = {part: f"mat_{role}" for part, role in fk.materials.items()}
        out.append(Furniture(name=name, kind=kind, room=room, pos=tuple(round(v, 6) for v in pos), yaw_rad=yaw, size=size,
                             placement=placement, materials=mats, surfaces=(), params=params))

    def draw(kind):
        fk = catalog.furniture[kind]
        size = (_u(rng, fk.size_m["depth"]), _u(rng, fk.size_m["width"]), _u(rng, fk.size_m["height"]))
        return size, furniture_params(kind, size, rng, fk.extra)

    for rule in rules:
        where = catalog.furniture[rule.kind].extra["decor"]
        if where == "surface":
            for support in list(furniture):
                if support.kind not in rule.place_on or support is workspace:
                    continue
                for _ in range(_i(rng, rule.count)):
                    size, params = draw(rule.kind)
                    spot = _on_surface(rng, support, size, placed_on, round_=rule.kind in ROUND_DECOR)
                    if spot is not None:
                        piece(rule.kind, support.room, spot, support.yaw_rad, size, "on", params)
            continue
        for room in range(len(rooms)):
            if not (rule.rooms == "any" or (rule.rooms == "main") == (room == 0)):
                continue
            for _ in range(_i(rng, rule.count)):
                size, params = draw(rule.kind)
                if where == "floor":
                    placed = _on_floor(rng, interiors[room], size, [f for f in out if f.room == room and f.placement == "floor"])
                else:
                    tall = [f for f in (*furniture, *out) if f.room == room and f.placement != "floor"]
                    placed = _on_wall(rng, rule.kind, interiors[room], rooms[room].wall_height_m, size, door_zones, tall)
                if placed is not None:
                    pos, yaw = placed
                    piece(rule.kind, room, pos, yaw, size, "floor" if where == "floor" else "hung", params)
    return out


def _rect_of(f: Furniture) -> _Rect:
    return _footprint(f.pos, f.yaw_rad, f.size[0], f.size[1])


def _on_surface(rng, support: Furniture, size, placed_on, round_: bool = False):
    """World position of a decor piece's base centre on one of `support`'s tops, clear of what is there."""
    radius = max(size[0], size[1]) / 2 if round_ else math.hypot(size[0], size[1]) / 2
    tops = [k for k, s in enumerate(support.surfaces) if s.clearance_m > size[2] + SURFACE_CLEARANCE_M
            and min(s.half_extents) > radius + OBJECT_MARGIN_M]
    if not tops:
        return None
    k = tops[int(rng.integers(len(tops)))]
    surf = support.surfaces[k]
    others = placed_on.setdefault(f"furn/{support.name}/surface_{k}", [])
    hx, hy = surf.half_extents[0] - radius - OBJECT_MARGIN_M, surf.half_extents[1] - radius - OBJECT_MARGIN_M
    for _ in range(PLACE_TRIES):
        lx, ly = _u(rng, (-hx, hx)), _u(rng, (-hy, hy))
        if any(math.hypot(lx - ox, ly - oy) < radius + orad + OBJECT_MARGIN_M for ox, oy, orad in others):
            continue
        others.append((lx, ly, radius))
        return _to_world(support, (surf.center[0] + lx, surf.center[1] + ly, surf.center[2]))
    return None


def _on_floor(rng, inner: _Rect, size, rugs: list[Furniture]):
    d, w, _ = size
    for _ in range(PLACE_TRIES // 2):
        yaw = (0.0, math.pi / 2)[int(rng.integers(2))]
        hx, hy = (d / 2, w / 2) if yaw == 0.0 else (w / 2, d / 2)
        lo_x, hi_x = inner.x0 + FLOOR_MARGIN_M + hx, inner.x1 - FLOOR_MARGIN_M - hx
        lo_y, hi_y = inner.y0 + FLOOR_MARGIN_M + hy, inner.y1 - FLOOR_MARGIN_M - hy
        if lo_x > hi_x or lo_y > hi_y:
            return None
        pos = (_u(rng, (lo_x, hi_x)), _u(rng, (lo_y, hi_y)), 0.0)
        rect = _footprint(pos, yaw, d, w)
        if not any(rect.overlaps(_rect_of(r).grow(0.1)) for r in rugs):
            return pos, yaw
    return None


def _on_wall(rng, kind: str, inner: _Rect, wall_h: float, size, door_zones: list[_Rect], standing: list[Furniture]):
    """(position of the bottom centre of its footprint against a wall, yaw) of a picture or mirror."""
    d, w, h = size
    for _ in range(PLACE_TRIES):
        side = int(rng.integers(4))
        yaw = _WALL_YAWS[side]
        along_y = side < 2
        lo, hi = (inner.y0, inner.y1) if along_y else (inner.x0, inner.x1)
        lo, hi = lo + w / 2 + WALL_END_GAP_M, hi - w / 2 - WALL_END_GAP_M
        if lo > hi:
            continue
        t = _u(rng, (lo, hi))
        if kind == "mirror":
            bottom = _u(rng, MIRROR_BOTTOM_M)
        else:
            bottom = _u(rng, ART_CENTER_M) - h / 2
        if bottom + h > wall_h - CEILING_GAP_M:
            continue
        normal = {0: inner.x0 + d / 2, 1: inner.x1 - d / 2, 2: inner.y0 + d / 2, 3: inner.y1 - d / 2}[side]
        pos = (round(normal, 4), t, bottom) if along_y else (t, round(normal, 4), bottom)
        strip = _footprint(pos, yaw, d, w)
        if any(strip.overlaps(z) for z in door_zones):
            continue
        clash = False
        for f in standing:
            top = f.pos[2] + f.size[2]
            if f.placement == "hung":
                clash = strip.grow(DECOR_GAP_M).overlaps(_rect_of(f)) and f.pos[2] < bottom + h + DECOR_GAP_M and bottom < top + DECOR_GAP_M
            else:
                clash = strip.overlaps(_rect_of(f).grow(0.05)) and top > bottom - 0.05
            if clash:
                break
        if not clash:
            return pos, yaw
    return None
