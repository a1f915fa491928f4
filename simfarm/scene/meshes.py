"""Procedural object meshes: a few parameters -> a closed visual mesh and a bounded set of convex hulls.

A generator (`GENERATORS`) turns its dimensions (metres, plus shape numbers) into `Shape`: visual
parts (closed triangle meshes, each with a colour role: "body" or "accent") and collision hulls
(point sets; MuJoCo computes each one's convex hull at compile time). Hulls come from the parts a
generator knows it is made of (an exact decomposition, no search): a vessel is its floor plus
sectors of its wall, so the inside stays empty and things can sit in it; a mug adds its handle in
three pieces; a hammer is its handle and head. At most MAX_HULLS per object.

Shapes sit in their own frame: z up, the centre of their bounding box at the origin (the object's
frame, as for the primitive families). Vertices are rounded to 1 micron so a shape is the same bytes
on every machine; each shape is cached by the sha256 of (generator, dims, MESH_VERSION) in a
bounded in-memory LRU (user meshes also as an .npz under the cache folder, written atomically).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from simfarm.errors import SceneError
from simfarm.paths import cache_dir

MESH_VERSION = 2
MAX_HULLS = 16
ROLES = ("body", "accent")  # colour roles of visual parts, in the order geoms are added
_ROUND = 6  # decimals of a metre kept in vertices: 1 micron


@dataclass(frozen=True)
class Shape:
    """Visual parts by colour role and collision hulls, in the object's frame (bbox centre at 0)."""

    key: str  # content hash (hex)
    visual: dict  # role -> (vertices (N, 3) float64, faces (M, 3) int32)
    hulls: tuple  # (K, 3) float64 point sets
    hull_volumes: tuple  # each hull's volume (m^3): masses split by them

    @cached_property
    def extents(self) -> tuple[float, float, float]:
        pts = np.concatenate([v for v, _ in self.visual.values()])
        return tuple(round(float(x), 6) for x in pts.max(0) - pts.min(0))

    def volume(self) -> float:
        """Volume enclosed by the visual parts (each closed; overlaps between parts count twice)."""
        return sum(mesh_volume(v, f) for v, f in self.visual.values())

    @cached_property
    def solid_volume_m3(self) -> float:
        """The volume mass comes from: the visual mesh's when it is closed, else its hulls'."""
        if all(open_edges(f) == 0 for _, f in self.visual.values()):
            return abs(self.volume())
        return float(sum(self.hull_volumes))


def mesh_volume(v: np.ndarray, f: np.ndarray) -> float:
    a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    return float(np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6.0)


def open_edges(f: np.ndarray) -> int:
    """Edges not shared by exactly two faces (0 for a closed, manifold mesh)."""
    e = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
    _, counts = np.unique(e, axis=0, return_counts=True)
    return int((counts != 2).sum())


# ---- building blocks -------------------------------------------------------------------------


class _Builder:
    """Collects closed parts (each oriented outward) and hull point sets in a z-up frame."""

    def __init__(self):
        self.parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"body": [], "accent": []}
        self.hulls: list[np.ndarray] = []

    def part(self, v, f, role: str = "body", hull: bool = False) -> None:
        v, f = np.asarray(v, float), np.asarray(f, np.int64)
        if mesh_volume(v, f) < 0:
            f = f[:, ::-1]
        self.parts[role].append((v, f))
        if hull:
            self.hulls.append(v)

    def shape(self, key: str) -> Shape:
        allv = np.concatenate([v for ps in self.parts.values() for v, _ in ps])
        centre = (allv.max(0) + allv.min(0)) / 2
        visual = {}
        for role, ps in self.parts.items():
            if not ps:
                continue
            vs, fs, n = [], [], 0
            for v, f in ps:
                vs.append(v)
                fs.append(f + n)
                n += len(v)
            visual[role] = (np.round(np.concatenate(vs) - centre, _ROUND), np.concatenate(fs).astype(np.int32))
        hulls = tuple(np.round(h - centre, _ROUND) for h in self.hulls)
        return make_shape(key, visual, hulls)


