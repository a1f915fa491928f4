import copy
import itertools
import json

import mujoco
import numpy as np
import pytest
import yaml
from conftest import changed_fields, model_arrays

from simfarm.errors import RandomizationError
from simfarm.paths import procgen_dir
from simfarm.randomization import MODEL_PARAMS, ModelRandomizer, load_preset
from simfarm.randomization.geom import MAX_OBJECT_HUE_SHIFT, hsv_to_rgb, hue_distance, rgb_to_hsv
from simfarm.randomization.synthetic import synthetic_model, synthetic_spec


def test_same_seed_gives_identical_values_and_model_arrays():
    a, b = synthetic_model(4), synthetic_model(4)
    va = ModelRandomizer(a, "heavy").apply(a, np.random.default_rng(7))
    vb = ModelRandomizer(b, "heavy").apply(b, np.random.default_rng(7))
    assert va == vb
    arrays_a, arrays_b = model_arrays(a), model_arrays(b)
    assert changed_fields(arrays_a, arrays_b) == set()


@pytest.mark.parametrize("preset", ["light", "heavy"])
def test_different_seeds_change_exactly_the_fields_the_preset_names(model, preset):
    nominal = model_arrays(model)
    randomizer = ModelRandomizer(model, preset)
    allowed = {f for name in randomizer.preset.model for f in MODEL_PARAMS[name].fields}
    values_1 = randomizer.apply(model, np.random.default_rng(1))
    after_1 = model_arrays(model)
    randomizer.apply(model, np.random.default_rng(2))
    after_2 = model_arrays(model)
    assert changed_fields(nominal, after_1) <= allowed
    assert changed_fields(nominal, after_2) <= allowed
    # ... and every field the preset names does change (over a few episodes: a light count may
    # happen to equal the nominal one).
    changed = changed_fields(nominal, after_1) | changed_fields(nominal, after_2)
    for seed in range(3, 8):
        randomizer.apply(model, np.random.default_rng(seed))
        changed |= changed_fields(nominal, model_arrays(model))
    assert changed == allowed
    assert changed_fields(after_1, after_2), "two seeds gave the same randomization"
    # Every parameter of the preset that has elements in this model was applied.
    assert set(values_1) == {n for n in randomizer.preset.model if n != "room_material" or preset == "heavy"}
    # Fields outside the preset's parameters are bit-identical to nominal.
    for field, value in nominal.items():
        if field not in allowed:
            assert np.array_equal(value, after_2[field], equal_nan=True), field


def test_elements_outside_the_named_groups_keep_their_nominal_values(model):
    nominal = model_arrays(model)
    randomizer = ModelRandomizer(model, "heavy")
    randomizer.apply(model, np.random.default_rng(3))
    robot_geoms = [i for i in range(model.ngeom) if (mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, i) or "").startswith("robot/")]
    assert robot_geoms
    assert np.array_equal(model.geom_rgba[robot_geoms], nominal["geom_rgba"][robot_geoms])
    assert np.array_equal(model.geom_friction[robot_geoms], nominal["geom_friction"][robot_geoms])
    # Free-joint dofs of objects are not joint-damped.
    obj_dofs = model.jnt_dofadr[[j for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]]
    assert np.array_equal(model.dof_damping[obj_dofs], nominal["dof_damping"][obj_dofs])


def test_none_preset_leaves_the_model_bit_identical(model):
    nominal = model_arrays(model)
    randomizer = ModelRandomizer(model, "none")
    assert randomizer.preset.is_noop
    assert randomizer.apply(model, np.random.default_rng(0)) == {}
    assert changed_fields(nominal, model_arrays(model)) == set()


def test_apply_restores_nominal_first_so_nothing_compounds(model):
    fresh = synthetic_model(4, 3)
    randomizer = ModelRandomizer(model, "heavy")
    for seed in range(20):
        randomizer.apply(model, np.random.default_rng(seed))
    values = randomizer.apply(model, np.random.default_rng(99))
    reference = ModelRandomizer(fresh, "heavy")
    assert reference.apply(fresh, np.random.default_rng(99)) == values
    assert changed_fields(model_arrays(fresh), model_arrays(model)) == set()
    randomizer.apply_values(model, {})
    assert changed_fields(model_arrays(synthetic_model(4, 3)), model_arrays(model)) == set()


