"""Mixed-robot jobs: `robot=mix`, each episode's robot drawn from the episode's own seed.

    robot: {name: mix, mix: {panda: 0.4, ur5e: 0.3, xarm7: 0.3}}   # weights, normalized
    robot: {name: mix, mix: null}                                   # the full-size fixed arms, equally

The draw uses its own stream (simfarm.seeding.robot_rng), so it depends on (seed, episode, split)
only: the same dataset on one worker or a thousand. The robots of a mix must offer the job's
control mode with the same action size and carry the same cameras, so every episode fills the
same features; their native states may differ in size (see simfarm.rollout's padding).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simfarm.errors import ConfigError, RobotError

MIX = "mix"


def is_mix(robot_cfg: Any) -> bool:
    name = robot_cfg if isinstance(robot_cfg, str) else (robot_cfg or {}).get("name")
    return name == MIX


def mix_weights(robot_cfg: Any) -> dict[str, float]:
    """Robot name -> normalized weight, in name order (ConfigError naming `robot.mix` when wrong)."""
    from simfarm.robots import canonical_name, make_robot, registered_robots

    raw = None if isinstance(robot_cfg, str) else (robot_cfg or {}).get("mix")
    if raw is None:
        raw = {name: 1.0 for name, cls in registered_robots().items()
               if getattr(cls, "in_default_mix", True) and make_robot(name).has_arm and not make_robot(name).has_base}
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"robot.mix: must map robot names to weights, e.g. {{panda: 0.5, ur5e: 0.5}}; got {raw!r}")
    unknown = sorted(set(robot_cfg) - {"name", "mix"}) if isinstance(robot_cfg, dict) else []
    if unknown:
        raise ConfigError(f"robot.{unknown[0]}: unknown key of robot=mix; accepted: name, mix")
    weights: dict[str, float] = {}
    for name, weight in raw.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
            raise ConfigError(f"robot.mix.{name}: weight must be a number >= 0, got {weight!r}")
        try:
            make_robot(str(name))
        except RobotError as exc:
            raise ConfigError(f"robot.mix: {exc}") from None
        canonical = canonical_name(str(name))
        weights[canonical] = weights.get(canonical, 0.0) + float(weight)
    total = sum(weights.values())
    if total <= 0:
        raise ConfigError(f"robot.mix: the weights must not all be 0, got {raw!r}")
    return {name: weights[name] / total for name in sorted(weights) if weights[name] > 0}


def choose(weights: dict[str, float], rng: np.random.Generator) -> str:
    """One robot name drawn with `weights` (one uniform draw from `rng`)."""
    names = list(weights)
    cumulative = np.cumsum([weights[n] for n in names])
    return names[min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), len(names) - 1)]


def episode_robot(weights: dict[str, float], seed: int, index: int, split: str = "train") -> str:
    from simfarm.seeding import robot_rng

    return choose(weights, robot_rng(seed, index, split))


def check_compatible(weights: dict[str, float], control_mode: str | None, default_mode: str, cameras=None) -> None:
    """The mix's robots fill the same features: same control mode and action size, and (with the
    default `cameras: null`, each robot's own) the same cameras."""
    from simfarm.robots import make_robot

    robots = {name: make_robot(name) for name in weights}
    mode = control_mode or default_mode
    sizes = {}
    for name, robot in robots.items():
        if mode not in robot.control_modes:
            raise ConfigError(f"robot.mix: {name} lacks control_mode {mode!r} (it accepts {', '.join(robot.control_modes)})")
        sizes[name] = _action_size(robot, mode)
    if len(set(sizes.values())) > 1:
        raise ConfigError(f"robot.mix: {mode} actions differ in size across the mix ({sizes}); use control_mode=ee_delta "
                          "(7 per arm for every arm robot) or robots of one kind")
    if cameras is not None:
        return  # named cameras: each robot is checked for them (simfarm.envs.cameras)
    cameras = {name: sorted(robot.cameras) for name, robot in robots.items()}
    if len({tuple(c) for c in cameras.values()}) > 1:
        raise ConfigError(f"robot.mix: the robots carry different cameras ({cameras}); an episode would need another "
                          "robot's camera: mix robots with the same cameras, or set cameras= to ones all of them have")


def _action_size(robot, mode: str) -> int:
    n_arm = len(robot.layout.arm_joints)
    return {"ee_delta": 7, "joint_pos": n_arm + 1, "base_vel": 3, "ee_delta+base_vel": 10}.get(mode, -1)
