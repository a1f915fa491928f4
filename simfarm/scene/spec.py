"""SceneSpec: a procedural scene as pure data (rooms, walls, furniture, objects, lights, cameras,
materials, robot), serializable to JSON and back without loss, with a stable content hash.

Conventions: lengths in metres, angles in radians, quaternions (w, x, y, z), colours RGBA in [0, 1].
A furniture piece's local frame has its origin on the floor at the centre of its footprint, local
+x is its front (where drawers open and the robot stands), width runs along local y.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from simfarm.errors import SceneError

SPEC_VERSION = 1

Vec2 = tuple[float, float]
Vec3 = tuple[float, float, float]
Vec4 = tuple[float, float, float, float]


# Fields added after version 1 carry OMIT_DEFAULT: left out of the JSON while they hold their
# default, so stored specs read back unchanged and keep their content hash.
OMIT_DEFAULT = {"omit_default": True}


@dataclass(frozen=True)
class Texture:
    """A MuJoCo builtin procedural texture (survives MJCF export: no image files), or with
    builtin "image" a procedural image (simfarm/scene/textures.py): a pure function of `params`
    (pattern, colors, seed, ...) and `size_px`, cached as PNG; `family` names its material family."""

    name: str
    builtin: str  # "checker" | "gradient" | "flat" | "image"
    rgb1: Vec3
    rgb2: Vec3
    mark: str = "none"  # "none" | "edge" | "cross" | "random"
    markrgb: Vec3 = (0.0, 0.0, 0.0)
    random: float = 0.0  # fraction of texels painted markrgb when mark == "random"
    size_px: int = 256
    family: str = field(default="", metadata=OMIT_DEFAULT)
    params: dict[str, Any] = field(default_factory=dict, metadata=OMIT_DEFAULT)


@dataclass(frozen=True)
class Material:
    name: str
    rgba: Vec4
    texture: str | None = None
    texrepeat: Vec2 = (1.0, 1.0)
    specular: float = 0.3
    shininess: float = 0.3
    reflectance: float = 0.0
    # texuniform: texrepeat counts repeats per metre (an image covers 1 / texrepeat m), not per face.
    texuniform: bool = field(default=False, metadata=OMIT_DEFAULT)
    roughness: float = field(default=-1.0, metadata=OMIT_DEFAULT)  # -1: MuJoCo's default
    metallic: float = field(default=-1.0, metadata=OMIT_DEFAULT)
    emission: float = field(default=0.0, metadata=OMIT_DEFAULT)


@dataclass(frozen=True)
class Opening:
    """A doorway in a wall: `offset_m` from the wall's start to the opening's centre."""

    offset_m: float
    width_m: float
    height_m: float


@dataclass(frozen=True)
class Wall:
    name: str
    start: Vec2
    end: Vec2
    thickness_m: float
    height_m: float
    material: str
    openings: tuple[Opening, ...] = ()


@dataclass(frozen=True)
class Room:
    name: str
    kind: str
    polygon: tuple[Vec2, ...]  # counter-clockwise corners of the interior floor
    floor_material: str
    wall_height_m: float


@dataclass(frozen=True)
class Surface:
    """A support surface in the furniture's local frame: centre of the top face, half extents."""

    center: Vec3
    half_extents: Vec2
    clearance_m: float  # free height above it (shelf boards); large for open tops


@dataclass(frozen=True)
class Furniture:
    name: str
    kind: str
    room: int
    pos: Vec3
    yaw_rad: float
    size: Vec3  # depth (local x), width (local y), height (z)
    placement: str  # "wall" | "corner" | "center" | "fixed"
    materials: dict[str, str]  # role ("body", "top", "handle", ...) -> material name
    surfaces: tuple[Surface, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)  # kind-specific: drawers, door, shelves


@dataclass(frozen=True)
class SceneObject:
    name: str
    family: str
    category: str
    color: str
    rgba: Vec4
    size: Vec3  # bounding box extents (x, y, z) in the object's frame
    params: dict[str, Any]
    mass_kg: float
    pos: Vec3  # centre of the object's frame in the world
    quat: Vec4
    support: str  # site name of the surface it rests on, e.g. "furn/table_0/surface_0"
    receptacle: bool = False


@dataclass(frozen=True)
class Light:
    name: str
    pos: Vec3
    dir: Vec3
    diffuse: Vec3
    directional: bool = False
    castshadow: bool = False
    ambient: Vec3 = field(default=(0.0, 0.0, 0.0), metadata=OMIT_DEFAULT)
    cutoff_deg: float = field(default=0.0, metadata=OMIT_DEFAULT)  # 0: the builder's default (80 spot, 45 directional)


