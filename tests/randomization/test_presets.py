import numpy as np
import pytest
import yaml
from gymnasium import spaces

from simfarm.errors import ConfigError, RandomizationError
from simfarm.paths import configs_dir
from simfarm.randomization import load_preset, preset_names, validate_config
from simfarm.randomization.params import accepted


def test_shipped_presets_load_and_none_changes_nothing():
    assert {"none", "light", "heavy"} <= set(preset_names())
    none, light, heavy = load_preset("none"), load_preset("light"), load_preset("heavy")
    assert none.is_noop and not light.is_noop and not heavy.is_noop
    assert none.name == "none" and light.name == "light" and heavy.name == "heavy"
    # heavy is at least as wide as light for every parameter light uses.
    assert set(light.model) <= set(heavy.model)


def test_presets_are_plain_yaml_with_the_documented_groups():
    for name in ("none", "light", "heavy"):
        data = yaml.safe_load((configs_dir() / "randomization" / f"{name}.yaml").read_text())
        assert data["name"] == name
        assert set(data) <= {"name", "description", "visual", "physical", "sensor", "timing"}
        assert load_preset(data).name == name  # the dict Hydra hands over loads the same


def test_unknown_parameter_fails_listing_the_accepted_names():
    with pytest.raises(RandomizationError) as err:
        load_preset({"name": "typo", "physical": {"object_mas": {"dist": "uniform", "low": 0.9, "high": 1.1}}})
    msg = str(err.value)
    assert "randomization.physical.object_mas" in msg
    for name in accepted("physical"):
        assert name in msg


def test_parameter_in_the_wrong_group_says_where_it_belongs():
    with pytest.raises(RandomizationError, match=r"randomization\.visual\.object_mass.*belongs in randomization\.physical"):
        load_preset({"visual": {"object_mass": 1.0}})


def test_unknown_group_fails_listing_the_groups():
    with pytest.raises(RandomizationError, match=r"randomization\.physics.*accepted: name, description, visual, physical, sensor, timing"):
        load_preset({"physics": {}})


def test_bad_distribution_inside_a_preset_names_its_full_path():
    with pytest.raises(RandomizationError, match=r"randomization\.physical\.object_friction\.dist: unknown distribution 'gauss'.*normal"):
        load_preset({"physical": {"object_friction": {"dist": "gauss", "mean": 1, "std": 0.1}}})


def test_unknown_preset_name_lists_the_shipped_presets():
    with pytest.raises(RandomizationError, match=r"unknown preset 'medium'.*heavy, light, none"):
        load_preset("medium")


@pytest.mark.parametrize(
    "cfg, match",
    [
        ({"timing": {"action_delay_steps": 1.5}}, r"action_delay_steps.*non-negative integer"),
        ({"timing": {"action_delay_steps": {"dist": "uniform", "low": 0, "high": 2}}}, r"action_delay_steps"),
        ({"timing": {"action_noise_std": -0.1}}, r"action_noise_std.*>= 0"),
        ({"sensor": {"image_noise_std": "loud"}}, r"image_noise_std.*>= 0"),
        ({"sensor": {"depth_noise_std": 1.0}}, r"sensor\.depth_noise_std.*state_noise_std, image_noise_std"),
        ({"visual": {"light_count": {"dist": "choice", "values": [1.5, 2]}}}, r"light_count.*integers"),
        ({"visual": {"room_material": {"dist": "uniform", "low": 0, "high": 1}}}, r"room_material.*swap_prob"),
    ],
)
def test_invalid_sensor_timing_and_visual_settings_fail_before_any_episode(cfg, match):
    with pytest.raises(RandomizationError, match=match):
        load_preset(cfg)


def test_randomization_error_is_a_config_error_so_job_validation_catches_it():
    with pytest.raises(ConfigError):
        validate_config({"randomization": {"physical": {"nope": 1}}})
    validate_config({"randomization": "heavy"})


def test_timing_draws_the_delay_per_episode_from_the_preset():
    preset = load_preset({"timing": {"action_delay_steps": {"dist": "choice", "values": [0, 2]}, "action_noise_std": 0.0}})
    box = spaces.Box(-1.0, 1.0, (3,), np.float32)
    delays = {preset.make_timing(box, np.random.default_rng(s)).delay.steps for s in range(20)}
    assert delays == {0, 2}
    timing = preset.make_timing(box, np.random.default_rng(0))
    assert timing.values["action_delay_steps"] == [timing.delay.steps]


def test_hydra_overrides_reach_the_preset_and_typos_fail_job_validation():
    from simfarm.config import compose, to_dict, validate

    cfg = compose("generate", ["randomization=heavy", "randomization.timing.action_delay_steps=2"])
    preset = load_preset(to_dict(cfg)["randomization"])
    assert preset.name == "heavy" and preset.make_timing(spaces.Box(-1, 1, (2,)), np.random.default_rng(0)).delay.steps == 2
    with pytest.raises(RandomizationError, match=r"randomization\.visual\.colour: unknown parameter.*object_color"):
        validate(compose("generate", ["+randomization.visual.colour=1"]))


def test_presets_survive_pickling_for_ray_workers():
    import pickle

    preset = load_preset("heavy")
    copy = pickle.loads(pickle.dumps(preset))
    assert copy == preset
    a = copy.model["object_mass"].sample(np.random.default_rng(0), 5)
    b = preset.model["object_mass"].sample(np.random.default_rng(0), 5)
    assert np.array_equal(a, b)
