"""Domain randomization: distributions, presets, model-level appliers, SceneSpec-level changes, noise.

    preset = load_preset("light")                    # or "none", "heavy", a YAML path, a dict
    spec, spec_values = randomize_scene_spec(spec, preset, rng)   # structural (before building)
    randomizer = ModelRandomizer(model, preset)      # once per compiled scene
    values = randomizer.apply(model, rng)            # per episode; record `values`
    randomizer.apply_values(model, values)           # replay: bit-exact
    timing = preset.make_timing(action_space, sensor_rng); timing.apply(action)
    preset.noisy_state(state, sensor_rng); preset.noisy_image(img, sensor_rng)
"""

from simfarm.randomization.distributions import (
    DISTRIBUTIONS,
    MODES,
    Choice,
    Constant,
    Distribution,
    LogUniform,
    Normal,
    ParamSpec,
    Uniform,
    choice,
    constant,
    log_uniform,
    normal,
    parse_param,
    uniform,
)
from simfarm.randomization.model import ModelRandomizer
from simfarm.randomization.noise import ActionDelay, SensorNoise, TimingNoise, noisy_action
from simfarm.randomization.params import MODEL_PARAMS, STRUCTURAL_PARAMS, describe
from simfarm.randomization.presets import (
    Preset,
    load_preset,
    parse_preset,
    preset_names,
    validate_config,
)
from simfarm.randomization.structural import randomize_scene_spec, set_table_height

__all__ = [
    "DISTRIBUTIONS", "MODES", "MODEL_PARAMS", "STRUCTURAL_PARAMS",
    "ActionDelay", "Choice", "Constant", "Distribution", "LogUniform", "ModelRandomizer", "Normal",
    "ParamSpec", "Preset", "SensorNoise", "TimingNoise", "Uniform",
    "choice", "constant", "describe", "load_preset", "log_uniform", "noisy_action", "normal",
    "parse_param", "parse_preset", "preset_names", "randomize_scene_spec", "set_table_height",
    "uniform", "validate_config",
]