@pytest.mark.parametrize("preset", ["light", "heavy"])
def test_apply_values_reproduces_a_recorded_randomization_bit_exactly(preset):
    recorded_model = synthetic_model(4, 3)
    values = ModelRandomizer(recorded_model, preset).apply(recorded_model, np.random.default_rng(11))
    record = json.loads(json.dumps(values))  # what an episode's metadata carries
    replay_model = synthetic_model(4, 3)
    replay = ModelRandomizer(replay_model, preset)
    replay.apply(replay_model, np.random.default_rng(12))  # something else first: must be undone
    replay.apply_values(replay_model, record)
    assert changed_fields(model_arrays(recorded_model), model_arrays(replay_model)) == set()


def test_object_colour_jitter_stays_within_the_named_colour():
    model = synthetic_model(6)
    randomizer = ModelRandomizer(model, "heavy")
    nominal_rgb = randomizer.nominal["geom_rgba"][randomizer.groups.object_geoms.ids, :3]
    for seed in range(30):
        randomizer.apply(model, np.random.default_rng(seed))
        rgb = model.geom_rgba[randomizer.groups.object_geoms.ids, :3]
        assert not np.array_equal(rgb, nominal_rgb)
        assert hue_distance(rgb, nominal_rgb).max() <= MAX_OBJECT_HUE_SHIFT + 1e-4
    # Parts of one object share one colour.
    owners = randomizer.groups.object_geoms.owners
    for o in np.unique(owners):
        parts = model.geom_rgba[randomizer.groups.object_geoms.ids[owners == o]]
        assert (parts == parts[0]).all()


