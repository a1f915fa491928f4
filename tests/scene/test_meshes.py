"""Procedural mesh families: deterministic, closed, volumes and masses right, hulls bounded and
inside the visual mesh, cached on disk, and every family rests stably where the sampler puts it."""

import math

import mujoco
import numpy as np
import pytest

from simfarm.scene import build_scene, sample_scene
from simfarm.scene import meshes as M
from simfarm.scene.catalog import load_catalog
from simfarm.scene.objects import (
    add_object,
    family_dims,
    family_extents,
    family_params,
    family_volume,
    object_shape,
)
from simfarm.scene.spec import SceneObject

from .test_physics import _contact_report

MESH_FAMILIES = sorted(n for n, f in load_catalog().families.items() if f.mesh)


pytestmark = pytest.mark.usefixtures("fresh_asset_cache")


def _sample(name, seed=0):
    fam = load_catalog().families[name]
    dims = family_dims(fam, np.random.default_rng(seed))
    return fam, dims


def test_catalog_has_40_families_in_8_categories():
    fams = load_catalog().families
    assert len(fams) >= 40 and len(MESH_FAMILIES) >= 40
    cats = {fams[n].category for n in MESH_FAMILIES}
    assert {"kitchenware", "food", "tool", "toy", "container", "office", "bathroom", "decor"} <= cats


def test_generators_are_deterministic_per_parameters():
    for name in MESH_FAMILIES:
        fam, dims = _sample(name, 3)
        a = M.GENERATORS[fam.mesh](dict(dims), "k")
        b = M.GENERATORS[fam.mesh](dict(dims), "k")
        for role in a.visual:
            assert np.array_equal(a.visual[role][0], b.visual[role][0]) and np.array_equal(a.visual[role][1], b.visual[role][1])
        assert all(np.array_equal(x, y) for x, y in zip(a.hulls, b.hulls, strict=True))
        assert M.shape_key(fam.mesh, dims) == M.shape_key(fam.mesh, dict(reversed(list(dims.items()))))


def test_visual_meshes_are_closed_and_hulls_bounded_inside_their_bounds():
    for name in MESH_FAMILIES:
        for seed in range(2):
            fam, dims = _sample(name, seed)
            shape = M.procedural_shape(fam.mesh, dims)
            for role, (_, f) in shape.visual.items():
                assert M.open_edges(f) == 0, f"{name} {role} mesh has open edges"
            assert 1 <= len(shape.hulls) <= M.MAX_HULLS
            pts = np.concatenate([v for v, _ in shape.visual.values()])
            lo, hi = pts.min(0), pts.max(0)
            for h in shape.hulls:
                assert (h >= lo - 1e-6).all() and (h <= hi + 1e-6).all(), f"{name}: a hull leaves the visual bounds"
            assert np.allclose(lo, -hi, atol=1e-6), f"{name}: frame not at the bounding box centre"
            assert shape.volume() > 0


def test_volumes_match_the_solids_they_model():
    block = M.gen_block({"depth": 0.2, "width": 0.1, "height": 0.05, "bevel": 0.0}, "k")
    assert block.volume() == pytest.approx(0.2 * 0.1 * 0.05, rel=1e-6)
    can = M.gen_can({"radius": 0.033, "height": 0.12}, "k")
    assert can.volume() == pytest.approx(math.pi * 0.033**2 * 0.12, rel=0.08)
    cup = M.gen_vessel({"radius": 0.04, "height": 0.1, "base": 1.0, "wall_m": 0.004, "floor_m": 0.006}, "k")
    walls = math.pi * (0.04**2 - 0.036**2) * 0.1 + math.pi * 0.036**2 * 0.006
    assert cup.volume() == pytest.approx(walls, rel=0.12)
    ring = M.gen_ring({"radius": 0.05, "height": 0.1, "hole": 0.4}, "k")
    assert ring.volume() == pytest.approx(math.pi * (0.05**2 - 0.02**2) * 0.1, rel=0.05)


def test_shapes_are_kept_in_a_bounded_memory_cache_and_never_written_to_disk(monkeypatch):
    fam, dims = _sample("coffee_mug")
    first = M.procedural_shape(fam.mesh, dims)
    assert not (M.cache_dir() / "meshes" / f"{first.key}.npz").exists()

    def boom(d, key):
        raise AssertionError("generator ran although the cache holds the shape")

    with monkeypatch.context() as m:
        m.setitem(M.GENERATORS, fam.mesh, boom)
        assert M.procedural_shape(fam.mesh, dims) is first
    for k in range(M.MEMO_SIZE + 10):
        M.procedural_shape("round", {"radius": 0.02 + k * 1e-5, "height": 0.05, "kind": 0})
    assert len(M._MEMO) == M.MEMO_SIZE and first.key not in M._MEMO
    again = M.procedural_shape(fam.mesh, dims)  # made again, the same shape
    assert all(np.array_equal(again.visual[r][0], first.visual[r][0]) for r in first.visual)
    assert again.hull_volumes == first.hull_volumes