def make_shape(key: str, visual: dict, hulls) -> Shape:
    """A Shape with its hulls' volumes; SceneError when the hull count is outside 1..MAX_HULLS."""
    from scipy.spatial import ConvexHull

    if not 1 <= len(hulls) <= MAX_HULLS:
        raise SceneError(f"mesh {key[:12]}: {len(hulls)} collision hulls; allowed 1..{MAX_HULLS}")
    vols = tuple(round(float(ConvexHull(h).volume), 12) for h in hulls)
    visual = {r: visual[r] for r in ROLES if r in visual}
    return Shape(key=key, visual=visual, hulls=tuple(hulls), hull_volumes=vols)


def _ring(r: float, z: float, n: int, phase: float = 0.0) -> list[tuple[float, float, float]]:
    return [(r * math.cos(phase + 2 * math.pi * k / n), r * math.sin(phase + 2 * math.pi * k / n), z) for k in range(n)]


def revolve(profile, n: int, closed_loop: bool = False, phase: float = 0.0):
    """Surface of revolution of an (r, z) polyline about z: ends on the axis (r = 0) close it; a
    `closed_loop` profile (off the axis) gives a torus-like closed surface."""
    verts, rings = [], []
    for r, z in profile:
        if r <= 1e-9:
            rings.append([len(verts)])
            verts.append((0.0, 0.0, z))
        else:
            rings.append(list(range(len(verts), len(verts) + n)))
            verts.extend(_ring(r, z, n, phase))
    pairs = list(zip(rings, rings[1:], strict=False)) + ([(rings[-1], rings[0])] if closed_loop else [])
    faces = []
    for a, b in pairs:
        if len(a) == 1 and len(b) == 1:
            continue
        for k in range(n):
            k1 = (k + 1) % n
            if len(a) == 1:
                faces.append((a[0], b[k1], b[k]))
            elif len(b) == 1:
                faces.append((a[k], a[k1], b[0]))
            else:
                faces.append((a[k], a[k1], b[k1]))
                faces.append((a[k], b[k1], b[k]))
    return np.array(verts), np.array(faces)


def simplify(profile, tol: float = 0.0008):
    """Ramer-Douglas-Peucker on an (r, z) polyline: the points a hull needs (qhull's cost is per
    point; collinear wall points add nothing)."""
    pts = np.asarray(profile, float)
    if len(pts) < 3:
        return [tuple(p) for p in pts]
    a, b = pts[0], pts[-1]
    d = b - a
    n = np.hypot(*d)
    dist = np.abs(d[0] * (pts[:, 1] - a[1]) - d[1] * (pts[:, 0] - a[0])) / n if n > 0 else np.hypot(*(pts - a).T)
    i = int(np.argmax(dist))
    if dist[i] <= tol:
        return [tuple(a), tuple(b)]
    return simplify(pts[: i + 1], tol)[:-1] + simplify(pts[i:], tol)


def _sector_points(profile, z0: float, z1: float, a0: float, a1: float, steps: int = 3) -> np.ndarray:
    pts = simplify([(r, z) for r, z in profile if z0 - 1e-9 <= z <= z1 + 1e-9])
    out = []
    for j in range(steps):
        a = a0 + (a1 - a0) * j / (steps - 1)
        out.extend((r * math.cos(a), r * math.sin(a), z) for r, z in pts)
    return np.array(out)


def _band_points(profile, z0: float, z1: float, n: int = 12) -> np.ndarray:
    pts = simplify([(r, z) for r, z in profile if z0 - 1e-9 <= z <= z1 + 1e-9])
    out = []
    for r, z in pts:
        out.extend(_ring(max(r, 1e-5), z, n))
    return np.array(out)


