"""Procedural image textures and material families: deterministic, cached, every family builds,
scenes with them compile and export, old specs read back unchanged, geometry untouched."""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np
import pytest

import simfarm.scene.sampler as sampler
import simfarm.scene.textures as tx
from simfarm.errors import ConfigError
from simfarm.scene import build_scene, sample_scene
from simfarm.scene.builder import export_mjcf
from simfarm.scene.source import fixed_scene
from simfarm.scene.spec import SceneSpec

PARAMS = {"pattern": "planks", "colors": [[0.6, 0.45, 0.3], [0.45, 0.32, 0.2]], "boards": 6, "seed": 2}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMFARM_CACHE", str(tmp_path / "cache"))
    tx._memory.clear()
    yield tmp_path / "cache"
    tx._memory.clear()


def test_same_parameters_give_the_same_png_and_the_file_is_reused(cache, monkeypatch):
    path, data = tx.texture_file(PARAMS, 128)
    assert path.parent == cache / "textures" and path.name == f"{tx.texture_key(PARAMS, 128)}.png"
    stamp, png = path.stat().st_mtime_ns, path.read_bytes()
    tx._memory.clear()
    calls = []
    monkeypatch.setattr(tx, "render_texture", lambda *a: calls.append(a))
    again, data2 = tx.texture_file(PARAMS, 128)  # decoded from the cached file, not generated
    assert again == path and data2 == data and not calls and path.stat().st_mtime_ns == stamp
    monkeypatch.undo()
    monkeypatch.setenv("SIMFARM_CACHE", str(cache.parent / "fresh"))
    tx._memory.clear()
    fresh, data3 = tx.texture_file(PARAMS, 128)  # generated again elsewhere: the same bytes
    assert fresh.read_bytes() == png and data3 == data
    assert not list((cache / "textures").glob(".tmp-*"))
    assert tx.texture_key({**PARAMS, "seed": 3}, 128) != tx.texture_key(PARAMS, 128)
    assert tx.texture_key(PARAMS, 256) != tx.texture_key(PARAMS, 128)


@pytest.mark.parametrize("pattern", sorted(tx.PATTERNS))
def test_every_pattern_is_deterministic_and_tiles_without_a_seam(pattern):
    params = {"pattern": pattern, "colors": [[0.7, 0.5, 0.3], [0.3, 0.2, 0.1], [0.9, 0.9, 0.9], [0.1, 0.1, 0.1]], "seed": 1}
    img = tx.render_texture(params, 128).astype(float)
    assert np.array_equal(img, tx.render_texture(params, 128))
    assert img.std() > 1.0  # not flat
    # The step across the wrap (last column -> first) is no larger than the largest inside the image.
    inside = np.abs(np.diff(img, axis=1)).mean(axis=(0, 2)).max()
    seam = np.abs(img[:, 0] - img[:, -1]).mean()
    inside_v = np.abs(np.diff(img, axis=0)).mean(axis=(1, 2)).max()
    seam_v = np.abs(img[0] - img[-1]).mean()
    assert seam <= inside + 1 and seam_v <= inside_v + 1


def test_at_least_30_material_families_and_each_builds(cache):
    families = tx.load_material_families()
    assert len(families) >= 30
    for surface in tx.SURFACES:
        assert sum(surface in f.surfaces for f in families.values()) >= 5, surface
    s = mujoco.MjSpec()
    for k, (name, fam) in enumerate(sorted(families.items())):
        draw = tx.sample_family(fam, np.random.default_rng(k))
        assert draw.size_px in tx.RESOLUTIONS and 0 < draw.tile_m
        tex = tx._texture_of(f"tex_{name}", draw)
        mat = tx._material_of(f"mat_{name}", tex.name, draw, (0.5, 0.6, 0.7))
        from simfarm.scene.builder import _add_image_texture

        _add_image_texture(s, tex)
        m = s.add_material(name=mat.name, rgba=list(mat.rgba), texrepeat=list(mat.texrepeat), texuniform=True,
                           specular=mat.specular, shininess=mat.shininess, reflectance=mat.reflectance,
                           roughness=mat.roughness, metallic=mat.metallic)
        m.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = tex.name
        s.worldbody.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.1, 0.1, 0.1], pos=[k, 0, 0], material=mat.name)
        assert (mat.rgba[:3] == (0.5, 0.6, 0.7)) == fam.tint
    model = s.compile()
    assert model.ntex == len(families) and model.nmat == len(families)


