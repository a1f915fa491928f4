"""User assets: a folder of OBJ/STL meshes with one YAML each becomes families `user:<name>` that a
room program draws from; simfarm scales, decomposes and caches them."""

import struct

import mujoco
import numpy as np
import pytest
import yaml

from simfarm.errors import ConfigError, SceneError
from simfarm.scene import build_scene, sample_scene
from simfarm.scene import meshes as M
from simfarm.scene.assets import asset_shape, read_mesh
from simfarm.scene.catalog import load_program

from .test_physics import _contact_report

pytestmark = pytest.mark.usefixtures("fresh_asset_cache")


def _write_cube_obj(path, side_mm=50.0):
    h = side_mm / 2
    v = [(x, y, z) for x in (-h, h) for y in (-h, h) for z in (-h, h)]
    quads = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5), (2, 6, 8, 4)]
    text = "# a cube in millimetres\n" + "".join(f"v {a} {b} {c}\n" for a, b, c in v)
    text += "".join(f"f {a}/1 {b}/1 {c}/1 {d}/1\n" for a, b, c, d in quads)
    path.write_text(text)


def _write_stl(path, v, f):
    with open(path, "wb") as fh:
        fh.write(b"\0" * 80 + struct.pack("<I", len(f)))
        for tri in f:
            fh.write(struct.pack("<12fH", 0, 0, 0, *v[tri[0]], *v[tri[1]], *v[tri[2]], 0))


def _write_cup_obj(path):
    # An open-topped cup a user might bring (Y-up, as many OBJ exporters write): concave.
    shape = M.gen_vessel({"radius": 0.045, "height": 0.1, "base": 0.9, "wall_m": 0.004, "floor_m": 0.006}, "k")
    v, f = shape.visual["body"]
    v = np.stack([v[:, 0], v[:, 2], -v[:, 1]], axis=1)  # z-up -> y-up
    path.write_text("".join(f"v {a:.6f} {b:.6f} {c:.6f}\n" for a, b, c in v) + "".join(f"f {a + 1} {b + 1} {c + 1}\n" for a, b, c in f))


def _asset_folder(root):
    root.mkdir()
    _write_cube_obj(root / "cube.obj")
    v, f = M.revolve([(0.0, 0.0), (0.03, 0.0), (0.03, 0.1), (0.0, 0.1)], 24)
    if M.mesh_volume(v, f) < 0:
        f = f[:, ::-1]
    _write_stl(root / "cylinder.stl", v, f)
    _write_cup_obj(root / "cup.obj")
    meta = {
        "cube": {"mesh": "cube.obj", "category": "toy", "scale": 0.001, "density_kg_m3": 600, "colors": ["red", "blue"],
                 "attributes": ["graspable", "stackable"]},
        "cylinder": {"mesh": "cylinder.stl", "category": "food", "scale_range": [0.9, 1.1], "density_kg_m3": 900,
                     "colors": ["green"], "attributes": ["graspable"]},
        "cup": {"mesh": "cup.obj", "category": "kitchenware", "up": "y", "density_kg_m3": 2300, "colors": ["white"],
                "attributes": ["graspable", "container"], "receptacle": True, "max_hulls": 10},
    }
    for name, data in meta.items():
        (root / f"{name}.yaml").write_text(yaml.safe_dump(data))
    return root


def _program(tmp_path, families):
    prog = {
        "name": "user_room",
        "assets": ["assets"],
        "rooms": {"count": [1, 1], "width_m": [4.0, 4.0], "depth_m": [4.0, 4.0], "wall_height_m": [2.6, 2.6]},
        "styles": ["oak_white"],
        "lights": {"per_room": [1, 1], "intensity": [0.5, 0.5]},
        "workspace": {"surface": ["table"]},
        "furniture": [{"kind": "table", "placement": "center", "count": [1, 1], "rooms": "main"},
                      {"kind": "counter", "placement": "wall", "count": [1, 1], "rooms": "main"}],
        "objects": [{"place_on": ["table", "counter"], "families": families, "count": [3, 4]}],
    }
    path = tmp_path / "user_room.yaml"
    path.write_text(yaml.safe_dump(prog))
    return path


def test_asset_folder_becomes_families_that_scenes_draw_and_build(tmp_path):
    _asset_folder(tmp_path / "assets")
    fams = ["user:cube", "user:cylinder", "user:cup"]
    prog = load_program(_program(tmp_path, fams))
    assert set(prog.extra_families) == set(fams)
    assert prog.extra_families["user:cup"].receptacle and prog.extra_families["user:cube"].attributes == ("graspable", "stackable")
    seen = set()
    for seed in range(4):
        spec = sample_scene(prog, np.random.default_rng(seed))
        built = build_scene(spec)
        seen |= {o.family for o in spec.objects}
        data = built.initial_state()
        worst, robot_hits = _contact_report(built, data)
        assert worst >= -1e-3 and not robot_hits
        start = {k: data.xpos[o.body_id].copy() for k, o in built.index.objects.items()}
        for _ in range(500):
            mujoco.mj_step(built.model, data)
        for name, o in built.index.objects.items():
            assert np.linalg.norm(data.xpos[o.body_id] - start[name]) < 0.01, f"seed {seed}: {name} moved"
        for o in spec.objects:
            if o.family == "user:cube":
                assert o.size == pytest.approx((0.05, 0.05, 0.05))
                assert o.mass_kg == pytest.approx(600 * 0.05**3, rel=1e-3)
                body = built.index.objects[o.name].body_id
                assert built.model.body_mass[body] == pytest.approx(o.mass_kg)
            if o.family == "user:cup":
                assert o.size[2] == pytest.approx(0.1, abs=1e-4)  # y-up turned z-up
    assert seen == set(fams)


def test_decomposition_is_bounded_one_hull_for_convex_meshes(tmp_path):
    folder = _asset_folder(tmp_path / "assets")
    prog = load_program(_program(tmp_path, ["user:cube"]))
    shapes = {n: asset_shape(f.asset, {"scale": 1.0}) for n, f in prog.extra_families.items()}
    assert len(shapes["user:cube"].hulls) == 1 and len(shapes["user:cylinder"].hulls) == 1
    cup = shapes["user:cup"]
    assert 2 <= len(cup.hulls) <= 10
    # The cup's hulls leave room inside it: its centre, mid-height, is in none of them.
    from scipy.spatial import Delaunay

    assert not any(Delaunay(h).find_simplex(np.zeros(3)) >= 0 for h in cup.hulls)
    # Cached: a second call loads the file instead of decomposing again.
    key = cup.key
    assert (M.cache_dir() / "meshes" / f"{key}.npz").exists()
    v, f = read_mesh(folder / "cylinder.stl")
    assert len(v) == 2 + 2 * 24 and len(f) == 4 * 24


def test_a_changed_mesh_file_is_refused(tmp_path):
    folder = _asset_folder(tmp_path / "assets")
    prog = load_program(_program(tmp_path, ["user:cube"]))
    asset = prog.extra_families["user:cube"].asset
    _write_cube_obj(folder / "cube.obj", side_mm=60.0)
    with pytest.raises(SceneError, match="changed"):
        asset_shape(asset, {"scale": 1.0})


def test_a_bad_asset_yaml_names_the_file_and_key(tmp_path):
    folder = _asset_folder(tmp_path / "assets")
    (folder / "cube.yaml").write_text(yaml.safe_dump({"mesh": "cube.obj", "category": "toy", "density_kg_m3": 600,
                                                      "colors": ["red"], "max_hulls": 99}))
    with pytest.raises(ConfigError, match="max_hulls"):
        load_program(_program(tmp_path, ["user:cube"]))