def convex_part(points):
    """A closed mesh of the convex hull of `points` (scipy's qhull; MuJoCo's own qhull for collision)."""
    from scipy.spatial import ConvexHull

    pts = np.asarray(points, float)
    hull = ConvexHull(pts)
    used = np.unique(hull.simplices)
    remap = np.full(len(pts), -1)
    remap[used] = np.arange(len(used))
    v, f = pts[used], remap[hull.simplices]
    # Orient each face away from the centroid (qhull's order is arbitrary).
    c = v.mean(0)
    a, b, d = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
    flip = np.einsum("ij,ij->i", np.cross(b - a, d - a), a - c) < 0
    f[flip] = f[flip][:, ::-1]
    return v, f


def rounded_box_points(hx: float, hy: float, hz: float, bevel: float, center=(0.0, 0.0, 0.0), steps: int = 2):
    """Points of a box with edges rounded by `bevel` (a few directions per corner octant)."""
    b = min(bevel, 0.95 * min(hx, hy, hz))
    dirs = []
    for i in range(steps + 1):
        for j in range(steps + 1 - i):
            k = steps - i - j
            d = np.array([i, j, k], float)
            dirs.append(d / np.linalg.norm(d))
    pts = []
    for sx in (-1, 1):
        for sy in (-1, 1):
            for sz in (-1, 1):
                s = np.array([sx, sy, sz], float)
                corner = s * np.array([hx - b, hy - b, hz - b])
                pts.extend(corner + b * s * d for d in dirs)
    return np.array(pts) + np.asarray(center, float)


def _box(b: _Builder, half, center, bevel=0.0, role="body", hull=True):
    b.part(*convex_part(rounded_box_points(*half, bevel, center)), role=role, hull=hull)


def _tube(path: np.ndarray, radius_n: float, radius_b: float, n: int = 10):
    """A closed tube of elliptic section swept along a path in the xz plane (caps at both ends)."""
    verts, faces = [], []
    m = len(path)
    binormal = np.array([0.0, 1.0, 0.0])
    for j in range(m):
        t = path[min(j + 1, m - 1)] - path[max(j - 1, 0)]
        t /= np.linalg.norm(t)
        normal = np.cross(binormal, t)
        for k in range(n):
            a = 2 * math.pi * k / n
            verts.append(path[j] + radius_n * math.cos(a) * normal + radius_b * math.sin(a) * binormal)
    for j in range(m - 1):
        for k in range(n):
            k1 = (k + 1) % n
            a, b2, c, d = j * n + k, j * n + k1, (j + 1) * n + k1, (j + 1) * n + k
            faces += [(a, b2, c), (a, c, d)]
    c0, c1 = len(verts), len(verts) + 1
    verts += [path[0], path[-1]]
    for k in range(n):
        k1 = (k + 1) % n
        faces.append((c0, k1, k))
        faces.append((c1, (m - 1) * n + k, (m - 1) * n + k1))
    return np.array(verts), np.array(faces)


# ---- generators ------------------------------------------------------------------------------


def _offset_inward(outer):
    """The inside of a wall: the outer (r, z) curve moved by each point's inward normal (scaled later)."""
    out = np.asarray(outer, float)
    normals = []
    for i in range(len(out)):
        t = out[min(i + 1, len(out) - 1)] - out[max(i - 1, 0)]
        t /= np.linalg.norm(t)
        normals.append((-t[1], t[0]))
    return np.array(normals)


def vessel_profile(d: dict):
    """(outer wall curve, full closed profile) of an open vessel: a floor, a wall from the base
    radius out to the rim (curve 0 straight .. 1 bowl-like, bulge for a belly, neck for a vase's
    narrowing), a rounded rim."""
    R, H = d["radius"], d["height"]
    t, floor = d.get("wall_m", 0.004), d.get("floor_m", 0.006)
    base = R * d.get("base", 0.75)
    curve, bulge, neck = d.get("curve", 0.0), d.get("bulge", 0.0), d.get("neck", 0.0)
    top = H - t / 2
    m = 10
    outer = [(0.0, 0.0), (base - min(0.003, base * 0.1), 0.0)]
    for i in range(m + 1):
        s = i / m
        g = (1 - curve) * s + curve * (1 - (1 - s) ** 2)
        r = base + (R - base) * g + bulge * R * math.sin(math.pi * s) - neck * R * max(0.0, s - 0.6) / 0.4
        outer.append((r, max(top * s, 0.0015 if i == 0 else 0.0)))
    wall = np.array(outer[1:])
    inner = wall + t * _offset_inward(wall)
    inner = [(r, z) for r, z in inner if z > floor + 1e-4 and r > 0]
    rim = [(wall[-1][0] - t / 2 + t / 2 * math.cos(a), top + t / 2 * math.sin(a)) for a in np.linspace(0, math.pi, 5)[1:-1]]
    r_floor = inner[0][0] if inner else base - t
    profile = outer + rim + inner[::-1] + [(r_floor, floor), (0.0, floor)]
    return outer, inner, profile, floor, top


