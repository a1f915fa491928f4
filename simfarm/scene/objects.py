"""Procedural object families built from primitives.

Each family turns its sampled dimensions into a bounding box (the sampler's footprint) and a list of
primitive parts (the builder's geoms). An object's frame sits at the centre of its bounding box, so
an object resting on a surface at height z_top has pos z = z_top + size_z / 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from simfarm.errors import SceneError
from simfarm.scene.spec import SceneObject

# Plain ints: comparing pybind11 enums is ~100x slower, and volumes are computed per placement.
_BOX, _CYL, _SPHERE, _CAPSULE = (int(mujoco.mjtGeom.mjGEOM_BOX), int(mujoco.mjtGeom.mjGEOM_CYLINDER),
                                 int(mujoco.mjtGeom.mjGEOM_SPHERE), int(mujoco.mjtGeom.mjGEOM_CAPSULE))
ROLLING = ("ball", "fruit")


@dataclass(frozen=True)
class Part:
    name: str
    type: int
    size: tuple[float, ...]
    pos: tuple[float, float, float]
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)

    def volume(self) -> float:
        s = self.size
        if self.type == _BOX:
            return 8 * s[0] * s[1] * s[2]
        if self.type == _CYL:
            return math.pi * s[0] ** 2 * 2 * s[1]
        if self.type == _SPHERE:
            return 4 / 3 * math.pi * s[0] ** 3
        return math.pi * s[0] ** 2 * 2 * s[1] + 4 / 3 * math.pi * s[0] ** 3


def object_extents(family: str, dims: dict[str, float]) -> tuple[float, float, float]:
    """Bounding box (x, y, z) of a family with the given dimensions."""
    if family == "block":
        return (dims["side"],) * 3
    if family in ("can", "bottle", "bowl", "plate"):
        return (2 * dims["radius"], 2 * dims["radius"], dims["height"])
    if family == "mug":
        return (2 * dims["radius"] + 0.035, 2 * dims["radius"], dims["height"])
    if family in ("ball", "fruit"):
        return (2 * dims["radius"],) * 3
    if family in ("box", "book"):
        return (dims["depth"], dims["width"], dims["height"])
    if family == "bar":
        return (dims["length"], 2 * dims["radius"], 2 * dims["radius"])
    if family == "hammer":
        return (dims["length"], 0.09, 2 * dims["radius"])
    raise SceneError(f"unknown object family {family!r}")


def object_parts(obj: SceneObject) -> list[Part]:
    """The primitive parts of an object, in its own frame (centre of its bounding box)."""
    if is_mesh_object(obj):
        return _mesh_parts(obj)
    dims = obj.params["dims"]
    sx, sy, sz = obj.size
    fam = obj.family
    if fam in ("block", "book"):
        return [Part("body", _BOX, (sx / 2, sy / 2, sz / 2), (0, 0, 0))]
    if fam in ("can", "plate"):
        return [Part("body", _CYL, (dims["radius"], sz / 2), (0, 0, 0))]
    if fam in ("ball", "fruit"):
        return [Part("body", _SPHERE, (dims["radius"],), (0, 0, 0))]
    if fam == "bottle":
        r, h = dims["radius"], sz
        body_h = 0.68 * h
        neck_r = 0.4 * r
        return [
            Part("body", _CYL, (r, body_h / 2), (0, 0, -h / 2 + body_h / 2)),
            Part("neck", _CYL, (neck_r, (h - body_h) / 2), (0, 0, h / 2 - (h - body_h) / 2)),
        ]
    if fam == "mug":
        r, h = dims["radius"], sz
        cx = -0.0175  # the cup sits left of the bbox centre, the handle right
        return [
            Part("body", _CYL, (r, h / 2), (cx, 0, 0)),
            Part("handle", _BOX, (0.006, 0.008, h * 0.32), (cx + r + 0.025, 0, 0)),
            Part("handle_top", _BOX, (0.0145, 0.008, 0.006), (cx + r + 0.0135, 0, h * 0.32 - 0.006)),
            Part("handle_bottom", _BOX, (0.0145, 0.008, 0.006), (cx + r + 0.0135, 0, -h * 0.32 + 0.006)),
        ]
    if fam == "bowl":
        return _open_container(dims["radius"], sz, round_=True)
    if fam == "box":
        return _open_container(None, sz, round_=False, half_xy=(sx / 2, sy / 2))
    if fam == "bar":
        return [Part("body", _BOX, (sx / 2, sy / 2, sz / 2), (0, 0, 0))]
    if fam == "hammer":
        head_x = 0.025
        return [
            Part("handle", _BOX, (sx / 2 - head_x, dims["radius"], sz / 2), (-head_x, 0, 0)),
            Part("head", _BOX, (head_x, sy / 2, sz / 2), (sx / 2 - head_x, 0, 0)),
        ]
    raise SceneError(f"unknown object family {fam!r}")


def _open_container(radius, height, round_: bool, half_xy=(0.0, 0.0)) -> list[Part]:
    wall, floor = 0.006, 0.008
    parts = []
    if round_:
        parts.append(Part("bottom", _CYL, (radius * 0.75, floor / 2), (0, 0, -height / 2 + floor / 2)))
        n = 10
        seg = 2 * radius * math.tan(math.pi / n) / 2 + 0.002
        for k in range(n):
            a = 2 * math.pi * k / n
            c = radius - wall / 2
            # The wall ring leans out like a bowl's rim would; upright boxes keep contacts simple.
            parts.append(Part(f"wall_{k}", _BOX, (wall / 2, seg, height / 2),
                              (c * math.cos(a), c * math.sin(a), 0), (math.cos(a / 2), 0, 0, math.sin(a / 2))))
        return parts
    hx, hy = half_xy
    parts.append(Part("bottom", _BOX, (hx, hy, floor / 2), (0, 0, -height / 2 + floor / 2)))
    parts.append(Part("wall_0", _BOX, (wall / 2, hy, height / 2), (hx - wall / 2, 0, 0)))
    parts.append(Part("wall_1", _BOX, (wall / 2, hy, height / 2), (-hx + wall / 2, 0, 0)))
    parts.append(Part("wall_2", _BOX, (hx - wall, wall / 2, height / 2), (0, hy - wall / 2, 0)))
    parts.append(Part("wall_3", _BOX, (hx - wall, wall / 2, height / 2), (0, -hy + wall / 2, 0)))
    return parts


def add_object(parent: mujoco.MjsBody, obj: SceneObject, material: str | None) -> mujoco.MjsBody:
    """Add the object's free body `obj/<name>` with its parts; masses split by part volume."""
    if is_mesh_object(obj):
        return _add_mesh_object(parent, obj, material)
    name = f"obj/{obj.name}"
    body = parent.add_body(name=name, pos=list(obj.pos), quat=list(obj.quat))
    body.add_freejoint(name=f"{name}/free")
    parts = object_parts(obj)
    total = sum(p.volume() for p in parts)
    rolling = obj.family in ROLLING
    for p in parts:
        size = list(p.size) + [0.0] * (3 - len(p.size))
        kw = {"condim": 6, "friction": [1.0, 0.01, 0.002]} if rolling else {"condim": 4, "friction": [1.0, 0.01, 0.0001]}
        g = body.add_geom(name=f"{name}/{p.name}", type=mujoco.mjtGeom(p.type), size=size, pos=list(p.pos), quat=list(p.quat),
                          mass=obj.mass_kg * p.volume() / total, rgba=list(obj.rgba), **kw)
        if material:
            g.material = material
    return body


