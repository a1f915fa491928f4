"""Catalogs (procgen/furniture.yaml, objects.yaml, styles.yaml) and room programs (procgen/rooms/*.yaml).

Each file is validated when loaded; a malformed one raises ConfigError naming the file, the key and
what was expected. Adding a room type needs only a new YAML file under procgen/rooms/.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from simfarm.errors import ConfigError
from simfarm.paths import procgen_dir
from simfarm.scene.schema import Checker, load_yaml

FURNITURE_KINDS = ("table", "counter", "shelf", "cabinet", "chair", "sofa", "workbench", "trolley",
                   # bedrooms, offices, bathrooms, warehouses; decor (rooms' `decor:` rules, simfarm/scene/decor.py)
                   "desk", "nightstand", "dresser", "bed", "wardrobe", "vanity", "toilet", "bathtub", "rack", "pallet",
                   "rug", "bath_mat", "wall_art", "mirror", "lamp", "monitor", "plant")
DECOR_PLACEMENTS = ("floor", "wall", "surface")  # furniture.yaml `decor:` of a decor kind
# Fixtures furniture.yaml may describe beside the kinds, and the room-program key that places them.
FIXTURE_KINDS = ("button",)
PROGRAM_FIXTURES = {"buttons": "button"}
MATERIAL_ROLES = ("wood", "paint", "stone", "metal", "fabric", "rubber")
PLACEMENTS = ("wall", "corner", "center")
WORKSPACE_KINDS = ("surface", "drawer", "trolley", "shelf")
TEXTURE_BUILTINS = ("checker", "gradient", "flat")
TEXTURE_MARKS = ("none", "edge", "cross", "random")
# The dimension names each object family's size_m must give (shape code in objects.py).
FAMILY_DIMS = {
    "block": ("side",),
    "can": ("radius", "height"),
    "bottle": ("radius", "height"),
    "mug": ("radius", "height"),
    "bowl": ("radius", "height"),
    "plate": ("radius", "height"),
    "ball": ("radius",),
    "box": ("depth", "width", "height"),
    "book": ("depth", "width", "height"),
    "bar": ("length", "radius"),
    "hammer": ("length", "radius"),
    "fruit": ("radius",),
}


@dataclass(frozen=True)
class FurnitureKind:
    kind: str
    size_m: dict[str, tuple[float, float]]  # depth, width, height
    support: bool
    front_clearance_m: float
    materials: dict[str, str]  # part role -> style role
    extra: dict[str, Any]  # shelves, drawers, door


@dataclass(frozen=True)
class ButtonKind:
    """Push buttons (furniture.yaml `button`): which tops carry them and what they look like."""

    mounted_on: tuple[str, ...]  # furniture kinds whose top may carry buttons
    cap_diameter_m: tuple[float, float]
    travel_m: tuple[float, float]
    shapes: tuple[str, ...]  # round | square
    colors: tuple[str, ...]  # names in objects.yaml `colors`


@dataclass(frozen=True)
class ObjectFamily:
    family: str
    category: str
    size_m: dict[str, tuple[float, float]]
    density_kg_m3: float
    colors: tuple[str, ...]
    receptacle: bool
    # Mesh families (simfarm/scene/assets.py parses them): generator or "user", shape numbers
    # (ranges drawn with the sizes, or constants), task attributes, a fixed accent colour.
    mesh: str | None = None
    shape: dict[str, Any] = field(default_factory=dict)
    attributes: tuple[str, ...] = ()
    accent_rgb: tuple[float, float, float] | None = None
    asset: dict[str, Any] | None = None


@dataclass(frozen=True)
class TextureStyle:
    builtin: str
    rgb1: tuple[float, float, float]
    rgb2: tuple[float, float, float]
    mark: str
    markrgb: tuple[float, float, float]
    random: float
    repeat: float


@dataclass(frozen=True)
class Palette:
    name: str
    floor: TextureStyle
    wall: TextureStyle
    roles: dict[str, tuple[float, float, float]]
    # Material families (procgen/materials.yaml) per surface: floor, wall and each role; empty: builtins only.
    materials: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class FurnitureRule:
    kind: str
    placement: str
    count: tuple[int, int]
    rooms: str  # main | other | any


@dataclass(frozen=True)
class ObjectRule:
    on: tuple[str, ...]
    families: tuple[str, ...]
    count: tuple[int, int]  # objects per matching furniture piece


@dataclass(frozen=True)
class RoomProgram:
    name: str
    path: str
    room_count: tuple[int, int]
    width_m: tuple[float, float]
    depth_m: tuple[float, float]
    wall_height_m: tuple[float, float]
    wall_thickness_m: float
    doorway_width_m: tuple[float, float]
    doorway_height_m: tuple[float, float]
    styles: tuple[str, ...]
    lights_per_room: tuple[int, int]
    light_intensity: tuple[float, float]
    workspace: dict[str, tuple[str, ...]]
    furniture: tuple[FurnitureRule, ...]
    objects: tuple[ObjectRule, ...]
    # Fixtures per piece, e.g. {"buttons": (0, 2)}; empty: none (the scene's draws are unchanged).
    fixtures: dict[str, tuple[int, int]] = field(default_factory=dict)
    # User asset families (`assets:` folders, simfarm/scene/assets.py) by name "user:<name>".
    extra_families: dict[str, ObjectFamily] = field(default_factory=dict)
    decor: tuple = ()  # simfarm.scene.decor.DecorRule; empty: none (the scene's draws are unchanged)


@dataclass(frozen=True)
class Catalog:
    furniture: dict[str, FurnitureKind]
    families: dict[str, ObjectFamily]
    colors: dict[str, tuple[float, float, float]]
    palettes: dict[str, Palette]
    button: ButtonKind | None = None


def available_programs() -> tuple[str, ...]:
    """Names of the room programs under procgen/rooms/."""
    return tuple(sorted(p.stem for p in (procgen_dir() / "rooms").glob("*.yaml")))


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Furniture, object and style catalogs from procgen/ (validated, cached)."""
    root = procgen_dir()
    furniture = _parse_furniture(root / "furniture.yaml")
    objects = _parse_objects(root / "objects.yaml")
    return Catalog(
        furniture=furniture,
        **objects,
        palettes=_parse_styles(root / "styles.yaml"),
        button=_parse_button(root / "furniture.yaml", furniture, objects["colors"]),
    )


