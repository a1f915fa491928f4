import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import mujoco
import numpy as np
import pytest
from PIL import Image

from simfarm import config as C
from simfarm.errors import ConfigError, SceneError
from simfarm.scene import (
    SceneRequest,
    build_scene,
    export_mjcf,
    fixed_scene,
    load_scene_source,
    resolve_scene_source,
)
from simfarm.scene.cli import main as scene_main
from simfarm.scene.preview import render_gallery, render_preview


def test_exported_mjcf_loads_with_plain_mujoco_and_keeps_textures_and_initial_state(kitchen_built, tmp_path):
    path = export_mjcf(kitchen_built, tmp_path / "scene.xml")
    model = mujoco.MjModel.from_xml_path(str(path))
    assert model.nbody == kitchen_built.model.nbody and model.ngeom == kitchen_built.model.ngeom
    assert model.ntex == kitchen_built.model.ntex >= 2
    np.testing.assert_array_equal(model.tex_data, kitchen_built.model.tex_data)  # procedural texels identical
    # Builtin procedural textures, or procedural images the MJCF finds in simfarm's texture cache.
    from simfarm.scene.textures import cache_dir

    for t in ET.parse(path).getroot().iter("texture"):
        assert t.get("builtin") in {"checker", "gradient", "flat"} or t.get("file", "").startswith(str(cache_dir()))
    key = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_KEY, "init")
    assert key >= 0
    expected = kitchen_built.initial_state()
    np.testing.assert_allclose(model.key_qpos[key], expected.qpos, atol=0)
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, key)
    mujoco.mj_forward(model, data)
    np.testing.assert_allclose(data.xpos, expected.xpos, atol=1e-6)  # MJCF writes ~9 significant digits


def test_preview_png_really_renders_both_views(kitchen_built, tmp_path):
    path = render_preview(kitchen_built, tmp_path / "preview.png", size=(96, 128), pretty=False)
    image = np.asarray(Image.open(path))
    assert image.shape == (96, 256, 3)
    left, right = image[:, :128], image[:, 128:]
    for view in (left, right):
        assert view.std() > 10  # not a blank frame
        assert len(np.unique(view.reshape(-1, 3), axis=0)) > 50
    assert not np.array_equal(left, right)


def test_gallery_makes_a_contact_sheet_across_programs(tmp_path):
    path = render_gallery(3, tmp_path / "gallery.png", seed=0, tile=(48, 64))
    image = np.asarray(Image.open(path))
    assert image.shape == (2 * 2 * 48, 2 * 64, 3)
    tiles = [image[: 2 * 48, :64], image[: 2 * 48, 64:], image[2 * 48 :, :64]]
    assert all(t.std() > 10 for t in tiles)


def test_tabletop_is_a_scene_like_any_program():
    spec = fixed_scene("tabletop", robot="arm")
    assert [f.kind for f in spec.furniture] == ["table"]
    assert [o.family for o in spec.objects] == ["block"]
    source = load_scene_source("tabletop")
    assert source.fixed
    assert source.sample(np.random.default_rng(0), robot="arm").to_json() == spec.to_json()
    built = build_scene(spec)
    data = built.initial_state()
    robot = np.array([mujoco.mj_id2name(built.model, mujoco.mjtObj.mjOBJ_BODY, b).startswith("robot/")
                      for b in built.model.geom_bodyid])
    assert all(robot[c.geom1] == robot[c.geom2] for c in data.contact[: data.ncon])
    block = built.index.objects["block_0"]
    for _ in range(500):
        mujoco.mj_step(built.model, data)
    assert np.linalg.norm(data.xpos[block.body_id] - np.array(spec.objects[0].pos)) < 0.01


def test_tabletop_takes_other_robots_and_refuses_what_it_cannot_offer():
    spec = fixed_scene("tabletop", robot="mobile_arm")
    assert spec.robot.name == "mobile_panda"
    build_scene(spec)
    with pytest.raises(SceneError, match="min_workspace_objects"):
        load_scene_source("tabletop").sample(np.random.default_rng(0), request=SceneRequest(min_workspace_objects=3))


def test_scene_sources_resolve_names_and_config_groups():
    assert resolve_scene_source("kitchen").program == "kitchen"
    assert resolve_scene_source({"name": "tabletop", "fixed": "tabletop"}).fixed
    assert resolve_scene_source({"name": "k", "program": "kitchen"}).name == "k"
    with pytest.raises(ConfigError, match="scene.rooms: unknown key; accepted: name, program, fixed"):
        resolve_scene_source({"name": "kitchen", "rooms": 3})
    with pytest.raises(ConfigError, match="unknown room program 'garage'"):
        resolve_scene_source("garage")


def test_cli_sample_prints_only_the_spec_json(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "simfarm.cli", "scene", "sample", "scene=workshop", "seed=5",
         f"xml={tmp_path / 's.xml'}"],
        capture_output=True, text=True, check=True,
    )
    # The CLI reads the generate config tree and prints the scene episode 0 of that job uses.
    from simfarm.envs import EnvConfig, SimfarmEnv

    cfg = C.to_dict(C.compose("generate", ["scene=workshop", "seed=5", "obs_mode=state"]))
    env = SimfarmEnv(EnvConfig.from_job(cfg))
    env.reset(seed=5, options={"episode_index": 0})
    spec = env.built_scene.spec
    env.close()
    assert spec.program == "workshop"
    assert json.loads(out.stdout) == json.loads(spec.to_json())
    assert out.stdout.strip() == spec.to_json()
    mujoco.MjModel.from_xml_path(str(tmp_path / "s.xml"))


def test_cli_rejects_unknown_keys_with_the_accepted_ones():
    with pytest.raises(ConfigError, match="^colour: unknown key 'colour'.*; accepted: .*scene.*seed"):
        scene_main(["sample", "colour=red"])
    with pytest.raises(ConfigError, match="episode: expected an integer, got 'abc'"):
        scene_main(["sample", "episode=abc"])
    with pytest.raises(ConfigError, match="seed"):
        scene_main(["sample", "seed=abc"])
    with pytest.raises(ConfigError, match="unknown subcommand 'draw'"):
        scene_main(["draw"])
