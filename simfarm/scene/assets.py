"""Mesh object families: procedural ones from procgen/objects.yaml and user assets from a folder.

A user asset folder holds meshes (OBJ or STL) and one small YAML per object, `<name>.yaml`:

    mesh: my_mug.obj          # OBJ or STL (ASCII or binary), relative to the YAML
    category: kitchenware
    scale: 0.001              # file units -> metres (default 1)
    scale_range: [0.9, 1.1]   # optional: a factor drawn per object
    up: z                     # z (default) or y for Y-up files
    density_kg_m3: 900
    colors: [white, blue]     # names from procgen/objects.yaml `colors`
    attributes: [graspable, has_handle]   # graspable | container | stackable | has_handle
    receptacle: false
    max_hulls: 8              # bound on the convex decomposition (1..16)

It becomes family `user:<name>`; a room program lists the folder under `assets:` (relative to the
program file) and draws the family like any other (`families: [user:my_mug]`). The mesh is scaled,
re-centred (bounding box centre at its frame), decomposed into at most `max_hulls` convex pieces
(one hull when the mesh fills its hull; else faces split at the median of the longest axis, the
largest piece first) and cached by the sha256 of the file and these settings. The SceneObject records
the file's path and sha256: a changed file is refused rather than silently built differently.
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from simfarm.errors import ConfigError, SceneError
from simfarm.scene import meshes
from simfarm.scene.schema import Checker, load_yaml

ATTRIBUTES = ("graspable", "container", "stackable", "has_handle")
MESH_SUFFIXES = (".obj", ".stl")
ASSET_VERSION = 1
# A mesh whose volume is at least this fraction of its convex hull's collides as that one hull.
SOLID_FILL = 0.8


def parse_mesh_family(c: Checker, name: str, entry: dict, colors: dict, key: str):
    """An objects.yaml family with a `mesh:` generator (see procgen/README.md)."""
    from simfarm.scene.catalog import ObjectFamily

    allowed = {"category", "mesh", "size_m", "shape", "density_kg_m3", "colors", "receptacle", "attributes", "accent_rgb"}
    c.mapping(entry, key, allowed, {"category", "mesh", "size_m", "density_kg_m3", "colors"})
    gen = c.choice(entry["mesh"], f"{key}.mesh", meshes.GENERATORS)
    size = c.mapping(entry["size_m"], f"{key}.size_m", None, None)
    need = {"side"} if gen == "block" and "side" in size else set(meshes.GENERATOR_DIMS[gen])
    shape = c.mapping(entry.get("shape", {}), f"{key}.shape")
    missing = need - set(size) - set(shape)
    if missing:
        raise c.fail(f"{key}.size_m", f"the dimensions of mesh {gen!r}: {', '.join(sorted(need))}", entry["size_m"])
    shape_out = {}
    for k, v in shape.items():
        shape_out[k] = c.range(v, f"{key}.shape.{k}", -10.0, 10.0) if isinstance(v, list) else c.number(v, f"{key}.shape.{k}")
    return ObjectFamily(
        family=name,
        category=str(entry["category"]),
        size_m={k: c.range(v, f"{key}.size_m.{k}", 0.002, 1.0) for k, v in size.items()},
        density_kg_m3=c.number(entry["density_kg_m3"], f"{key}.density_kg_m3", 1.0, 20000.0),
        colors=c.string_list(entry["colors"], f"{key}.colors", colors),
        receptacle=bool(entry.get("receptacle", False)),
        mesh=gen,
        shape=shape_out,
        attributes=c.string_list(entry["attributes"], f"{key}.attributes", ATTRIBUTES) if "attributes" in entry else (),
        accent_rgb=c.rgb(entry["accent_rgb"], f"{key}.accent_rgb") if "accent_rgb" in entry else None,
    )


def load_asset_folder(folder: str | Path, colors: dict) -> dict[str, Any]:
    """Families `user:<name>` for every `<name>.yaml` in `folder` (ConfigError naming the file)."""
    from simfarm.scene.catalog import ObjectFamily

    root = Path(folder)
    if not root.is_dir():
        raise ConfigError(f"assets: {root} is not a folder of meshes with one YAML per object")
    out = {}
    for path in sorted(root.glob("*.yaml")):
        data, c = load_yaml(path), Checker(path)
        keys = {"mesh", "category", "scale", "scale_range", "up", "density_kg_m3", "colors", "attributes", "receptacle",
                "max_hulls"}
        c.mapping(data, "", keys, {"mesh", "category", "density_kg_m3", "colors"})
        mesh_path = (path.parent / str(data["mesh"])).resolve()
        if mesh_path.suffix.lower() not in MESH_SUFFIXES or not mesh_path.is_file():
            raise c.fail("mesh", f"an existing {' or '.join(MESH_SUFFIXES)} file beside the YAML", data["mesh"])
        asset = {
            "name": path.stem,
            "path": str(mesh_path),
            "sha256": hashlib.sha256(mesh_path.read_bytes()).hexdigest(),
            "scale": c.number(data.get("scale", 1.0), "scale", 1e-6, 1e3),
            "up": c.choice(data.get("up", "z"), "up", ("z", "y")),
            "max_hulls": c.integer(data.get("max_hulls", 8), "max_hulls", 1),
        }
        if asset["max_hulls"] > meshes.MAX_HULLS:
            raise c.fail("max_hulls", f"at most {meshes.MAX_HULLS}", asset["max_hulls"])
        factor = c.range(data.get("scale_range", [1.0, 1.0]), "scale_range", 0.05, 20.0)
        out[f"user:{path.stem}"] = ObjectFamily(
            family=f"user:{path.stem}", category=str(data["category"]), size_m={"scale": factor},
            density_kg_m3=c.number(data["density_kg_m3"], "density_kg_m3", 1.0, 20000.0),
            colors=c.string_list(data["colors"], "colors", colors), receptacle=bool(data.get("receptacle", False)),
            mesh="user", attributes=c.string_list(data["attributes"], "attributes", ATTRIBUTES) if "attributes" in data else (),
            asset=asset,
        )
    if not out:
        raise ConfigError(f"assets: {root} holds no <name>.yaml object descriptions")
    return out


# ---- mesh files ------------------------------------------------------------------------------


def read_mesh(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(vertices, triangles) of an OBJ (polygons fan-triangulated) or STL (ASCII or binary) file."""
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix.lower() == ".obj":
        verts, faces = [], []
        for line in raw.decode("utf-8", "replace").splitlines():
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "v":
                verts.append([float(x) for x in parts[1:4]])
            elif parts[0] == "f":
                idx = [int(p.split("/")[0]) for p in parts[1:]]
                idx = [i - 1 if i > 0 else len(verts) + i for i in idx]
                faces.extend((idx[0], idx[k], idx[k + 1]) for k in range(1, len(idx) - 1))
        v, f = np.array(verts, float), np.array(faces, np.int64)
    elif path.suffix.lower() == ".stl":
        n = struct.unpack("<I", raw[80:84])[0] if len(raw) >= 84 else -1
        if len(raw) == 84 + 50 * n:
            rec = np.frombuffer(raw, dtype=np.dtype([("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")]), count=n, offset=84)
            tri = rec["v"].astype(float)
        else:
            nums = [line.split()[1:4] for line in raw.decode("utf-8", "replace").splitlines() if line.strip().startswith("vertex")]
            tri = np.array(nums, float).reshape(-1, 3, 3)
        v, inverse = np.unique(tri.reshape(-1, 3), axis=0, return_inverse=True)
        f = inverse.reshape(-1, 3).astype(np.int64)
    else:
        raise SceneError(f"{path}: mesh format {path.suffix!r} not read; accepted: {', '.join(MESH_SUFFIXES)}")
    if len(v) < 4 or len(f) < 4:
        raise SceneError(f"{path}: no usable triangle mesh ({len(v)} vertices, {len(f)} faces)")
    return v, f


