"""Presets: named, validated sets of randomized parameters (configs/randomization/*.yaml).

A preset is plain YAML (a Hydra config group), grouped:

    name: light
    visual:   {object_color: {dist: uniform, low: [-0.02, -0.1, -0.1], high: [0.02, 0.1, 0.1]}, ...}
    physical: {object_mass: {dist: uniform, low: 0.9, high: 1.1, mode: scale}, table_height: ...}
    sensor:   {state_noise_std: 0.001, image_noise_std: 2.0}
    timing:   {action_delay_steps: {dist: choice, values: [0, 1]}, action_noise_std: 0.0}

`load_preset` validates everything (unknown groups or parameters, bad distributions) before any
episode runs; errors name the key path and the accepted values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simfarm.errors import RandomizationError
from simfarm.randomization.camera_effects import (
    CAMERA_PARAMS,
    CameraEffects,
    CameraEffectsSpec,
    parse_camera_effects,
)
from simfarm.randomization.distributions import ParamSpec, parse_param
from simfarm.randomization.noise import SensorNoise, TimingNoise
from simfarm.randomization.params import MODEL_PARAMS, STRUCTURAL_PARAMS, accepted

GROUPS = ("visual", "physical", "sensor", "timing")
TOP_KEYS = ("name", "description", *GROUPS)


@dataclass(frozen=True)
class Preset:
    """A validated randomization preset."""

    name: str
    model: dict[str, Any] = field(default_factory=dict)  # model-level parameter -> parsed spec
    structural: dict[str, ParamSpec] = field(default_factory=dict)  # SceneSpec-level
    sensor: SensorNoise = SensorNoise()
    action_delay_steps: ParamSpec | None = None
    action_noise_std: float = 0.0
    source: dict[str, Any] = field(default_factory=dict)  # the validated config, for records
    camera: CameraEffectsSpec = field(default_factory=lambda: CameraEffectsSpec({}))  # exposure, blur, JPEG...

    @property
    def is_noop(self) -> bool:
        """True when the preset changes nothing at all (the `none` preset)."""
        return (
            not self.model and not self.structural and self.sensor == SensorNoise()
            and self.action_delay_steps is None and self.action_noise_std == 0.0 and not self.camera.enabled
        )

    @property
    def has_structural(self) -> bool:
        """True when scenes must be rebuilt per episode to vary (e.g. `table_height`), fixed scenes included."""
        return bool(self.structural)

    def noisy_state(self, state: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.sensor.noisy_state(state, rng)

    def noisy_image(self, img: np.ndarray, rng: np.random.Generator, out: np.ndarray | None = None) -> np.ndarray:
        return self.sensor.noisy_image(img, rng, out)

    def camera_image(self, img: np.ndarray, effects: CameraEffects, rng: np.random.Generator) -> np.ndarray:
        """An RGB frame through the episode's camera `effects` (`CameraEffectsSpec.draw`) with the
        pixel noise between optics and compression; with no effects, exactly `noisy_image`."""
        if effects.is_identity:
            return self.sensor.noisy_image(img, rng)
        return effects.apply(img, self.sensor.noisy_image, rng)

    def make_timing(self, action_space: Any, rng: np.random.Generator, initial: np.ndarray | None = None) -> TimingNoise:
        """The episode's action delay and noise for a gymnasium Box `action_space`; draws the delay now."""
        steps = 0
        if self.action_delay_steps is not None:
            steps = int(self.action_delay_steps.sample(rng, 1)[0, 0])
        return TimingNoise(steps, self.action_noise_std, action_space.low, action_space.high, rng, initial)


def load_preset(name_or_config: str | Path | dict[str, Any] | Preset) -> Preset:
    """A preset by name (configs/randomization/<name>.yaml), YAML path, or config dict, validated."""
    if isinstance(name_or_config, Preset):
        return name_or_config
    if isinstance(name_or_config, (str, Path)):
        return parse_preset(_read_preset(name_or_config), str(name_or_config))
    if isinstance(name_or_config, dict):
        return parse_preset(name_or_config, str(name_or_config.get("name", "randomization")))
    raise RandomizationError(
        f"randomization: expected a preset name ({', '.join(preset_names())}), a YAML path or a mapping, "
        f"got {type(name_or_config).__name__}"
    )


