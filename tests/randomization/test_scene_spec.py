import dataclasses

import numpy as np
import pytest

from simfarm.randomization import randomize_scene_spec, set_table_height
from simfarm.scene.spec import Furniture, Light, Room, SceneObject, SceneSpec, Surface


def _obj(name: str, support: str, z: float) -> SceneObject:
    return SceneObject(
        name=name, family="box", category="block", color="red", rgba=(0.8, 0.1, 0.1, 1.0), size=(0.04, 0.04, 0.04),
        params={}, mass_kg=0.1, pos=(0.5, 0.0, z), quat=(1.0, 0.0, 0.0, 0.0), support=support,
    )


@pytest.fixture
def spec() -> SceneSpec:
    table = Furniture(
        name="table_0", kind="table", room=0, pos=(0.6, 0.0, 0.0), yaw_rad=0.0, size=(0.8, 1.2, 0.75),
        placement="center", materials={"top": "wood"}, surfaces=(Surface((0.0, 0.0, 0.75), (0.4, 0.6), 2.0),),
    )
    shelf = Furniture(
        name="shelf_0", kind="shelf", room=0, pos=(-1.0, 1.0, 0.0), yaw_rad=0.0, size=(0.3, 0.8, 1.5),
        placement="wall", materials={"body": "wood"}, surfaces=(Surface((0.0, 0.0, 0.5), (0.15, 0.4), 0.4),),
    )
    return SceneSpec(
        program="test", seed=(0,), style="plain",
        rooms=(Room("kitchen_0", "kitchen", ((-2.0, -2.0), (2.0, -2.0), (2.0, 2.0), (-2.0, 2.0)), "floor", 2.5),),
        walls=(), furniture=(table, shelf),
        objects=(_obj("a", "furn/table_0/surface_0", 0.77), _obj("b", "furn/shelf_0/surface_0", 0.52)),
        lights=(Light("light_0", (0.0, 0.0, 2.4), (0.0, 0.0, -1.0), (0.7, 0.7, 0.7)),),
        cameras=(), materials=(), textures=(), robot=None, workspace="table_0", workspace_kind="surface",
    )


def test_table_height_moves_the_table_top_and_what_rests_on_it(spec):
    preset = {"physical": {"table_height": {"dist": "uniform", "low": 0.05, "high": 0.1, "mode": "add"}}}
    new, values = randomize_scene_spec(spec, preset, np.random.default_rng(0))
    dz = values["table_height"][0] - 0.75
    assert 0.05 <= dz <= 0.1
    table = new.furniture_named("table_0")
    assert table.size[2] == values["table_height"][0]
    assert table.surfaces[0].center[2] == pytest.approx(0.75 + dz)
    assert new.object_named("a").pos[2] == pytest.approx(0.77 + dz)
    # Nothing else moves: the shelf and what is on it, the rooms, the lights.
    assert new.furniture_named("shelf_0") == spec.furniture_named("shelf_0")
    assert new.object_named("b") == spec.object_named("b")
    assert (new.rooms, new.lights) == (spec.rooms, spec.lights)


def test_same_seed_gives_the_same_scene_and_values(spec):
    a = randomize_scene_spec(spec, "heavy", np.random.default_rng(5))
    b = randomize_scene_spec(spec, "heavy", np.random.default_rng(5))
    assert a[1] == b[1] and a[0].content_hash() == b[0].content_hash()
    assert a[0].content_hash() != spec.content_hash()
    assert SceneSpec.from_json(a[0].to_json()) == a[0]


def test_recorded_table_height_rebuilds_the_same_spec(spec):
    new, values = randomize_scene_spec(spec, "light", np.random.default_rng(2))
    assert set_table_height(spec, values["table_height"][0]) == new


def test_presets_without_structural_parameters_return_the_spec_untouched(spec):
    new, values = randomize_scene_spec(spec, "none", np.random.default_rng(0))
    assert new is spec and values == {}


def test_non_surface_workspaces_keep_their_geometry(spec):
    drawer_scene = dataclasses.replace(spec, workspace_kind="drawer")
    new, values = randomize_scene_spec(drawer_scene, "heavy", np.random.default_rng(0))
    assert new is drawer_scene and values == {}