def decompose(v: np.ndarray, f: np.ndarray, max_hulls: int) -> list[np.ndarray]:
    """At most `max_hulls` point sets whose hulls cover the mesh: one hull for a mesh filling its
    hull, else faces split at the median of the longest axis, the piece with the largest hull
    volume first (deterministic; no search)."""
    from scipy.spatial import ConvexHull

    def hull_vol(idx):
        try:
            return ConvexHull(v[np.unique(f[idx])]).volume
        except Exception:  # flat or degenerate: it cannot be split usefully either
            return 0.0

    closed = meshes.open_edges(f) == 0
    whole = hull_vol(np.arange(len(f)))
    if max_hulls == 1 or (closed and abs(meshes.mesh_volume(v, f)) >= SOLID_FILL * whole):
        return [v[np.unique(f)]]
    centroids = v[f].mean(axis=1)
    groups = [(whole, np.arange(len(f)))]
    while len(groups) < max_hulls:
        groups.sort(key=lambda g: -g[0])
        vol, idx = groups[0]
        if len(idx) < 8 or vol <= 0:
            break
        span = np.ptp(centroids[idx], axis=0)
        axis = int(np.argmax(span))
        order = idx[np.argsort(centroids[idx, axis], kind="stable")]
        a, b = order[: len(order) // 2], order[len(order) // 2:]
        groups = groups[1:] + [(hull_vol(a), a), (hull_vol(b), b)]
    return [v[np.unique(f[idx])] for vol, idx in groups if vol > 0]


def asset_shape(asset: dict, dims: dict) -> meshes.Shape:
    """The user asset's Shape at its scale (x the drawn `scale` factor), cached by content hash."""
    factor = float(dims.get("scale", 1.0))
    spec = {"v": ASSET_VERSION, "sha256": asset["sha256"], "scale": asset["scale"] * factor, "up": asset["up"],
            "max_hulls": asset["max_hulls"]}
    key = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()

    def make() -> meshes.Shape:
        path = Path(asset["path"])
        if not path.is_file():
            raise SceneError(f"user asset {asset['name']!r}: mesh {path} is gone and not in the cache")
        raw = path.read_bytes()
        if hashlib.sha256(raw).hexdigest() != asset["sha256"]:
            raise SceneError(f"user asset {asset['name']!r}: {path} changed since the scene was sampled "
                             "(sha256 differs); resample the scene")
        v, f = read_mesh(path)
        if asset["up"] == "y":
            v = np.stack([v[:, 0], -v[:, 2], v[:, 1]], axis=1)
        v = v * spec["scale"]
        v = v - (v.max(0) + v.min(0)) / 2
        if meshes.mesh_volume(v, f) < 0:
            f = f[:, ::-1]
        v = np.round(v, 6)
        hulls = decompose(v, f, asset["max_hulls"])
        return meshes.make_shape(key, {"body": (v, f.astype(np.int32))}, hulls)

    return meshes.cached_shape(key, make)