@dataclass(frozen=True)
class Camera:
    name: str
    pos: Vec3
    quat: Vec4
    fovy_deg: float = 60.0


@dataclass(frozen=True)
class RobotPlacement:
    name: str
    params: dict[str, Any]
    pos: Vec3  # base position on the floor; z > 0 only for an arm raised on the scene pedestal `robot/pedestal`
    yaw_rad: float


@dataclass(frozen=True)
class SceneSpec:
    program: str
    seed: tuple[int, ...]  # entropy of the generator that sampled it (for provenance)
    style: str
    rooms: tuple[Room, ...]
    walls: tuple[Wall, ...]
    furniture: tuple[Furniture, ...]
    objects: tuple[SceneObject, ...]
    lights: tuple[Light, ...]
    cameras: tuple[Camera, ...]
    materials: tuple[Material, ...]
    textures: tuple[Texture, ...]
    robot: RobotPlacement | None
    workspace: str | None  # name of the furniture the robot faces
    workspace_kind: str | None = None  # "surface" | "drawer" | "trolley"
    version: int = SPEC_VERSION

    def to_dict(self) -> dict[str, Any]:
        return _to_jsonable(self)

    def to_json(self, indent: int | None = None) -> str:
        """Canonical JSON (sorted keys); floats written with repr, so they read back exactly."""
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SceneSpec:
        return _from_jsonable(cls, data, "spec")

    @classmethod
    def from_json(cls, text: str) -> SceneSpec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SceneError(f"SceneSpec JSON is malformed: {exc}") from exc
        return cls.from_dict(data)

    def content_hash(self) -> str:
        """sha256 of the canonical JSON: equal for equal scenes across processes and machines."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    # -- lookups tasks use -----------------------------------------------------------------
    def furniture_named(self, name: str) -> Furniture:
        for f in self.furniture:
            if f.name == name:
                return f
        raise SceneError(f"no furniture named {name!r}; this scene has: {', '.join(f.name for f in self.furniture)}")

    def object_named(self, name: str) -> SceneObject:
        for o in self.objects:
            if o.name == name:
                return o
        raise SceneError(f"no object named {name!r}; this scene has: {', '.join(o.name for o in self.objects)}")

    def workspace_objects(self) -> tuple[SceneObject, ...]:
        """Objects resting on the workspace furniture."""
        if self.workspace is None:
            return ()
        prefix = f"furn/{self.workspace}/"
        return tuple(o for o in self.objects if o.support.startswith(prefix))


def _to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not (f.metadata.get("omit_default") and getattr(value, f.name) == _default_of(f))}
    if isinstance(value, (tuple, list)):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    raise SceneError(f"SceneSpec holds a value JSON cannot carry: {value!r} ({type(value).__name__})")


def _default_of(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


_HINTS: dict[type, dict[str, Any]] = {}


def _from_jsonable(tp: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise SceneError(f"{where}: expected an object for {tp.__name__}, got {type(data).__name__}")
        hints = _HINTS.get(tp) or _HINTS.setdefault(tp, typing.get_type_hints(tp))
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SceneError(f"{where}.{unknown[0]}: unknown key for {tp.__name__}; accepted: {', '.join(sorted(names))}")
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = _from_jsonable(hints[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SceneError(f"{where}.{f.name}: missing key for {tp.__name__}")
        return tp(**kwargs)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _from_jsonable(inner[0], data, where)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(data, list):
            raise SceneError(f"{where}: expected a list, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_jsonable(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise SceneError(f"{where}: expected {len(args)} values, got {len(data)}")
        return tuple(_from_jsonable(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True)))
    if origin is dict:
        return {k: _freeze_any(v) for k, v in data.items()}
    if tp is float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise SceneError(f"{where}: expected a number, got {data!r}")
        return float(data)
    if tp is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise SceneError(f"{where}: expected an integer, got {data!r}")
        return data
    if tp is str:
        if not isinstance(data, str):
            raise SceneError(f"{where}: expected a string, got {data!r}")
        return data
    if tp is bool:
        if not isinstance(data, bool):
            raise SceneError(f"{where}: expected true/false, got {data!r}")
        return data
    return _freeze_any(data)


def _freeze_any(value: Any) -> Any:
    # Free-form params keep lists as lists so a round trip re-serializes identically.
    return value