def gen_vessel(d: dict, key: str) -> Shape:
    """Cups, mugs, bowls, plates, buckets, pots, vases: an open hollow revolve; `handle: 1` adds a
    mug handle. Hulls: the floor, then `sectors` x `bands` pieces of the wall (inside left empty)."""
    b = _Builder()
    outer, inner, profile, floor, top = vessel_profile(d)
    n = 32
    b.part(*revolve(profile, n))
    sectors, bands = int(d.get("sectors", 8)), int(d.get("bands", 1))
    wall_pts = [p for p in profile if p[0] > 0]
    b.hulls.append(_band_points([p for p in profile if p[1] <= floor + 1e-9], 0.0, floor, 16))
    zs = np.linspace(floor, top + d.get("wall_m", 0.004), bands + 1)
    overlap = 0.02
    for k in range(sectors):
        a0, a1 = 2 * math.pi * k / sectors - overlap, 2 * math.pi * (k + 1) / sectors + overlap
        for j in range(bands):
            z0 = 0.0 if j == 0 else zs[j]
            pts = _sector_points(wall_pts, z0, zs[j + 1], a0, a1)
            if len(pts) >= 4:
                b.hulls.append(pts)
    if d.get("handle", 0) >= 1:
        H = d["height"]
        reach = d.get("handle_reach_m", 0.028)
        z_lo, z_hi = 0.25 * H, 0.78 * H
        zc, hz = (z_lo + z_hi) / 2, (z_hi - z_lo) / 2
        x0 = _radius_at(outer, zc) - d.get("wall_m", 0.004) / 2
        path = np.array([(x0 + (reach + 0.004) * math.sin(a), 0.0, zc + hz * math.cos(a)) for a in np.linspace(0, math.pi, 13)])
        # The ends reach into the wall at their own heights.
        path[0, 0] = _radius_at(outer, path[0, 2]) - 0.002
        path[-1, 0] = _radius_at(outer, path[-1, 2]) - 0.002
        v, f = _tube(path, 0.0045, 0.006)
        b.part(v, f)
        nsec = len(path) * 10
        for lo, hi in ((0, 5), (4, 9), (8, 13)):
            b.hulls.append(v[lo * 10:hi * 10] if hi * 10 <= nsec else v[lo * 10:nsec])
    return b.shape(key)


def _radius_at(outer, z: float) -> float:
    pts = [p for p in outer if p[0] > 0]
    zs, rs = [p[1] for p in pts], [p[0] for p in pts]
    return float(np.interp(z, zs, rs))


def gen_bottle(d: dict, key: str) -> Shape:
    """A bottle or jar: body, shoulder, neck and a cap (the cap is the accent colour). 4 hulls."""
    R, H = d["radius"], d["height"]
    rn = R * d.get("neck", 0.35)
    body_h = H * d.get("body", 0.62)
    cap_h = min(0.025, H * 0.12) * d.get("cap", 1.0)
    neck_top = H - cap_h
    shoulder_top = body_h + (neck_top - body_h) * 0.55
    prof = [(0.0, 0.0), (R * 0.9, 0.0), (R, 0.006), (R, body_h)]
    for a in np.linspace(0, math.pi / 2, 6)[1:]:
        prof.append((rn + (R - rn) * math.cos(a), body_h + (shoulder_top - body_h) * math.sin(a)))
    prof += [(rn, neck_top), (0.0, neck_top)]
    b = _Builder()
    b.part(*revolve(prof, 28))
    rc = rn * 1.12
    cap = [(0.0, neck_top - 0.003), (rc, neck_top - 0.003), (rc, H - 0.0015), (rc - 0.0015, H), (0.0, H)]
    b.part(*revolve(cap, 20), role="accent")
    b.hulls += [_band_points(prof, 0.0, body_h, 16), _band_points(prof, body_h, shoulder_top, 16),
                _band_points(prof, shoulder_top, neck_top, 12), _band_points(cap, neck_top - 0.003, H, 12)]
    return b.shape(key)