def load_program(name_or_path: str | Path) -> RoomProgram:
    """A room program by name (procgen/rooms/<name>.yaml) or by path to a YAML file."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text:
        return _load_program_file(str(Path(text).resolve()))
    path = procgen_dir() / "rooms" / f"{text}.yaml"
    if not path.exists():
        raise ConfigError(f"scene: unknown room program {text!r}; accepted: {', '.join(available_programs())}, tabletop")
    return _load_program_file(str(path))


@lru_cache(maxsize=64)
def _load_program_file(path: str) -> RoomProgram:
    data = load_yaml(Path(path))
    return parse_program(data, path, load_catalog())


def parse_program(data: Any, path: str, catalog: Catalog) -> RoomProgram:
    """Validate a parsed room program against the catalogs."""
    c = Checker(path)
    top = {"name", "rooms", "doorway", "styles", "lights", "workspace", "furniture", "objects", "fixtures", "decor",
           "assets"}
    c.mapping(data, "", allowed=top, required=top - {"doorway", "fixtures", "decor", "assets"})
    extra = {}
    if "assets" in data:  # user asset folders (simfarm/scene/assets.py): families user:<name>
        from simfarm.scene.assets import load_asset_folder

        for folder in c.string_list(data["assets"], "assets"):
            extra.update(load_asset_folder(Path(path).parent / folder, catalog.colors))
        catalog = replace(catalog, families={**catalog.families, **extra})
    if not isinstance(data["name"], str) or not data["name"]:
        raise c.fail("name", "a non-empty string", data["name"])
    rooms = c.mapping(data["rooms"], "rooms", {"count", "width_m", "depth_m", "wall_height_m", "wall_thickness_m"},
                      {"count", "width_m", "depth_m", "wall_height_m"})
    count = c.range(rooms["count"], "rooms.count", 1, 4, integer=True)
    width = c.range(rooms["width_m"], "rooms.width_m", 1.0, 20.0)
    depth = c.range(rooms["depth_m"], "rooms.depth_m", 1.0, 20.0)
    wall_h = c.range(rooms["wall_height_m"], "rooms.wall_height_m", 2.0, 6.0)
    thick = c.number(rooms.get("wall_thickness_m", 0.1), "rooms.wall_thickness_m", 0.02, 0.5)
    door = c.mapping(data.get("doorway", {"width_m": [0.8, 1.0], "height_m": [2.0, 2.1]}), "doorway",
                     {"width_m", "height_m"}, {"width_m", "height_m"})
    door_w = c.range(door["width_m"], "doorway.width_m", 0.5, 3.0)
    door_h = c.range(door["height_m"], "doorway.height_m", 1.5, 3.0)
    if door_h[1] > wall_h[0]:
        raise c.fail("doorway.height_m", f"at most the lowest wall height {wall_h[0]}", door["height_m"])
    styles = c.string_list(data["styles"], "styles", catalog.palettes)
    lights = c.mapping(data["lights"], "lights", {"per_room", "intensity"}, {"per_room", "intensity"})
    per_room = c.range(lights["per_room"], "lights.per_room", 1, 8, integer=True)
    intensity = c.range(lights["intensity"], "lights.intensity", 0.0, 1.0)
    ws = c.mapping(data["workspace"], "workspace", set(WORKSPACE_KINDS))
    workspace = {k: c.string_list(v, f"workspace.{k}", catalog.furniture) for k, v in ws.items()}
    if not isinstance(data["furniture"], list) or not data["furniture"]:
        raise c.fail("furniture", "a non-empty list of {kind, placement, count, rooms}", data["furniture"])
    furniture = []
    for i, rule in enumerate(data["furniture"]):
        key = f"furniture[{i}]"
        c.mapping(rule, key, {"kind", "placement", "count", "rooms"}, {"kind", "placement", "count"})
        furniture.append(
            FurnitureRule(
                kind=c.choice(rule["kind"], f"{key}.kind", catalog.furniture),
                placement=c.choice(rule["placement"], f"{key}.placement", PLACEMENTS),
                count=c.range(rule["count"], f"{key}.count", 0, 20, integer=True),
                rooms=c.choice(rule.get("rooms", "any"), f"{key}.rooms", ("main", "other", "any")),
            )
        )
    if not isinstance(data["objects"], list):
        raise c.fail("objects", "a list of {place_on, families, count}", data["objects"])
    objects = []
    for i, rule in enumerate(data["objects"]):
        key = f"objects[{i}]"
        c.mapping(rule, key, {"place_on", "families", "count"}, {"place_on", "families", "count"})
        on = c.string_list(rule["place_on"], f"{key}.place_on", catalog.furniture)
        for kind in on:
            if not catalog.furniture[kind].support:
                raise c.fail(f"{key}.place_on", "furniture kinds with support surfaces", kind)
        objects.append(
            ObjectRule(
                on=on,
                families=c.string_list(rule["families"], f"{key}.families", catalog.families),
                count=c.range(rule["count"], f"{key}.count", 0, 200, integer=True),
            )
        )
    fixtures = {}
    for key, value in c.mapping(data.get("fixtures", {}), "fixtures", set(PROGRAM_FIXTURES)).items():
        if getattr(catalog, PROGRAM_FIXTURES[key], None) is None:
            raise c.fail(f"fixtures.{key}", f"a `{PROGRAM_FIXTURES[key]}` entry in furniture.yaml", value)
        fixtures[key] = c.range(value, f"fixtures.{key}", 0, 8, integer=True)
    from simfarm.scene.decor import parse_decor_rules

    decor = parse_decor_rules(c, data.get("decor", []), catalog)
    return RoomProgram(
        name=data["name"], path=path, room_count=count, width_m=width, depth_m=depth, wall_height_m=wall_h,
        wall_thickness_m=thick, doorway_width_m=door_w, doorway_height_m=door_h, styles=styles,
        lights_per_room=per_room, light_intensity=intensity, workspace=workspace,
        furniture=tuple(furniture), objects=tuple(objects), fixtures=fixtures, decor=decor, extra_families=extra,
    )


def _parse_furniture(path: Path) -> dict[str, FurnitureKind]:
    data, c = load_yaml(path), Checker(path)
    c.mapping(data, "", allowed=set(FURNITURE_KINDS) | set(FIXTURE_KINDS))
    out = {}
    for kind, entry in data.items():
        if kind in FIXTURE_KINDS:
            continue
        c.mapping(entry, kind, {"size_m", "support", "front_clearance_m", "materials", "shelves", "drawers", "door", "decor"},
                  {"size_m", "support", "materials"})
        size = c.mapping(entry["size_m"], f"{kind}.size_m", {"depth", "width", "height"}, {"depth", "width", "height"})
        mats = c.mapping(entry["materials"], f"{kind}.materials")
        for part, role in mats.items():
            c.choice(role, f"{kind}.materials.{part}", MATERIAL_ROLES)
        extra = {}
        if "shelves" in entry:
            extra["shelves"] = c.range(entry["shelves"], f"{kind}.shelves", 1, 8, integer=True)
        if "drawers" in entry:
            extra["drawers"] = c.range(entry["drawers"], f"{kind}.drawers", 0, 4, integer=True)
        if "door" in entry:
            extra["door"] = bool(entry["door"])
        if "decor" in entry:
            extra["decor"] = c.choice(entry["decor"], f"{kind}.decor", DECOR_PLACEMENTS)
        out[kind] = FurnitureKind(
            kind=kind,
            size_m={k: c.range(v, f"{kind}.size_m.{k}", 0.005, 5.0) for k, v in size.items()},
            support=bool(entry["support"]),
            front_clearance_m=c.number(entry.get("front_clearance_m", 0.3), f"{kind}.front_clearance_m", 0.0, 3.0),
            materials=dict(mats),
            extra=extra,
        )
    return out


def _parse_button(path: Path, furniture: dict[str, FurnitureKind], colors: dict) -> ButtonKind | None:
    entry, c = load_yaml(path).get("button"), Checker(path)
    if entry is None:
        return None
    keys = {"mounted_on", "cap_diameter_m", "travel_m", "shapes", "colors"}
    c.mapping(entry, "button", keys, keys)
    mounted = c.string_list(entry["mounted_on"], "button.mounted_on", ("table", "counter", "workbench"))
    for kind in mounted:
        c.choice(kind, "button.mounted_on", furniture)
    return ButtonKind(
        mounted_on=mounted,
        cap_diameter_m=c.range(entry["cap_diameter_m"], "button.cap_diameter_m", 0.01, 0.1),
        travel_m=c.range(entry["travel_m"], "button.travel_m", 0.002, 0.02),
        shapes=c.string_list(entry["shapes"], "button.shapes", ("round", "square")),
        colors=c.string_list(entry["colors"], "button.colors", colors),
    )


def _parse_objects(path: Path) -> dict[str, Any]:
    data, c = load_yaml(path), Checker(path)
    c.mapping(data, "", {"colors", "families"}, {"colors", "families"})
    colors = {name: c.rgb(v, f"colors.{name}") for name, v in c.mapping(data["colors"], "colors").items()}
    families = {}
    from simfarm.scene.assets import parse_mesh_family

    for fam, entry in c.mapping(data["families"], "families").items():
        key = f"families.{fam}"
        if isinstance(entry, dict) and "mesh" in entry:
            families[fam] = parse_mesh_family(c, fam, entry, colors, key)
            continue
        c.choice(fam, "families", set(FAMILY_DIMS) | {"<name> with a `mesh:` generator"})
        c.mapping(entry, key, {"category", "size_m", "density_kg_m3", "colors", "receptacle"},
                  {"category", "size_m", "density_kg_m3", "colors"})
        dims = set(FAMILY_DIMS[fam])
        size = c.mapping(entry["size_m"], f"{key}.size_m", dims, dims)
        families[fam] = ObjectFamily(
            family=fam,
            category=str(entry["category"]),
            size_m={k: c.range(v, f"{key}.size_m.{k}", 0.005, 1.0) for k, v in size.items()},
            density_kg_m3=c.number(entry["density_kg_m3"], f"{key}.density_kg_m3", 1.0, 20000.0),
            colors=c.string_list(entry["colors"], f"{key}.colors", colors),
            receptacle=bool(entry.get("receptacle", False)),
        )
    return {"families": families, "colors": colors}


def _parse_styles(path: Path) -> dict[str, Palette]:
    data, c = load_yaml(path), Checker(path)
    c.mapping(data, "", {"palettes"}, {"palettes"})
    out = {}
    for name, entry in c.mapping(data["palettes"], "palettes").items():
        key = f"palettes.{name}"
        c.mapping(entry, key, {"floor", "wall", "roles", "materials"}, {"floor", "wall", "roles"})
        roles = c.mapping(entry["roles"], f"{key}.roles", set(MATERIAL_ROLES), set(MATERIAL_ROLES))
        out[name] = Palette(
            name=name,
            floor=_texture_style(c, entry["floor"], f"{key}.floor"),
            wall=_texture_style(c, entry["wall"], f"{key}.wall"),
            roles={r: c.rgb(v, f"{key}.roles.{r}") for r, v in roles.items()},
            materials=palette_materials(c, entry.get("materials"), f"{key}.materials"),
        )
    return out


def palette_materials(c: Checker, data: Any, key: str) -> dict[str, tuple[str, ...]]:
    from simfarm.scene.textures import check_family_names

    entries = c.mapping(data or {}, key, {"floor", "wall", *MATERIAL_ROLES})
    return {k: check_family_names(v, f"{key}.{k}", c.path) for k, v in sorted(entries.items())}


def _texture_style(c: Checker, data: Any, key: str) -> TextureStyle:
    c.mapping(data, key, {"builtin", "rgb1", "rgb2", "mark", "markrgb", "random", "repeat"}, {"builtin", "rgb1"})
    rgb1 = c.rgb(data["rgb1"], f"{key}.rgb1")
    return TextureStyle(
        builtin=c.choice(data["builtin"], f"{key}.builtin", TEXTURE_BUILTINS),
        rgb1=rgb1,
        rgb2=c.rgb(data.get("rgb2", list(rgb1)), f"{key}.rgb2"),
        mark=c.choice(data.get("mark", "none"), f"{key}.mark", TEXTURE_MARKS),
        markrgb=c.rgb(data.get("markrgb", [0, 0, 0]), f"{key}.markrgb"),
        random=c.number(data.get("random", 0.0), f"{key}.random", 0.0, 1.0),
        repeat=c.number(data.get("repeat", 1), f"{key}.repeat", 0.1, 100.0),
    )
