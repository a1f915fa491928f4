"""Procedural image textures and material families (procgen/materials.yaml).

A texture image is a pure function of its parameters: a pattern (wood grain, planks, marble,
granite, tiles, brick, fabric weave, brushed metal, plaster, concrete, carpet, terrazzo, leather,
speckle, stripes), a few colours and numbers, an integer `seed` and a size in pixels. Every
pattern tiles seamlessly (periodic noise), so a material can repeat it across a floor. Images are
cached by content hash as PNG under `cache_dir()/textures/` (written atomically), and in process
as raw bytes, so a warm build decodes nothing.

A material family names a pattern, the colours and numbers it may take (a few discrete choices,
so the caches warm up), how large a piece of the world one copy of the image covers (`tile_m`,
mapped with MuJoCo's `texuniform`), and its finish: MuJoCo's specular, shininess, reflectance,
roughness and metallic. Families with `tint: true` are near-white images whose colour comes from
the material's rgba (a style palette's colour), so they take any colour at no cache cost.

Scene lighting helpers live here too: `kelvin_to_rgb` (a colour temperature as an RGB of unit
maximum) and `dress_lights`, which turns the sampler's ceiling lights into warm or cool fixtures
and adds a window light where it fits under the renderer's light limit.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from simfarm.errors import ConfigError, SceneError
from simfarm.paths import cache_dir

# Bump when a generator's output changes: it is part of every cache key.
GENERATOR_VERSION = 1
RESOLUTIONS = (128, 256, 512)
SURFACES = ("floor", "wall", "counter", "furniture", "object")
FINISH_KEYS = ("specular", "shininess", "reflectance", "roughness", "metallic")
# In-process cache of decoded images (raw RGB bytes), bounded by bytes.
_MEMORY_BUDGET_BYTES = 48 << 20


def texture_key(params: dict[str, Any], size_px: int) -> str:
    """Content hash of a texture: its canonical parameters, size and the generator version."""
    blob = json.dumps({"params": params, "size_px": int(size_px), "v": GENERATOR_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


_memory: OrderedDict[str, bytes] = OrderedDict()
_memory_bytes = 0


def texture_file(params: dict[str, Any], size_px: int) -> tuple[Path, bytes]:
    """The cached PNG of a texture (generated and written atomically when missing) and its raw
    RGB bytes (row-major, top row first: what MuJoCo's texture `data` takes)."""
    global _memory_bytes
    key = texture_key(params, size_px)
    path = cache_dir() / "textures" / f"{key}.png"
    data = _memory.get(key)
    if data is not None and path.exists():
        _memory.move_to_end(key)
        return path, data
    if path.exists():
        from PIL import Image

        with Image.open(path) as im:
            img = np.asarray(im.convert("RGB"))
    else:
        img = render_texture(params, size_px)
        _write_png(path, img)
    data = img.tobytes()
    _memory[key] = data
    _memory_bytes += len(data)
    while _memory_bytes > _MEMORY_BUDGET_BYTES and len(_memory) > 1:
        _, old = _memory.popitem(last=False)
        _memory_bytes -= len(old)
    return path, data


def _write_png(path: Path, img: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            Image.fromarray(img, "RGB").save(fh, format="PNG", compress_level=6)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# -- periodic noise --------------------------------------------------------------------------

def _grid(size: int, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.arange(size, dtype=np.float32) * (cells / size)
    i0 = np.floor(x).astype(np.int64)
    f = x - i0
    f = f * f * (3.0 - 2.0 * f)  # smoothstep: no creases at cell borders
    return i0 % cells, (i0 + 1) % cells, f.astype(np.float32)


def noise(rng: np.random.Generator, size: int, cells_u: int, cells_v: int | None = None) -> np.ndarray:
    """Periodic value noise in [0, 1], (size, size); `cells_u` lattice cells across (columns),
    `cells_v` down (rows; default the same). It tiles exactly: cell indices wrap."""
    cells_v = cells_u if cells_v is None else cells_v
    cells_u, cells_v = max(1, int(cells_u)), max(1, int(cells_v))
    lattice = rng.random((cells_v, cells_u), dtype=np.float32)
    r0, r1, fr = _grid(size, cells_v)
    c0, c1, fc = _grid(size, cells_u)
    top = lattice[r0][:, c0] * (1 - fc) + lattice[r0][:, c1] * fc
    bottom = lattice[r1][:, c0] * (1 - fc) + lattice[r1][:, c1] * fc
    return top * (1 - fr)[:, None] + bottom * fr[:, None]


def fbm(rng: np.random.Generator, size: int, cells: int, octaves: int = 4, gain: float = 0.5,
        aspect: float = 1.0) -> np.ndarray:
    """Fractal sum of periodic noise, normalized to [0, 1]; `aspect` stretches cells along u (rows
    of streaks for aspect < 1)."""
    total = np.zeros((size, size), np.float32)
    amp, norm = 1.0, 0.0
    for k in range(octaves):
        c = cells * (2 ** k)
        if c > size:
            break
        total += amp * noise(rng, size, max(1, round(c * aspect)), c)
        norm += amp
        amp *= gain
    return total / norm


def _stretch(x: np.ndarray, lo: float = 0.02, hi: float = 0.98) -> np.ndarray:
    a, b = np.quantile(x, [lo, hi])
    return np.clip((x - a) / max(b - a, 1e-6), 0.0, 1.0)


def _mix(c0, c1, t: np.ndarray) -> np.ndarray:
    c0 = np.asarray(c0, np.float32)
    c1 = np.asarray(c1, np.float32)
    return c0 + (c1 - c0) * t[..., None]


def _uv(size: int) -> tuple[np.ndarray, np.ndarray]:
    u = (np.arange(size, dtype=np.float32) + 0.5) / size
    return np.meshgrid(u, u)  # (U columns, V rows)


def _lines(coord: np.ndarray, count: int, width: float) -> np.ndarray:
    """1 on `count` periodic lines across `coord` in [0, 1) (fractional width `width` of a period)."""
    f = (coord * count) % 1.0
    d = np.minimum(f, 1.0 - f)
    return (d < width / 2).astype(np.float32)


# -- patterns --------------------------------------------------------------------------------
# Each takes (rng, size, params) and returns float32 (size, size, 3) in [0, 1]; colours are RGB.

def _wood(rng, size, p):
    """Grain along u (columns): rings bent by noise, fine pores, a light and a dark tone."""
    u, v = _uv(size)
    warp = fbm(rng, size, 2, 3, aspect=0.5)
    rings = p.get("rings", 12)
    t = np.sin(2 * np.pi * (rings * v + 1.5 * warp)) * 0.5 + 0.5
    t = t ** 1.8
    pores = fbm(rng, size, 8, 3, aspect=0.06)
    t = np.clip(0.65 * t + 0.35 * _stretch(pores), 0, 1)
    return _mix(p["colors"][0], p["colors"][1], t)


def _planks(rng, size, p):
    """Floor boards: `boards` rows per tile, each plank its own tone and grain, dark seams."""
    rows = int(p.get("boards", 6))
    u, v = _uv(size)
    row = np.minimum((v * rows).astype(np.int64), rows - 1)
    shift = rng.random(rows).astype(np.float32)
    tone = rng.uniform(-1, 1, (rows, 2)).astype(np.float32)
    grain = _wood(rng, size, {"colors": p["colors"], "rings": p.get("rings", 20)})
    uu = (u + shift[row]) % 1.0
    plank = np.minimum((uu * 2).astype(np.int64), 1)  # two planks per row per tile
    t = tone[row, plank] * p.get("variation", 0.08)
    img = grain * (1.0 + t[..., None])
    seam_v = _lines(v, rows, 0.012 * 512 / size * 1.5)
    seam_u = ((uu * 2) % 1.0 < 0.008).astype(np.float32)
    seam = np.maximum(seam_v, seam_u)
    return img * (1 - 0.45 * seam[..., None])


def _marble(rng, size, p):
    u, v = _uv(size)
    turb = fbm(rng, size, 3, 5)
    k = int(p.get("veins", 2))
    s = np.abs(np.sin(np.pi * (k * (u + v) + 3.0 * turb)))
    vein = (1.0 - np.clip(s / p.get("vein_width", 0.08), 0, 1)) ** 1.5 * (0.4 + 0.6 * fbm(rng, size, 4, 2))
    cloud = fbm(rng, size, 4, 4)
    base = _mix(p["colors"][0], p["colors"][2] if len(p["colors"]) > 2 else p["colors"][0], _stretch(cloud) * 0.5)
    vcol = np.asarray(p["colors"][1], np.float32)
    return base * (1 - vein[..., None]) + vcol * vein[..., None]


def _granite(rng, size, p):
    base = _stretch(fbm(rng, size, 16, 3))
    img = _mix(p["colors"][0], p["colors"][1], base * 0.6)
    for k, col in enumerate(p["colors"][2:]):
        fleck = noise(rng, size, size // 3)
        mask = (fleck > 0.82 - 0.04 * k).astype(np.float32)
        img = img * (1 - mask[..., None]) + np.asarray(col, np.float32) * mask[..., None]
    return img


def _tiles(rng, size, p):
    """A grid of `tiles` across (and `tiles / aspect` down) with grout; `bond: half` offsets rows."""
    n = int(p.get("tiles", 4))
    aspect = int(p.get("aspect", 1))  # tile width / height (subway: 2)
    rows = n * aspect
    u, v = _uv(size)
    row = np.minimum((v * rows).astype(np.int64), rows - 1)
    uu = (u + (0.5 / n) * (row % 2)) % 1.0 if p.get("bond") == "half" else u
    col = np.minimum((uu * n).astype(np.int64), n - 1)
    tone = rng.uniform(-1, 1, (rows, n)).astype(np.float32) * p.get("variation", 0.04)
    cloud = fbm(rng, size, 8, 3) - 0.5
    img = np.asarray(p["colors"][0], np.float32) * (1 + tone[row, col] + 0.06 * cloud)[..., None]
    if len(p["colors"]) > 2:  # a second tile colour in a checker
        alt = ((row + col) % 2 == 1)
        img[alt] = (np.asarray(p["colors"][2], np.float32) * (1 + tone[row, col] + 0.06 * cloud)[..., None])[alt]
    g = p.get("grout", 0.04)
    grout = np.maximum(_lines(uu, n, g), _lines(v, rows, g * aspect))
    gcol = np.asarray(p["colors"][1], np.float32)
    return img * (1 - grout[..., None]) + gcol * grout[..., None]


def _brick(rng, size, p):
    return _tiles(rng, size, {**p, "aspect": int(p.get("aspect", 2)), "bond": "half",
                              "variation": p.get("variation", 0.12), "grout": p.get("grout", 0.08)}) * (
        0.9 + 0.2 * fbm(rng, size, 32, 2))[..., None]


def _fabric(rng, size, p):
    """Plain weave: warp and weft threads crossing over and under, with slub noise."""
    n = int(p.get("threads", 64))
    u, v = _uv(size)
    iu, iv = np.floor(u * n).astype(np.int64), np.floor(v * n).astype(np.int64)
    fu, fv = (u * n) % 1.0, (v * n) % 1.0
    over = (iu + iv) % 2 == 0
    warp = np.sin(np.pi * fu) ** 0.7
    weft = np.sin(np.pi * fv) ** 0.7
    t = np.where(over, warp, weft)
    slub = fbm(rng, size, 16, 2, aspect=0.25)
    lum = 0.72 + 0.22 * t + 0.08 * (slub - 0.5)
    c0 = np.asarray(p["colors"][0], np.float32)
    c1 = np.asarray(p["colors"][1] if len(p["colors"]) > 1 else p["colors"][0], np.float32)
    col = np.where(over[..., None], c0, c1)
    return col * lum[..., None]


def _brushed(rng, size, p):
    streak = fbm(rng, size, 64, 3, aspect=1 / 64)
    fine = noise(rng, size, max(2, size // 128), size // 2)
    cloud = fbm(rng, size, 2, 2)
    lum = 0.85 + 0.10 * (streak - 0.5) + 0.06 * (fine - 0.5) + 0.05 * (cloud - 0.5)
    return np.asarray(p["colors"][0], np.float32) * lum[..., None]


def _plaster(rng, size, p):
    cloud = fbm(rng, size, 4, 5)
    grain = noise(rng, size, size // 2)
    lum = 0.92 + 0.09 * (cloud - 0.5) * p.get("strength", 1.0) + 0.03 * (grain - 0.5)
    return np.asarray(p["colors"][0], np.float32) * lum[..., None]


def _concrete(rng, size, p):
    cloud = fbm(rng, size, 4, 5)
    grain = noise(rng, size, size // 2)
    pores = noise(rng, size, size // 4)
    lum = 0.9 + 0.16 * (cloud - 0.5) + 0.08 * (grain - 0.5)
    lum = lum - 0.25 * (pores > 0.93)
    stain = _stretch(fbm(rng, size, 2, 3))
    img = _mix(p["colors"][0], p["colors"][1] if len(p["colors"]) > 1 else p["colors"][0], stain * 0.5)
    return img * lum[..., None]


def _carpet(rng, size, p):
    pile = rng.random((size, size), dtype=np.float32)
    pile = 0.5 * pile + 0.5 * noise(rng, size, size // 2)
    mottle = fbm(rng, size, 6, 3)
    lum = 0.8 + 0.18 * (pile - 0.5) + 0.12 * (mottle - 0.5)
    return np.asarray(p["colors"][0], np.float32) * lum[..., None]


def _terrazzo(rng, size, p):
    img = np.asarray(p["colors"][0], np.float32) * (0.95 + 0.08 * fbm(rng, size, 8, 3))[..., None]
    cells = int(p.get("chips", 48))
    for k, col in enumerate(p["colors"][1:]):
        chip = noise(rng, size, cells)
        mask = (chip > 0.78 + 0.02 * k).astype(np.float32)
        img = img * (1 - mask[..., None]) + np.asarray(col, np.float32) * mask[..., None]
    return img


def _leather(rng, size, p):
    a = noise(rng, size, 48)
    b = noise(rng, size, 24)
    creases = 1.0 - np.abs(a - b) * 2.0
    lum = 0.85 + 0.12 * (creases - 0.5) + 0.06 * (fbm(rng, size, 3, 3) - 0.5)
    return np.asarray(p["colors"][0], np.float32) * lum[..., None]


def _speckle(rng, size, p):
    lum = 0.96 + 0.04 * (fbm(rng, size, 4, 3) - 0.5)
    img = np.asarray(p["colors"][0], np.float32) * lum[..., None]
    for k, col in enumerate(p["colors"][1:]):
        mask = (rng.random((size, size), dtype=np.float32) < p.get("density", 0.02) / (k + 1)).astype(np.float32)
        img = img * (1 - mask[..., None]) + np.asarray(col, np.float32) * mask[..., None]
    return img


def _stripes(rng, size, p):
    u, _ = _uv(size)
    n = int(p.get("stripes", 8))
    band = ((u * n) % 1.0 < p.get("duty", 0.5)).astype(np.float32)
    img = _mix(p["colors"][0], p["colors"][1], band)
    return img * (0.95 + 0.06 * fbm(rng, size, 8, 3))[..., None]


PATTERNS = {
    "wood": _wood, "planks": _planks, "marble": _marble, "granite": _granite, "tiles": _tiles,
    "brick": _brick, "fabric": _fabric, "brushed_metal": _brushed, "plaster": _plaster,
    "concrete": _concrete, "carpet": _carpet, "terrazzo": _terrazzo, "leather": _leather,
    "speckle": _speckle, "stripes": _stripes,
}


def render_texture(params: dict[str, Any], size_px: int) -> np.ndarray:
    """The texture image (uint8, (size, size, 3)) of `params` = {pattern, colors, seed, ...}."""
    pattern = params.get("pattern")
    if pattern not in PATTERNS:
        raise SceneError(f"texture pattern {pattern!r} is unknown; accepted: {', '.join(sorted(PATTERNS))}")
    size = int(size_px)
    if size < 16 or size > 2048:
        raise SceneError(f"texture size_px {size}: expected 16..2048")
    seq = np.random.SeedSequence([int(params.get("seed", 0)), size, *(_name_code(pattern),)])
    img = PATTERNS[pattern](np.random.default_rng(seq), size, params)
    if params.get("direction", 0) == 90:  # grain down instead of across
        img = np.ascontiguousarray(np.transpose(img, (1, 0, 2)))
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def _name_code(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")


# -- material families -----------------------------------------------------------------------

@dataclass(frozen=True)
class MaterialFamily:
    name: str
    pattern: str
    surfaces: tuple[str, ...]  # where it belongs: floor, wall, counter, furniture, object
    colors: tuple[tuple[tuple[float, float, float], ...], ...]  # colour sets to choose from
    params: dict[str, tuple[Any, ...]]  # numeric/string parameter -> choices
    variants: int  # seeds to choose from
    size_px: int
    tile_m: tuple[float, ...]  # world size one copy of the image covers (choices)
    tint: bool  # near-white image coloured by the material rgba (a palette colour)
    finish: dict[str, float]


@lru_cache(maxsize=4)
def load_material_families(path: str | None = None) -> dict[str, MaterialFamily]:
    """The families of procgen/materials.yaml (validated, cached)."""
    from simfarm.paths import procgen_dir
    from simfarm.scene.schema import Checker, load_yaml

    file = Path(path) if path else procgen_dir() / "materials.yaml"
    data, c = load_yaml(file), Checker(file)
    c.mapping(data, "", {"families"}, {"families"})
    out = {}
    for name, entry in c.mapping(data["families"], "families").items():
        key = f"families.{name}"
        c.mapping(entry, key, {"pattern", "surfaces", "colors", "params", "variants", "size_px", "tile_m", "tint", "finish"},
                  {"pattern", "surfaces", "colors", "finish"})
        pattern = c.choice(entry["pattern"], f"{key}.pattern", PATTERNS)
        surfaces = c.string_list(entry["surfaces"], f"{key}.surfaces", SURFACES)
        sets = entry["colors"]
        if not isinstance(sets, list) or not sets:
            raise c.fail(f"{key}.colors", "a list of colour sets (each a list of [r, g, b])", sets)
        colors = tuple(tuple(c.rgb(rgb, f"{key}.colors[{i}]") for rgb in (s if isinstance(s, list) else [None]))
                       for i, s in enumerate(sets))
        params = {}
        for pname, choices in c.mapping(entry.get("params", {}), f"{key}.params").items():
            choices = choices if isinstance(choices, list) else [choices]
            if not choices or not all(isinstance(v, (int, float, str)) and not isinstance(v, bool) for v in choices):
                raise c.fail(f"{key}.params.{pname}", "a value or a list of choices", choices)
            params[pname] = tuple(choices)
        finish = c.mapping(entry["finish"], f"{key}.finish", set(FINISH_KEYS), set(FINISH_KEYS))
        tile = entry.get("tile_m", [1.0])
        tile = tile if isinstance(tile, list) else [tile]
        out[name] = MaterialFamily(
            name=name, pattern=pattern, surfaces=surfaces, colors=colors, params=params,
            variants=c.integer(entry.get("variants", 4), f"{key}.variants", 1),
            size_px=int(c.choice(entry.get("size_px", 256), f"{key}.size_px", RESOLUTIONS)),
            tile_m=tuple(c.number(t, f"{key}.tile_m", 0.01, 20.0) for t in tile),
            tint=bool(entry.get("tint", False)),
            finish={k: c.number(v, f"{key}.finish.{k}", 0.0, 1.0) for k, v in finish.items()},
        )
    return out


def check_family_names(names, key: str, path: str) -> tuple[str, ...]:
    """Catalog hook: `names` must be families of materials.yaml (ConfigError naming `key`)."""
    families = load_material_families()
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{path}: {key}: expected a non-empty list of material families, got {names!r}")
    for n in names:
        if n not in families:
            raise ConfigError(f"{path}: {key}: unknown material family {n!r}; accepted: {', '.join(sorted(families))}")
    return tuple(names)


@dataclass(frozen=True)
class SampledMaterial:
    """A family drawn for one scene: the image parameters, the tiling and the finish."""

    family: str
    params: dict[str, Any]  # pattern, colors, seed, ... (what the image is a function of)
    size_px: int
    tile_m: float
    finish: dict[str, float]
    tint: bool


def sample_family(family: str | MaterialFamily, rng: np.random.Generator) -> SampledMaterial:
    """One draw of `family`: a colour set, a choice per parameter, a seed, a tile size."""
    fam = family if isinstance(family, MaterialFamily) else load_material_families()[family]
    colors = fam.colors[int(rng.integers(len(fam.colors)))]
    params: dict[str, Any] = {"pattern": fam.pattern, "colors": [list(c) for c in colors]}
    for name in sorted(fam.params):
        choices = fam.params[name]
        params[name] = choices[int(rng.integers(len(choices)))]
    params["seed"] = int(rng.integers(fam.variants))
    tile = fam.tile_m[int(rng.integers(len(fam.tile_m)))]
    return SampledMaterial(fam.name, params, fam.size_px, float(tile), dict(fam.finish), fam.tint)


# -- light -----------------------------------------------------------------------------------

def kelvin_to_rgb(kelvin: float) -> tuple[float, float, float]:
    """RGB (max channel 1) of a black body at `kelvin` (1000-40000 K; Tanner Helland's fit)."""
    t = min(max(float(kelvin), 1000.0), 40000.0) / 100.0
    if t <= 66:
        r = 255.0
        g = 99.4708025861 * math.log(t) - 161.1195681661
        b = 0.0 if t <= 19 else 138.5177312231 * math.log(t - 10) - 305.0447927307
    else:
        r = 329.698727446 * (t - 60) ** -0.1332047592
        g = 288.1221695283 * (t - 60) ** -0.0755148492
        b = 255.0
    rgb = [min(max(x, 0.0), 255.0) / 255.0 for x in (r, g, b)]
    m = max(rgb)
    return tuple(round(x / m, 4) for x in rgb)



# -- a palette's materials for one scene -----------------------------------------------------

def _texture_of(name: str, draw: SampledMaterial):
    from simfarm.scene.spec import Texture

    first = tuple(float(v) for v in draw.params["colors"][0])
    return Texture(name=name, builtin="image", rgb1=first, rgb2=first, size_px=draw.size_px, family=draw.family,
                   params=draw.params)


def _material_of(name: str, texture: str, draw: SampledMaterial, tint_rgb):
    from simfarm.scene.spec import Material

    rgb = tuple(float(v) for v in tint_rgb) if draw.tint else (1.0, 1.0, 1.0)
    f = draw.finish
    repeat = round(1.0 / draw.tile_m, 6)
    return Material(name, (*rgb, 1.0), texture=texture, texrepeat=(repeat, repeat), specular=f["specular"],
                    shininess=f["shininess"], reflectance=f["reflectance"], texuniform=True,
                    roughness=f["roughness"], metallic=f["metallic"])


def style_materials(style, rng: np.random.Generator, fallback):
    """Materials and textures of a palette for one scene: each surface with families in the
    palette's `materials` draws one (family, colour set, parameters, seed, tile size) from `rng`;
    the others come from `fallback(style)` (the builtin textures and flat role colours), so the
    material names and their order are the same either way."""
    base_mats, base_texs = fallback(style)
    textures = {t.name: t for t in base_texs}
    tints = {"floor": style.floor.rgb1, "wall": style.wall.rgb1, **style.roles}
    families = load_material_families()
    mats = []
    for m in base_mats:
        surface = m.name.removeprefix("mat_")
        names = style.materials.get(surface)
        if not names:
            mats.append(m)
            continue
        draw = sample_family(families[names[int(rng.integers(len(names)))]], rng)
        tex_name = f"tex_{surface}"
        textures[tex_name] = _texture_of(tex_name, draw)
        mats.append(_material_of(m.name, tex_name, draw, tints.get(surface, (1.0, 1.0, 1.0))))
    return tuple(mats), tuple(textures.values())


# -- lights ----------------------------------------------------------------------------------

# Fixture colour temperatures: (probability, kelvin range); homes are mostly warm, workshops cool.
LIGHT_TEMPERATURES_K = ((0.45, (2700.0, 3200.0)), (0.35, (3500.0, 4500.0)), (0.20, (5000.0, 6500.0)))
DAYLIGHT_K = (5500.0, 7500.0)
MAX_MODEL_LIGHTS = 7  # the renderer's GL_MAX_LIGHTS (8) minus the headlight
CEILING_AMBIENT = 0.03  # per light: shadowed sides of a lit room are never black
WINDOW_POWER = (0.25, 0.45)


# What a workspace frame of any scene must look like (benchmarks/lighting.py measures it over 200
# episodes, tests/scene/test_lighting.py asserts it over 20): mean luminance (0..1), its std, and
# the share of clipped pixels.
BRIGHTNESS_RANGE = (0.15, 0.75)
MIN_CONTRAST = 0.04
MAX_CLIPPED = 0.10


def frame_stats(rgb: np.ndarray) -> dict[str, float]:
    """Mean luminance (Rec. 709, 0..1), its std (contrast), near-black (< 0.02) and clipped (> 0.98) shares."""
    y = (rgb[..., 0] * 0.2126 + rgb[..., 1] * 0.7152 + rgb[..., 2] * 0.0722) / 255.0
    return {"brightness": float(y.mean()), "contrast": float(y.std()), "black": float((y < 0.02).mean()),
            "clipped": float((y > 0.98).mean())}


def frame_in_range(stats: dict[str, float]) -> bool:
    lo, hi = BRIGHTNESS_RANGE
    return lo <= stats["brightness"] <= hi and stats["contrast"] >= MIN_CONTRAST and stats["clipped"] <= MAX_CLIPPED


def _luma(rgb) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def light_color(kelvin: float, power: float) -> tuple[float, float, float]:
    """Diffuse RGB of a light of colour temperature `kelvin` whose luminance is `power` (capped at 1 per channel)."""
    rgb = kelvin_to_rgb(kelvin)
    scale = power / _luma(rgb)
    return tuple(round(min(1.0, c * scale), 4) for c in rgb)


def dress_lights(lights, rooms, walls, rng: np.random.Generator):
    """The sampler's ceiling lights as warm or cool fixtures (one temperature per scene, a little
    jitter per lamp; luminance as drawn), plus a daylight window light in the main room from an
    outside wall while the lights stay within MAX_MODEL_LIGHTS. Positions, count and names of the
    ceiling lights are unchanged (light randomization draws per `light_*` light)."""
    import dataclasses

    from simfarm.scene.spec import Light

    u = rng.random()
    acc = 0.0
    lo_hi = LIGHT_TEMPERATURES_K[-1][1]
    for p, rng_k in LIGHT_TEMPERATURES_K:
        acc += p
        if u < acc:
            lo_hi = rng_k
            break
    kelvin = float(rng.uniform(*lo_hi))
    out = []
    for light in lights:
        k = kelvin + float(rng.uniform(-150.0, 150.0))
        power = _luma(light.diffuse)
        amb = tuple(round(CEILING_AMBIENT * c, 4) for c in kelvin_to_rgb(k))
        out.append(dataclasses.replace(light, diffuse=light_color(k, power), ambient=amb))
    if len(out) < MAX_MODEL_LIGHTS and rooms:
        window = _window_light(rooms[0], rooms[1:], walls, rng)
        if window is not None:
            pos, direction = window
            power = float(rng.uniform(*WINDOW_POWER))
            out.append(Light(name="window_0", pos=pos, dir=direction, diffuse=light_color(float(rng.uniform(*DAYLIGHT_K)), power),
                             cutoff_deg=70.0))
    return tuple(out)


def _window_light(room, others, walls, rng):
    """A spot just inside an outside wall of `room` (no room behind it), 2/3 up, shining into the
    room and down: daylight from a window."""
    (x0, y0), _, (x1, y1), _ = room.polygon
    sides = []  # (axis, wall line, inward normal) of the room's outside walls
    behind = []
    for other in others:
        (ox0, oy0), _, (ox1, oy1), _ = other.polygon
        behind.append((ox0, oy0, ox1, oy1))

    def outside(axis: str, line: float) -> bool:
        for ox0, oy0, ox1, oy1 in behind:
            if axis == "y" and min(abs(oy0 - line), abs(oy1 - line)) < 0.5 and ox0 < x1 and x0 < ox1:
                return False
            if axis == "x" and min(abs(ox0 - line), abs(ox1 - line)) < 0.5 and oy0 < y1 and y0 < oy1:
                return False
        return True

    for wall in walls:
        (ax, ay), (bx, by) = wall.start, wall.end
        if wall.openings:
            continue
        t = wall.thickness_m / 2 + 1e-6
        if abs(ay - by) < 1e-9 and min(ax, bx) <= x0 + 1e-6 and max(ax, bx) >= x1 - 1e-6:
            if abs(ay + t - y0) < 1e-3:
                sides.append(("y", ay, (0.0, 1.0)))
            elif abs(ay - t - y1) < 1e-3:
                sides.append(("y", ay, (0.0, -1.0)))
        if abs(ax - bx) < 1e-9 and min(ay, by) <= y0 + 1e-6 and max(ay, by) >= y1 - 1e-6:
            if abs(ax + t - x0) < 1e-3:
                sides.append(("x", ax, (1.0, 0.0)))
            elif abs(ax - t - x1) < 1e-3:
                sides.append(("x", ax, (-1.0, 0.0)))
    sides = [sd for sd in sides if outside(sd[0], sd[1])]
    if not sides:
        return None
    axis, _, (nx, ny) = sides[int(rng.integers(len(sides)))]
    z = round(room.wall_height_m * 0.66, 3)
    along = float(rng.uniform(0.3, 0.7))
    if axis == "y":
        x = x0 + along * (x1 - x0)
        y = y0 + 0.3 if ny > 0 else y1 - 0.3
    else:
        y = y0 + along * (y1 - y0)
        x = x0 + 0.3 if nx > 0 else x1 - 0.3
    d = np.array([nx, ny, -0.6])
    d /= np.linalg.norm(d)
    return (round(x, 3), round(y, 3), z), tuple(round(float(v), 4) for v in d)