def test_every_mesh_family_builds_and_rests_stably():
    """Every family, two sizes each, dropped at its sampled pose on a floor: no penetration over
    1 mm at t=0, nothing moves more than 1 cm in 1 s, masses are density x visual volume."""
    spec = mujoco.MjSpec()
    spec.option.timestep = 0.002
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10.0
    spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[10, 10, 0.1])
    objs = []
    k = 0
    for name in MESH_FAMILIES:
        for seed in range(2):
            fam, dims = _sample(name, seed)
            size = family_extents(fam, dims)
            mass = fam.density_kg_m3 * family_volume(fam, dims)
            obj = SceneObject(name=f"{name}_{seed}", family=name, category=fam.category, color=fam.colors[0],
                              rgba=(0.5, 0.5, 0.5, 1.0), size=size, params=family_params(fam, dims), mass_kg=mass,
                              pos=(0.6 * (k % 10), 0.6 * (k // 10), size[2] / 2), quat=(1.0, 0.0, 0.0, 0.0), support="")
            add_object(spec.worldbody, obj, None)
            objs.append(obj)
            k += 1
    model = spec.compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    worst = min((c.dist for c in data.contact[: data.ncon]), default=0.0)
    assert worst >= -1e-3
    ids = {o.name: mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, f"obj/{o.name}") for o in objs}
    for o in objs:
        assert model.body_mass[ids[o.name]] == pytest.approx(o.mass_kg, rel=1e-6)
        assert (model.body_inertia[ids[o.name]] > 0).all()
    start = {n: data.xpos[i].copy() for n, i in ids.items()}
    for _ in range(500):
        mujoco.mj_step(model, data)
    for n, i in ids.items():
        moved = np.linalg.norm(data.xpos[i] - start[n])
        assert moved < 0.01, f"{n} moved {moved:.4f} m"


def test_showcase_scenes_keep_the_placement_guarantees():
    for seed in range(8):
        built = build_scene(sample_scene("showcase", np.random.default_rng(seed)))
        assert any("mesh" in o.params for o in built.spec.objects)
        data = built.initial_state()
        worst, robot_hits = _contact_report(built, data)
        assert worst >= -1e-3 and not robot_hits, f"seed {seed}"
        start = {k: data.xpos[o.body_id].copy() for k, o in built.index.objects.items()}
        ctrl = data.ctrl.copy()
        for _ in range(500):
            data.ctrl[:] = ctrl
            mujoco.mj_step(built.model, data)
        for name, o in built.index.objects.items():
            assert np.linalg.norm(data.xpos[o.body_id] - start[name]) < 0.01, f"seed {seed}: {name}"


def test_same_spec_builds_the_same_model_with_cold_or_warm_cache(tmp_path):
    from simfarm.scene.builder import export_mjcf, model_digest

    spec = sample_scene("showcase", np.random.default_rng(5))
    warm = build_scene(spec)
    M._MEMO.clear()
    cold = build_scene(spec)  # from the disk cache now
    assert model_digest(warm.model) == model_digest(cold.model)
    # The exported MJCF carries the meshes inline and loads on its own.
    path = export_mjcf(cold, tmp_path / "scene.xml")
    loaded = mujoco.MjModel.from_xml_path(str(path))
    assert loaded.nmesh == cold.model.nmesh > 0 and loaded.ngeom == cold.model.ngeom


def test_existing_programs_draw_no_mesh_objects():
    spec = sample_scene("kitchen", np.random.default_rng(0))
    assert spec.objects and all("mesh" not in o.params for o in spec.objects)
    assert all(set(o.params) == {"dims"} for o in spec.objects)


def test_mesh_object_parts_bound_its_hulls():
    fam, dims = _sample("claw_hammer")
    from simfarm.scene.objects import object_parts

    obj = SceneObject(name="h", family="claw_hammer", category="tool", color="red", rgba=(1, 0, 0, 1),
                      size=family_extents(fam, dims), params=family_params(fam, dims), mass_kg=0.5, pos=(0, 0, 0),
                      quat=(1, 0, 0, 0), support="")
    parts = object_parts(obj)
    assert len(parts) == len(object_shape(obj).hulls)
    for p in parts:
        assert all(abs(c) + s <= e / 2 + 1e-6 for c, s, e in zip(p.pos, p.size, obj.size, strict=True))