def gen_can(d: dict, key: str) -> Shape:
    """A food or drink can: a cylinder with beaded rims and a recessed lid. 1 hull."""
    R, H = d["radius"], d["height"]
    prof = [(0.0, 0.003), (R * 0.82, 0.0), (R * 0.9, 0.0), (R, 0.008), (R, H - 0.008), (R * 0.96, H - 0.003),
            (R * 0.95, H), (R * 0.88, H), (R * 0.86, H - 0.003), (0.0, H - 0.003)]
    b = _Builder()
    b.part(*revolve(prof, 32), hull=False)
    b.hulls.append(_band_points(prof, 0.0, H, 20))
    return b.shape(key)


def gen_round(d: dict, key: str) -> Shape:
    """Fruit, candles, soap-like round solids: a revolve r(s) = radius * squash profile, a small flat
    base so it rests. `kind` 0 apple, 1 orange, 2 lemon, 3 candle (with an accent wick). 1 hull."""
    R, H = d["radius"], d["height"]
    kind = int(d.get("kind", 0))
    m = 14
    prof = [(0.0, 0.0)]
    for i in range(1, m):
        s = i / m
        if kind == 3:
            r = R * min(1.0, 8 * s, 8 * (1 - s) + 0.85)
        elif kind == 2:
            r = R * math.sin(math.pi * s) ** 0.8
        else:
            r = R * math.sin(math.pi * s) ** (0.6 if kind == 0 else 0.5)
        r = max(r, R * 0.3 if i == 1 and kind != 3 else r)
        prof.append((r, H * s))
    dimple = 0.06 * H if kind == 0 else 0.0
    prof.append((0.0, H - dimple))
    b = _Builder()
    b.part(*revolve(prof, 24), hull=True)
    if kind == 3:
        b.part(*revolve([(0.0, H - 0.002), (0.0012, H - 0.002), (0.0012, H + 0.008), (0.0, H + 0.008)], 6), role="accent")
    elif kind == 0:
        b.part(*revolve([(0.0, H - dimple - 0.001), (0.0015, H - dimple - 0.001), (0.0012, H + 0.006), (0.0, H + 0.006)], 6),
               role="accent")
    return b.shape(key)


def gen_ring(d: dict, key: str) -> Shape:
    """A hollow tube standing on end (toilet roll, tape roll, stacking ring): outer radius, hole
    fraction, height. Hulls: `sectors` pieces around the hole (6 by default)."""
    R, H = d["radius"], d["height"]
    ri = R * d.get("hole", 0.45)
    bev = min(0.003, (R - ri) / 4, H / 4)
    prof = [(ri + bev, 0.0), (R - bev, 0.0), (R, bev), (R, H - bev), (R - bev, H), (ri + bev, H), (ri, H - bev), (ri, bev)]
    b = _Builder()
    b.part(*revolve(prof, 32, closed_loop=True))
    sectors = int(d.get("sectors", 6))
    for k in range(sectors):
        a0, a1 = 2 * math.pi * k / sectors - 0.02, 2 * math.pi * (k + 1) / sectors + 0.02
        b.hulls.append(_sector_points(prof, 0.0, H, a0, a1, 4))
    return b.shape(key)