def sample_dims(size_m: dict[str, tuple[float, float]], rng: np.random.Generator) -> dict[str, float]:
    """Draw each dimension uniformly from its range (rounded to 0.1 mm so JSON stays short)."""
    return {k: round(float(rng.uniform(lo, hi)), 4) for k, (lo, hi) in sorted(size_m.items())}


def object_volume(family: str, dims: dict[str, float]) -> float:
    """Volume used for the object's mass (solid shapes; containers as their walls)."""
    fake = SceneObject(name="x", family=family, category="", color="", rgba=(1, 1, 1, 1),
                       size=object_extents(family, dims), params={"dims": dims}, mass_kg=1.0,
                       pos=(0, 0, 0), quat=(1, 0, 0, 0), support="")
    return sum(p.volume() for p in object_parts(fake))


# ---- mesh families (procgen/objects.yaml `mesh:` entries and user assets) -----------------------
# A mesh object's params: {"dims": {...}, "mesh": <generator in simfarm.scene.meshes, or "user">,
# "accent_rgba": [...] (optional), "asset": {...} (user assets)}. Its visual meshes are drawn, its
# convex hulls collide (group 3, hidden); mass = density x the visual mesh's volume, split over
# the hulls by their volumes, inertia from MuJoCo.

HULL_GROUP = 3


def is_mesh_object(obj: SceneObject) -> bool:
    return "mesh" in obj.params