def preset_names() -> list[str]:
    """Names of the presets shipped in configs/randomization/."""
    try:
        return sorted(p.stem for p in _preset_dir().glob("*.yaml"))
    except Exception:  # no data folder (a bare wheel): the names are only for messages
        return ["none", "light", "heavy"]


def _preset_dir() -> Path:
    from simfarm.paths import configs_dir

    return configs_dir() / "randomization"


def _read_preset(name: str | Path) -> dict[str, Any]:
    path = Path(name)
    if path.suffix not in (".yaml", ".yml"):
        path = _preset_dir() / f"{name}.yaml"
        if not path.is_file():
            raise RandomizationError(f"randomization: unknown preset {str(name)!r}; accepted: {', '.join(preset_names())}")
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RandomizationError(f"randomization: cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise RandomizationError(f"randomization: {path} must hold a mapping, got {type(data).__name__}")
    return data


def parse_preset(cfg: dict[str, Any], where: str = "randomization") -> Preset:
    """Validate a preset mapping; every error names `randomization.<group>.<param>[.<field>]`."""
    unknown = sorted(set(cfg) - set(TOP_KEYS))
    if unknown:
        raise RandomizationError(f"randomization.{unknown[0]}: unknown key in preset {where}; accepted: {', '.join(TOP_KEYS)}")
    name = str(cfg.get("name", where))
    model: dict[str, Any] = {}
    structural: dict[str, ParamSpec] = {}
    for group in ("visual", "physical"):
        for key, value in _group(cfg, group).items():
            path = f"randomization.{group}.{key}"
            _check_name(group, key)
            if value is None:
                continue
            if key in STRUCTURAL_PARAMS:
                structural[key] = parse_param(value, path, default_mode="add")
            else:
                model[key] = MODEL_PARAMS[key].parse_spec(value, path)
    sensor_cfg = _group(cfg, "sensor")
    for key in sensor_cfg:
        _check_name("sensor", key)
    camera = parse_camera_effects({k: v for k, v in sensor_cfg.items() if k in CAMERA_PARAMS})
    sensor = SensorNoise(
        state_std=_std(sensor_cfg.get("state_noise_std", 0.0), "randomization.sensor.state_noise_std"),
        image_std=_std(sensor_cfg.get("image_noise_std", 0.0), "randomization.sensor.image_noise_std"),
    )
    timing_cfg = _group(cfg, "timing")
    for key in timing_cfg:
        _check_name("timing", key)
    delay = None
    if timing_cfg.get("action_delay_steps") is not None:
        delay = _parse_delay(timing_cfg["action_delay_steps"], "randomization.timing.action_delay_steps")
    noise_std = _std(timing_cfg.get("action_noise_std", 0.0), "randomization.timing.action_noise_std")
    return Preset(
        name=name, model=model, structural=structural, sensor=sensor,
        action_delay_steps=delay, action_noise_std=noise_std, source=dict(cfg), camera=camera,
    )


def _group(cfg: dict[str, Any], group: str) -> dict[str, Any]:
    value = cfg.get(group) or {}
    if not isinstance(value, dict):
        raise RandomizationError(f"randomization.{group}: expected a mapping of parameters, got {value!r}")
    return value


def _check_name(group: str, key: str) -> None:
    names = accepted(group)
    if key in names:
        return
    home = next((g for g in GROUPS if key in accepted(g)), None)
    hint = f" ({key} belongs in randomization.{home})" if home else ""
    raise RandomizationError(
        f"randomization.{group}.{key}: unknown parameter{hint}; accepted in {group}: {', '.join(names)}"
    )


def _std(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
        raise RandomizationError(f"{path}: expected a number >= 0, got {value!r}")
    return float(value)


def _parse_delay(value: Any, path: str) -> ParamSpec:
    spec = parse_param(value, path, modes=("absolute",), default_mode="absolute")
    table = getattr(spec.dist, "values", None)
    if spec.dist.name == "constant":
        table = (spec.dist.value,)  # type: ignore[attr-defined]
    if table is None or not all(float(v[0]).is_integer() and v[0] >= 0 for v in table):
        raise RandomizationError(
            f"{path}: expected a non-negative integer or {{dist: choice, values: [0, 1]}}, got {value!r}"
        )
    return spec


def validate_config(cfg: dict[str, Any]) -> None:
    """Hook for simfarm.config.validate: the job's `randomization` entry must load."""
    load_preset(cfg.get("randomization", "light"))