def gen_block(d: dict, key: str) -> Shape:
    """Books, boxes, bricks, boards, soap, sponges, dice: a box with rounded edges (`bevel` as a
    fraction of its smallest half extent); `pages: 1` adds a book's page block (accent). 1 hull."""
    if "side" in d:  # a cube
        hx = hy = hz = d["side"] / 2
    else:
        hx, hy, hz = d["depth"] / 2, d["width"] / 2, d["height"] / 2
    bev = d.get("bevel", 0.15) * min(hx, hy, hz)
    b = _Builder()
    if d.get("pages", 0) >= 1:
        cover = min(0.0025, hz / 4)
        _box(b, (hx, hy, cover), (0, 0, hz - cover), min(bev, cover * 0.9), hull=False)
        _box(b, (hx, hy, cover), (0, 0, -hz + cover), min(bev, cover * 0.9), hull=False)
        _box(b, (0.003, hy, hz), (-hx + 0.003, 0, 0), 0.002, hull=False)
        _box(b, (hx - 0.004, hy - 0.003, hz - cover), (0.0, 0.0, 0.0), 0.0005, role="accent", hull=False)
        b.hulls.append(np.array([(sx * hx, sy * hy, sz * hz) for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]))
    else:
        _box(b, (hx, hy, hz), (0, 0, 0), bev)
    return b.shape(key)


def gen_tray(d: dict, key: str) -> Shape:
    """An open box (bin, tray, crate, basket): a floor and four walls, each its own hull (5)."""
    hx, hy, h = d["depth"] / 2, d["width"] / 2, d["height"]
    t, fl = d.get("wall_m", 0.006), d.get("floor_m", 0.006)
    bev = min(t * 0.45, 0.003)
    b = _Builder()
    _box(b, (hx, hy, fl / 2), (0, 0, fl / 2), bev)
    for sx in (-1, 1):
        _box(b, (t / 2, hy, h / 2), (sx * (hx - t / 2), 0, h / 2), bev)
    for sy in (-1, 1):
        _box(b, (hx - t, t / 2, h / 2), (0, sy * (hy - t / 2), h / 2), bev)
    return b.shape(key)


def _bar_along_x(x0: float, x1: float, hy: float, hz: float, zc: float, bevel: float):
    return rounded_box_points((x1 - x0) / 2, hy, hz, bevel, ((x0 + x1) / 2, 0.0, zc))