def object_shape(obj: SceneObject):
    """The object's Shape (simfarm.scene.meshes), from the cache or generated."""
    if obj.params["mesh"] == "user":
        from simfarm.scene.assets import asset_shape

        return asset_shape(obj.params["asset"], obj.params["dims"])
    from simfarm.scene.meshes import procedural_shape

    return procedural_shape(obj.params["mesh"], obj.params["dims"])


def family_dims(fam, rng: np.random.Generator) -> dict[str, float]:
    """A family's sampled dimensions; mesh families add their `shape:` ranges (drawn with the
    sizes, in one sorted pass) and constants. Primitive families draw exactly as before."""
    ranges = dict(fam.size_m)
    fixed = {}
    for k, v in getattr(fam, "shape", {}).items():
        if isinstance(v, tuple):
            ranges[k] = v
        else:
            fixed[k] = v
    dims = sample_dims(ranges, rng)
    dims.update(fixed)
    return dict(sorted(dims.items()))


def family_params(fam, dims: dict) -> dict:
    if not getattr(fam, "mesh", None):
        return {"dims": dims}
    params = {"dims": dims, "mesh": fam.mesh}
    if fam.accent_rgb is not None:
        params["accent_rgba"] = [*fam.accent_rgb, 1.0]
    if fam.asset is not None:
        params["asset"] = dict(fam.asset)
    return params


def family_extents(fam, dims: dict) -> tuple[float, float, float]:
    if not getattr(fam, "mesh", None):
        return object_extents(fam.family, dims)
    return object_shape(_probe(fam, dims)).extents


def family_volume(fam, dims: dict) -> float:
    if not getattr(fam, "mesh", None):
        return object_volume(fam.family, dims)
    return object_shape(_probe(fam, dims)).solid_volume_m3


def _probe(fam, dims) -> SceneObject:
    return SceneObject(name="x", family=fam.family, category="", color="", rgba=(1, 1, 1, 1), size=(0, 0, 0),
                       params=family_params(fam, dims), mass_kg=1.0, pos=(0, 0, 0), quat=(1, 0, 0, 0), support="")


def _mesh_parts(obj: SceneObject) -> list[Part]:
    """Boxes around each collision hull: what code that reasons about primitive parts sees."""
    parts = []
    for k, h in enumerate(object_shape(obj).hulls):
        lo, hi = h.min(0), h.max(0)
        parts.append(Part(f"hull_{k}", _BOX, tuple(float(x) for x in (hi - lo) / 2),
                          tuple(float(x) for x in (hi + lo) / 2)))
    return parts


def _add_mesh_object(parent: mujoco.MjsBody, obj: SceneObject, material: str | None) -> mujoco.MjsBody:
    shape = object_shape(obj)
    # Meshes are assets of an MjSpec and a body does not know its spec: build the object in its
    # own spec and attach it (prefix "obj/" makes every name obj/<name>/...).
    child = mujoco.MjSpec()
    child.default.name = f"{obj.name}/default"  # attached specs bring their default class: one name each
    body = child.worldbody.add_body(name=obj.name, pos=list(obj.pos), quat=list(obj.quat))
    body.add_freejoint(name=f"{obj.name}/free")
    accent = list(obj.params.get("accent_rgba") or obj.rgba)
    for role, (v, f) in shape.visual.items():
        mesh = f"{obj.name}/{role}"
        child.add_mesh(name=mesh, uservert=v.ravel().tolist(), userface=f.ravel().tolist(),
                       inertia=mujoco.mjtMeshInertia.mjMESH_INERTIA_SHELL)
        g = body.add_geom(name=f"{obj.name}/visual_{role}", type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mesh, contype=0,
                          conaffinity=0, mass=0.0, rgba=accent if role == "accent" else list(obj.rgba))
        if material:
            g.material = material
    rolling = obj.params["mesh"] == "round" and obj.params["dims"].get("kind", 0) != 3
    kw = {"condim": 6, "friction": [1.0, 0.01, 0.002]} if rolling else {"condim": 4, "friction": [1.0, 0.01, 0.0001]}
    total = sum(shape.hull_volumes)
    for k, (h, vol) in enumerate(zip(shape.hulls, shape.hull_volumes, strict=True)):
        mesh = f"{obj.name}/hull_{k}"
        child.add_mesh(name=mesh, uservert=h.ravel().tolist())
        body.add_geom(name=f"{obj.name}/hull_{k}", type=mujoco.mjtGeom.mjGEOM_MESH, meshname=mesh, group=HULL_GROUP,
                      mass=obj.mass_kg * vol / total, rgba=list(obj.rgba), **kw)
    frame = parent.add_frame()
    return frame.attach_body(body, "obj/", "")
