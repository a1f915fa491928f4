"""Policy wrappers: action noise (DART-style), per-episode mixtures, simulated inference latency.

Every random choice derives from the seed passed to `reset`, through SeedSequence children with
fixed tags, so the component choice, the noise and the component's own randomness are independent
streams and an episode replays identically from its policy seed.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from simfarm.errors import ConfigError
from simfarm.policies.base import Policy, PolicyWrapper, box_bounds, call_reset

# SeedSequence tags of the streams a wrapper derives from its reset seed. Append only.
_CHOICE_TAG = 0
_CHILD_TAG = 1
_NOISE_TAG = 2

_SEED_MASK = (1 << 63) - 1


def child_seed(seed: int, tag: int) -> int:
    """A seed for a wrapped policy or stream, independent of the others derived from `seed`."""
    return int(
        np.random.SeedSequence([int(seed) & _SEED_MASK, tag]).generate_state(2, np.uint64)[0]
        & _SEED_MASK
    )


class NoisyPolicy(PolicyWrapper):
    """Adds Gaussian action noise (DART-style), clipped to the action Box.

    `clean_action` keeps the wrapped policy's last action, so a writer can record the expert's
    label beside the executed (noisy) action.
    """

    def __init__(
        self, policy: Any, action_noise_std: float | list[float], action_space: gym.spaces.Box
    ):
        std = np.asarray(action_noise_std, dtype=np.float64)
        if (
            np.any(std < 0)
            or not np.all(np.isfinite(std))
            or std.ndim > 1
            or (std.ndim == 1 and std.shape != action_space.shape)
        ):
            raise ConfigError(
                f"action_noise_std must be a non-negative number or a list of {action_space.shape[0]} numbers, got {action_noise_std!r}"
            )
        self.policy = policy
        self.action_noise_std = std
        # Real bounds (possibly infinite): noise must not clip an unbounded side to ±1.
        self.low = np.asarray(action_space.low, dtype=np.float64)
        self.high = np.asarray(action_space.high, dtype=np.float64)
        self.name = f"{getattr(policy, 'name', type(policy).__name__)}+noise"
        self.clean_action: np.ndarray | None = None
        self._rng = np.random.default_rng(0)

    def reset(self, instruction: str = "", seed: int = 0) -> None:
        self._rng = np.random.default_rng(child_seed(seed, _NOISE_TAG))
        call_reset(self.policy, instruction, child_seed(seed, _CHILD_TAG))

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        action = np.asarray(self.policy.act(observation))
        self.clean_action = action
        noisy = action + self._rng.normal(0.0, 1.0, size=action.shape) * self.action_noise_std
        return np.clip(noisy, self.low, self.high).astype(np.float32)



@dataclass
class MixtureComponent:
    """One policy of a mixture, chosen for a whole episode with probability weight / sum(weights)."""

    name: str
    weight: float
    policy: Any


class MixturePolicy(Policy):
    """Picks one component per episode from the reset seed and delegates to it.

    `current_component` names the episode's component (recorded in the episode metadata).
    """

    def __init__(self, components: list[MixtureComponent]):
        if not components:
            raise ConfigError("a policy mixture needs at least one component")
        weights = np.array([c.weight for c in components], dtype=np.float64)
        if np.any(~np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
            raise ConfigError(
                f"mixture weights must be non-negative with a positive sum, got {weights.tolist()}"
            )
        self.components = components
        self.probabilities = weights / weights.sum()
        self.name = "mixture"
        self.current_component: str | None = None
        self._current: Any = None

    def reset(self, instruction: str = "", seed: int = 0) -> None:
        rng = np.random.default_rng(child_seed(seed, _CHOICE_TAG))
        index = int(rng.choice(len(self.components), p=self.probabilities))
        component = self.components[index]
        self.current_component = component.name
        self._current = component.policy
        component.policy.reset(instruction, child_seed(seed, _CHILD_TAG))

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        if self._current is None:
            raise ConfigError(
                "MixturePolicy.act called before reset(instruction, seed) chose a component"
            )
        return self._current.act(observation)

    def close(self) -> None:
        for component in self.components:
            component.policy.close()


def make_mixture(
    components: list[dict[str, Any]],
    observation_space: Any,
    action_space: gym.spaces.Box,
    **options: Any,
) -> MixturePolicy:
    """Build a MixturePolicy from config entries `{policy: SPEC, weight: W, [action_noise_std], [name], ...}`.

    Extra keys of an entry, and the shared `options` (e.g. `env`), go to that component's source.
    Names default to the spec (plus `+noise<std>`), made unique with `#k`.
    """
    from simfarm.policies.base import make_policy

    if not isinstance(components, (list, tuple)) or not components:
        raise ConfigError(
            f"policy.components must be a non-empty list of {{policy, weight}} entries, got {components!r}"
        )
    built: list[MixtureComponent] = []
    seen: dict[str, int] = {}
    for k, entry in enumerate(components):
        if not isinstance(entry, dict) or "policy" not in entry:
            raise ConfigError(
                f"policy.components[{k}] must be a mapping with a 'policy' spec and a 'weight', got {entry!r}"
            )
        entry = dict(entry)
        spec = entry.pop("policy")
        weight = entry.pop("weight", 1.0)
        if not isinstance(weight, (int, float)) or isinstance(weight, bool):
            raise ConfigError(f"policy.components[{k}].weight must be a number, got {weight!r}")
        name = entry.pop("name", None)
        noise = entry.get("action_noise_std")
        if name is None:
            name = f"{spec}+noise{noise}" if noise else str(spec)
        if name in seen:
            seen[name] += 1
            name = f"{name}#{seen[name]}"
        else:
            seen[name] = 0
        policy = make_policy(spec, observation_space, action_space, **{**options, **entry})
        built.append(MixtureComponent(name=name, weight=float(weight), policy=policy))
    return MixturePolicy(built)


def latency_steps(latency_s: float, control_hz: float) -> int:
    """Control steps an action waits before taking effect: ceil(latency_s * control_hz)."""
    if latency_s < 0 or control_hz <= 0:
        raise ConfigError(
            f"latency_s must be >= 0 and control_hz > 0, got latency_s={latency_s}, control_hz={control_hz}"
        )
    # Round first so 0.1 s at 10 Hz is 1 step, not 2 from 1.0000000000000002.
    return int(math.ceil(round(latency_s * control_hz, 9)))


class LatencyPolicy(PolicyWrapper):
    """Simulates inference latency: the action computed at step t takes effect at step t + delay.

    delay = ceil(latency_s * control_hz). Until an action is due, the previous one is held; before
    the first one arrives, `initial_action` (default zeros clipped to the Box, the usual no-op of
    delta control modes) is sent. `act_time_s` lists the real wall time of every inner `act` call
    of the current episode.
    """

    def __init__(
        self,
        policy: Any,
        latency_s: float,
        control_hz: float,
        action_space: gym.spaces.Box | None = None,
        initial_action: np.ndarray | None = None,
    ):
        self.policy = policy
        self.latency_s = float(latency_s)
        self.control_hz = float(control_hz)
        self.delay_steps = latency_steps(latency_s, control_hz)
        self.name = f"{getattr(policy, 'name', type(policy).__name__)}+latency{self.latency_s:g}s"
        if initial_action is None and action_space is not None:
            low, high = box_bounds(action_space)
            initial_action = np.clip(np.zeros(action_space.shape), low, high).astype(np.float32)
        self.initial_action = (
            None if initial_action is None else np.asarray(initial_action, dtype=np.float32)
        )
        self.act_time_s: list[float] = []
        self._pending: deque[np.ndarray] = deque()
        self._held: np.ndarray | None = self.initial_action

    def reset(self, instruction: str = "", seed: int = 0) -> None:
        self.act_time_s = []
        self._pending.clear()
        self._held = self.initial_action
        call_reset(self.policy, instruction, seed)

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        t0 = time.perf_counter()
        action = np.asarray(self.policy.act(observation))
        self.act_time_s.append(time.perf_counter() - t0)
        if self.delay_steps == 0:
            return action
        self._pending.append(action)
        if len(self._pending) > self.delay_steps:
            self._held = self._pending.popleft()
        if self._held is None:
            # No action space given: the best no-op we know is zeros of the first action's shape.
            self._held = np.zeros_like(action, dtype=np.float32)
        return self._held


# `takeover`: the job's default leaves the policy in control for every step.
TAKEOVER_OFF = {"patience": 0, "tolerance": 0.25}


class TakeoverGate:
    """Expert intervention (HG-DAgger style): when the policy strays, the expert drives to the end.

    Each step compares the policy's action with the expert's label for the same state; their
    distance is the largest per-component |action - label| as a fraction of that component's range
    in the action Box (unbounded components are left out). Once it exceeds `tolerance` on
    `patience` consecutive steps, `strayed` says so and the rollout executes the labels from that
    step on, so the episode records the learner's own states up to the mistake and then the
    expert's coherent recovery from it: the data a chunked policy needs to learn to recover, where
    plain DAgger records only per-state labels along the learner's (often stuck) path.
    """

    def __init__(self, patience: int, tolerance: float, action_space: gym.spaces.Box):
        self.patience = int(patience)
        self.tolerance = float(tolerance)
        span = np.asarray(action_space.high, np.float64) - np.asarray(action_space.low, np.float64)
        self.scale = np.where(np.isfinite(span) & (span > 0), 1.0 / np.where(span > 0, span, 1.0), 0.0)
        self.run = 0

    @classmethod
    def from_job(cls, job: dict[str, Any], action_space: gym.spaces.Box) -> TakeoverGate | None:
        """The job's gate, or None when `takeover.patience` is 0 (the default)."""
        cfg = check_takeover(job.get("takeover"))
        return cls(cfg["patience"], cfg["tolerance"], action_space) if cfg["patience"] else None

    def reset(self) -> None:
        self.run = 0

    def distance(self, action: np.ndarray, label: np.ndarray) -> float:
        return float(np.max(np.abs(np.asarray(action, np.float64) - label) * self.scale))

    def strayed(self, action: np.ndarray, label: np.ndarray) -> bool:
        self.run = self.run + 1 if self.distance(action, label) > self.tolerance else 0
        return self.run >= self.patience


def check_takeover(value: Any) -> dict[str, Any]:
    """The `takeover` group with its defaults filled in; one line naming the key if it is wrong."""
    from simfarm.checks import integer, known_options, number

    if value is None:
        return dict(TAKEOVER_OFF)
    if not isinstance(value, dict):
        raise ConfigError(
            f"takeover must be a mapping {{patience: N, tolerance: X}} (e.g. takeover.patience=3), got {value!r}"
        )
    known_options("takeover", "key", value, TAKEOVER_OFF)
    cfg = {**TAKEOVER_OFF, **value}
    cfg["patience"] = integer("takeover.patience", cfg["patience"], 0)
    cfg["tolerance"] = number("takeover.tolerance", cfg["tolerance"], 0.0, 1.0)
    return cfg