def test_object_colour_beyond_the_hue_bound_is_rejected_naming_the_limit():
    with pytest.raises(RandomizationError, match=r"randomization\.visual\.object_color.*named colour.*0\.03"):
        load_preset({"visual": {"object_color": {"dist": "uniform", "low": [-0.3, 0, 0], "high": [0.3, 0, 0], "mode": "add"}}})


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] -> CIELAB (D65): distances there track how different colours look."""
    rgb = np.asarray(rgb, dtype=np.float64)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


@pytest.mark.parametrize("preset", ["light", "heavy"])
def test_object_colour_jitter_keeps_every_palette_colour_nearest_to_itself(preset):
    palette = yaml.safe_load((procgen_dir() / "objects.yaml").read_text())["colors"]
    names = list(palette)
    rgb = np.array([palette[n] for n in names], dtype=np.float64)
    lab = _lab(rgb)
    lo, hi = load_preset(preset).model["object_color"].dist.support()
    corners = np.array(list(itertools.product(*zip(lo, hi, strict=True))) + [[0.0, 0.0, 0.0]])
    for i, name in enumerate(names):
        hsv = rgb_to_hsv(rgb[i]) + corners
        hsv[:, 1:] = np.clip(hsv[:, 1:], 0.0, 1.0)
        nearest = np.argmin(np.linalg.norm(_lab(hsv_to_rgb(hsv))[:, None] - lab[None], axis=2), axis=1)
        assert (nearest == i).all(), f"{preset}: {name} can turn into {names[nearest[nearest != i][0]]}"


def test_mass_and_inertia_scale_together_and_subtree_mass_stays_consistent(model):
    randomizer = ModelRandomizer(model, {"physical": {"object_mass": {"dist": "uniform", "low": 0.5, "high": 2.0}}})
    randomizer.apply(model, np.random.default_rng(5))
    ids = randomizer.groups.object_bodies.ids
    factor = model.body_mass[ids] / randomizer.nominal["body_mass"][ids]
    assert not np.allclose(factor, 1.0)
    np.testing.assert_allclose(model.body_inertia[ids], randomizer.nominal["body_inertia"][ids] * factor[:, None], rtol=1e-12)
    # mj_setConst recomputes body_subtreemass from masses: ours must already agree.
    check = copy.copy(model)
    mujoco.mj_setConst(check, mujoco.MjData(check))
    np.testing.assert_allclose(model.body_subtreemass, check.body_subtreemass, rtol=1e-12)


def test_position_actuator_bias_follows_its_randomized_gain(model):
    randomizer = ModelRandomizer(model, {"physical": {"actuator_gain": {"dist": "uniform", "low": 0.5, "high": 0.9}}})
    randomizer.apply(model, np.random.default_rng(0))
    kp = model.actuator_gainprm[0, 0]
    assert kp < 100.0 * 0.9 + 1e-9
    assert model.actuator_biasprm[0, 1] == -kp
    assert model.actuator_biasprm[0, 2] == -5.0  # kv untouched
    assert np.all(model.actuator_biasprm[1] == 0.0)  # the motor has no bias to follow
    assert model.actuator_gainprm[1, 0] != 1.0


@pytest.mark.parametrize("param, pool", [("room_material", "room_materials"), ("furniture_material", "furniture_materials")])
def test_material_swaps_draw_from_the_groups_own_materials(model, param, pool):
    randomizer = ModelRandomizer(model, {"visual": {param: {"swap_prob": 1.0}}})
    expected = set(getattr(randomizer.groups, pool).tolist())
    assert len(expected) >= 2
    seen = set()
    for seed in range(10):
        values = randomizer.apply(model, np.random.default_rng(seed))
        seen |= {v[0] for v in values[param] if v[0] >= 0}
    assert seen == expected


def test_light_count_turns_on_exactly_the_drawn_number_of_lights(model):
    randomizer = ModelRandomizer(model, {"visual": {"light_count": {"dist": "choice", "values": [1, 2]}}})
    counts = set()
    for seed in range(20):
        randomizer.apply(model, np.random.default_rng(seed))
        counts.add(int(model.light_active.sum()))
    assert counts == {1, 2}


def test_camera_orientation_stays_a_unit_quaternion_near_nominal(model):
    randomizer = ModelRandomizer(model, "heavy")
    randomizer.apply(model, np.random.default_rng(0))
    ids = randomizer.groups.scene_cameras.ids
    np.testing.assert_allclose(np.linalg.norm(model.cam_quat[ids], axis=1), 1.0, atol=1e-12)
    dot = np.abs(np.sum(model.cam_quat[ids] * randomizer.nominal["cam_quat"][ids], axis=1))
    assert (dot < 1.0).all() and (dot > np.cos(0.5 * 0.08 * np.sqrt(3)) - 1e-9).all()


def test_a_model_without_lights_objects_or_cameras_is_a_no_op_not_an_error():
    spec = mujoco.MjSpec()
    spec.worldbody.add_geom(name="room/floor_0", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[1, 1, 0.1])
    model = spec.compile()
    nominal = model_arrays(model)
    values = ModelRandomizer(model, {"visual": {"light_count": 1, "object_color": {"dist": "uniform", "low": [0, 0, 0], "high": [0.01, 0, 0]}},
                                     "physical": {"object_mass": 2.0}}).apply(model, np.random.default_rng(0))
    assert values == {}
    assert changed_fields(nominal, model_arrays(model)) == set()


def test_heavily_randomized_model_still_simulates(model):
    ModelRandomizer(model, "heavy").apply(model, np.random.default_rng(4))
    data = mujoco.MjData(model)
    data.ctrl[:] = [0.5, 0.2]
    mujoco.mj_step(model, data, nstep=500)
    assert np.isfinite(data.qpos).all()


def test_recorded_values_from_another_scene_are_rejected():
    small, big = synthetic_model(2), synthetic_model(5)
    values = ModelRandomizer(big, "light").apply(big, np.random.default_rng(0))
    with pytest.raises(RandomizationError, match="object_color.*another scene"):
        ModelRandomizer(small, "light").apply_values(small, values)
    with pytest.raises(RandomizationError, match="unknown parameter 'object_colour'.*object_color"):
        ModelRandomizer(small, "light").apply_values(small, {"object_colour": []})


def test_geoms_showing_their_material_colour_are_jittered_around_that_colour():
    spec = synthetic_spec(1)
    model = spec.compile()  # cabinet body: material wall_paint, default rgba
    randomizer = ModelRandomizer(model, {"visual": {"furniture_color": {"dist": "constant", "value": 1.0, "mode": "scale"}}})
    randomizer.apply(model, np.random.default_rng(0))
    cab = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "furn/cabinet_0/body")
    mat = model.geom_matid[cab]
    np.testing.assert_allclose(model.geom_rgba[cab], model.mat_rgba[mat])