def gen_tool(d: dict, key: str) -> Shape:
    """Composed tools lying flat along x, every part's bottom on z = 0 so they rest on all of them.
    `kind` 0 claw hammer (wooden handle, steel head accent), 1 spatula, 2 screwdriver, 3 toothbrush,
    4 wrench. Each part is its own hull (2-4)."""
    L, r = d["length"], d["radius"]
    kind = int(d.get("kind", 0))
    b = _Builder()
    if kind == 0:  # hammer: head across y at the far end, claw curving back
        head_x, head_y, head_z = 0.013, d.get("head_m", 0.05), r * 1.25
        b.part(*convex_part(_bar_along_x(0.0, L - 2 * head_x, r * 1.05, r, r, r * 0.6)), hull=True)
        b.part(*convex_part(rounded_box_points(head_x, head_y * 0.55, head_z, 0.003, (L - head_x, head_y * 0.45, head_z))),
               role="accent", hull=True)
        b.part(*convex_part(rounded_box_points(head_x * 0.8, head_y * 0.45, head_z * 0.75, 0.002,
                                               (L - head_x, -head_y * 0.45, head_z * 0.75))), role="accent", hull=True)
    elif kind in (1, 3):  # spatula / toothbrush: handle and a flat head
        blade_l = L * (0.33 if kind == 1 else 0.14)
        blade_w = d.get("head_m", 0.07)
        blade_t = 0.0025 if kind == 1 else 0.006
        b.part(*convex_part(_bar_along_x(0.0, L - blade_l + 0.005, r * 1.4, r, r, r * 0.7)), hull=True)
        b.part(*convex_part(rounded_box_points(blade_l / 2, blade_w / 2, blade_t / 2, blade_t * 0.45,
                                               (L - blade_l / 2, 0.0, blade_t / 2))), role="accent", hull=True)
        if kind == 3:  # bristles
            b.part(*convex_part(rounded_box_points(blade_l * 0.4, blade_w * 0.4, 0.006, 0.001,
                                                   (L - blade_l / 2, 0.0, blade_t + 0.005))), role="accent", hull=True)
    elif kind == 2:  # screwdriver: hexagonal handle, thin shaft on its axis, flat tip
        hl = L * 0.45
        v, f = revolve([(0.0, 0.0), (r * 0.8, 0.0), (r, 0.01), (r, hl - 0.01), (r * 0.7, hl), (0.0, hl)], 6,
                       phase=math.pi / 6)
        rot = np.array([[0, 0, 1], [0, 1, 0], [-1, 0, 0]], float)  # z -> x
        v = v @ rot.T + np.array([0.0, 0.0, r * math.cos(math.pi / 6)])
        b.part(v, f, hull=True)
        rs = max(0.003, r * 0.25)
        zc = r * math.cos(math.pi / 6)
        b.part(*convex_part(np.array([(x, rs * math.cos(a), zc + rs * math.sin(a)) for x in (hl - 0.005, L - 0.006)
                                      for a in np.linspace(0, 2 * math.pi, 8, endpoint=False)])), role="accent", hull=True)
        b.part(*convex_part(rounded_box_points(0.003, rs * 1.2, rs * 0.35, 0.0003, (L - 0.003, 0.0, zc))),
               role="accent", hull=True)
    elif kind == 4:  # wrench: flat bar and an open jaw at each end
        t = r
        b.part(*convex_part(_bar_along_x(0.02, L - 0.02, r * 0.9, t / 2, t / 2, t * 0.3)), hull=True)
        jaw = d.get("head_m", 0.03)
        for x in (0.0, L - 0.02):
            for sy in (-1, 1):
                b.part(*convex_part(rounded_box_points(0.012, jaw * 0.22, t / 2, t * 0.3, (x + 0.012, sy * jaw * 0.3, t / 2))),
                       hull=True)
    else:
        raise SceneError(f"tool kind {kind} unknown; accepted 0-4")
    return b.shape(key)


def gen_pan(d: dict, key: str) -> Shape:
    """A frying pan: a shallow vessel (floor + 8 wall hulls) and a handle bar (accent, 1 hull)."""
    vd = {"radius": d["radius"], "height": d["height"], "wall_m": 0.004, "floor_m": 0.005, "base": 0.78, "curve": 0.5,
          "sectors": 8}
    b = _Builder()
    outer, _, profile, floor, top = vessel_profile(vd)
    b.part(*revolve(profile, 32))
    wall_pts = [p for p in profile if p[0] > 0]
    b.hulls.append(_band_points([p for p in profile if p[1] <= floor + 1e-9], 0.0, floor, 16))
    for k in range(8):
        a0, a1 = 2 * math.pi * k / 8 - 0.02, 2 * math.pi * (k + 1) / 8 + 0.02
        b.hulls.append(_sector_points(wall_pts, 0.0, top + 0.004, a0, a1))
    R, H = d["radius"], d["height"]
    hl, hr = d["handle_m"], 0.009
    x0 = R - 0.006
    b.part(*convex_part(_bar_along_x(x0, x0 + hl, hr * 1.2, hr * 0.7, H - hr * 0.7 - 0.002, hr * 0.5)), role="accent", hull=True)
    return b.shape(key)


def gen_toy_car(d: dict, key: str) -> Shape:
    """A toy car: body, cabin and four wheels (accent), 6 hulls."""
    L, W, H = d["depth"], d["width"], d["height"]
    wr, ww = H * 0.28, W * 0.16
    b = _Builder()
    _box(b, (L / 2, W / 2 - ww * 0.2, H * 0.2), (0, 0, wr + H * 0.05), H * 0.06)
    _box(b, (L * 0.27, W / 2 - ww * 0.5, H * 0.23), (-L * 0.05, 0, H - H * 0.23), H * 0.08)
    for sx in (-1, 1):
        for sy in (-1, 1):
            pts = [(sx * L * 0.3 + wr * math.cos(a), sy * (W / 2 - ww / 2) + dy, wr + wr * math.sin(a))
                   for a in np.linspace(0, 2 * math.pi, 10, endpoint=False) for dy in (-ww / 2, ww / 2)]
            b.part(*convex_part(np.array(pts)), role="accent", hull=True)
    return b.shape(key)