def test_a_palette_naming_an_unknown_family_fails_with_the_key(tmp_path):
    from simfarm.scene.catalog import _parse_styles

    bad = tmp_path / "styles.yaml"
    bad.write_text("palettes:\n  p:\n    floor: {builtin: flat, rgb1: [0.5, 0.5, 0.5]}\n"
                   "    wall: {builtin: flat, rgb1: [0.9, 0.9, 0.9]}\n"
                   "    roles: {wood: [0.5, 0.4, 0.3], paint: [0.9, 0.9, 0.9], stone: [0.3, 0.3, 0.3], metal: [0.7, 0.7, 0.7], "
                   "fabric: [0.4, 0.4, 0.5], rubber: [0.1, 0.1, 0.1]}\n"
                   "    materials: {floor: [oak_plankz]}\n")
    with pytest.raises(ConfigError, match=r"palettes\.p\.materials\.floor: unknown material family 'oak_plankz'"):
        _parse_styles(bad)


def test_scenes_with_image_textures_compile_and_export_mjcf(tmp_path):
    spec = sample_scene("kitchen", np.random.default_rng(11))
    images = [t for t in spec.textures if t.builtin == "image"]
    assert {"tex_floor", "tex_wall", "tex_wood", "tex_stone"} <= {t.name for t in images}
    assert all(t.family and t.params["pattern"] in tx.PATTERNS for t in images)
    built = build_scene(spec)
    again = SceneSpec.from_json(spec.to_json())
    assert again == spec and again.content_hash() == spec.content_hash()
    path = export_mjcf(built, tmp_path / "kitchen.xml")
    xml = path.read_text()
    assert str(tx.cache_dir() / "textures") in xml  # the MJCF refers to the cached PNGs
    loaded = mujoco.MjModel.from_xml_path(str(path))
    np.testing.assert_array_equal(loaded.tex_data, built.model.tex_data)
    np.testing.assert_array_equal(loaded.mat_rgba, built.model.mat_rgba)


def test_stored_specs_without_image_textures_read_back_with_their_hash():
    spec = fixed_scene("tabletop")
    text = spec.to_json()
    data = spec.to_dict()
    # Fields added since version 1 are left out at their defaults.
    assert all(not {"family", "params"} & set(t) for t in data["textures"])
    assert all(not {"texuniform", "roughness", "metallic", "emission"} & set(m) for m in data["materials"])
    assert all(not {"ambient", "cutoff_deg"} & set(li) for li in data["lights"])
    assert SceneSpec.from_json(text).to_json() == text


def test_looks_never_move_geometry_or_the_draws_after_them(monkeypatch):
    def specs():
        out = []
        for prog in ("kitchen", "living_room", "workshop"):
            rng = np.random.default_rng([3, 1])
            spec = sampler.sample_scene(prog, rng)
            out.append((dataclasses.replace(spec, materials=(), textures=(), lights=()), spec.lights, rng.random()))
        return out

    new = specs()
    monkeypatch.setattr(sampler, "style_materials", lambda style, rng, fallback: fallback(style))
    monkeypatch.setattr(sampler, "dress_lights", lambda lights, rooms, walls, rng: lights)
    old = specs()
    for (spec_a, lights_a, next_a), (spec_b, lights_b, next_b) in zip(new, old, strict=True):
        assert spec_a == spec_b and next_a == next_b
        ceiling = [li for li in lights_a if li.name.startswith("light_")]
        assert [li.pos for li in ceiling] == [li.pos for li in lights_b]