GENERATORS: dict[str, Callable[[dict, str], Shape]] = {
    "vessel": gen_vessel,
    "bottle": gen_bottle,
    "can": gen_can,
    "round": gen_round,
    "ring": gen_ring,
    "block": gen_block,
    "tray": gen_tray,
    "tool": gen_tool,
    "pan": gen_pan,
    "toy_car": gen_toy_car,
}
# The dimensions each generator needs (the rest of a family's `shape:` numbers are optional);
# a block may give one `side` instead (a cube).
GENERATOR_DIMS = {
    "vessel": ("radius", "height"), "bottle": ("radius", "height"), "can": ("radius", "height"),
    "round": ("radius", "height"), "ring": ("radius", "height"), "block": ("depth", "width", "height"),
    "tray": ("depth", "width", "height"), "tool": ("length", "radius"), "pan": ("radius", "height", "handle_m"),
    "toy_car": ("depth", "width", "height"),
}


# ---- cache -----------------------------------------------------------------------------------

# Shapes in memory, least recently used dropped first: 1,000 kitchen-sized scenes hold ~16,000
# distinct shapes, and a worker must not grow with them (a procedural shape regenerates in 1-5 ms).
MEMO_SIZE = 256
_MEMO: OrderedDict[str, Shape] = OrderedDict()


def shape_key(generator: str, dims: dict) -> str:
    text = json.dumps({"v": MESH_VERSION, "gen": generator, "dims": dims}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def procedural_shape(generator: str, dims: dict) -> Shape:
    """The shape of `generator` with `dims`, from the memory cache or generated (and kept there)."""
    if generator not in GENERATORS:
        raise SceneError(f"unknown mesh generator {generator!r}; accepted: {', '.join(sorted(GENERATORS))}")
    key = shape_key(generator, dims)
    return cached_shape(key, lambda: GENERATORS[generator](dict(dims), key), persist=False)


def cached_shape(key: str, make: Callable[[], Shape], persist: bool = True) -> Shape:
    """A shape from memory, else (with `persist`) from the disk cache, else made (and with
    `persist` saved). Procedural shapes do not persist: there are thousands of distinct ones,
    each cheaper to make than to read; user meshes do (their decomposition is the costly part,
    and a catalog holds few)."""
    shape = _MEMO.get(key)
    if shape is not None:
        _MEMO.move_to_end(key)
        return shape
    path = cache_dir() / "meshes" / f"{key}.npz"
    shape = load_shape(path, key) if persist and path.exists() else None
    if shape is None:
        shape = make()
        if persist:
            save_shape(shape, path)
    _MEMO[key] = shape
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return shape


def save_shape(shape: Shape, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for role, (v, f) in shape.visual.items():
        arrays[f"v_{role}"], arrays[f"f_{role}"] = v, f
    for k, h in enumerate(shape.hulls):
        arrays[f"h_{k}"] = h
    arrays["hull_volumes"] = np.array(shape.hull_volumes)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_shape(path: Path, key: str) -> Shape | None:
    """A cached shape, or None if the file is unreadable (it is then regenerated)."""
    try:
        with np.load(path) as z:
            visual = {r: (z[f"v_{r}"], z[f"f_{r}"]) for r in ROLES if f"v_{r}" in z.files}
            hulls = tuple(z[f"h_{k}"] for k in range(sum(n.startswith("h_") for n in z.files)))
            vols = tuple(float(x) for x in z["hull_volumes"])
    except (OSError, ValueError, KeyError):
        return None
    return Shape(key=key, visual=visual, hulls=hulls, hull_volumes=vols)
