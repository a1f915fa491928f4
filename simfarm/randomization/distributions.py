"""Distributions as small typed objects that a config can name, and how a sample meets a nominal value.

A config entry such as `{dist: uniform, low: 0.8, high: 1.2, mode: scale}` parses into a
`ParamSpec`: a `Distribution` (what to draw), a `mode` (how the draw combines with the model's
nominal value) and `shared` (one draw for the whole group instead of one per element).

Scalars and per-axis vectors: `low: 0.9` draws one number per element and broadcasts it over the
parameter's axes; `low: [0.9, 0.9, 0.5]` draws one number per axis. Sampling always takes an
explicit `np.random.Generator`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from simfarm.errors import RandomizationError


def _cache(obj: object, **arrays: object) -> None:
    """Precomputed numpy arrays on a frozen dataclass (sampling runs every episode)."""
    for key, value in arrays.items():
        object.__setattr__(obj, key, np.asarray(value, dtype=np.float64))


# How a draw meets the nominal value: scale multiplies it (relative), absolute replaces it,
# add offsets it.
MODES = ("absolute", "add", "scale")


class Distribution(Protocol):
    """A named distribution over scalars or per-axis vectors."""

    name: str

    @property
    def dims(self) -> int:
        """Width of one draw: 1 for a scalar distribution, k for a per-axis vector."""
        ...

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` draws as a float64 array of shape (n, dims)."""
        ...

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest values a draw can take, per axis (±inf when unbounded)."""
        ...


@dataclass(frozen=True)
class Constant:
    """Always the same value (a bare number in a config)."""

    value: tuple[float, ...]
    name: str = "constant"

    @property
    def dims(self) -> int:
        return len(self.value)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.broadcast_to(np.asarray(self.value, dtype=np.float64), (n, self.dims)).copy()

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        v = np.asarray(self.value, dtype=np.float64)
        return v, v


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high] per axis."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    name: str = "uniform"

    @property
    def dims(self) -> int:
        return len(self.low)

    def __post_init__(self) -> None:
        _cache(self, low_a=self.low, high_a=self.high)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low_a, self.high_a, size=(n, self.dims))

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.low, dtype=np.float64), np.asarray(self.high, dtype=np.float64)


@dataclass(frozen=True)
class LogUniform:
    """Log-uniform on [low, high] (both > 0): every factor of 2 in the range is equally likely."""

    low: tuple[float, ...]
    high: tuple[float, ...]
    name: str = "log_uniform"

    @property
    def dims(self) -> int:
        return len(self.low)

    def __post_init__(self) -> None:
        _cache(self, log_low=np.log(self.low), log_high=np.log(self.high))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.exp(rng.uniform(self.log_low, self.log_high, size=(n, self.dims)))

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.low, dtype=np.float64), np.asarray(self.high, dtype=np.float64)


@dataclass(frozen=True)
class Normal:
    """Gaussian N(mean, std) per axis, optionally clipped to [clip_low, clip_high]."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    clip_low: tuple[float, ...] | None = None
    clip_high: tuple[float, ...] | None = None
    name: str = "normal"

    @property
    def dims(self) -> int:
        return len(self.mean)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        x = rng.normal(self.mean, self.std, size=(n, self.dims))
        if self.clip_low is not None or self.clip_high is not None:
            lo = -np.inf if self.clip_low is None else np.asarray(self.clip_low)
            hi = np.inf if self.clip_high is None else np.asarray(self.clip_high)
            np.clip(x, lo, hi, out=x)
        return x

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        lo = np.full(self.dims, -np.inf) if self.clip_low is None else np.asarray(self.clip_low, dtype=np.float64)
        hi = np.full(self.dims, np.inf) if self.clip_high is None else np.asarray(self.clip_high, dtype=np.float64)
        # A zero std never leaves the mean.
        std0 = np.asarray(self.std) == 0
        mean = np.asarray(self.mean, dtype=np.float64)
        lo = np.where(std0, np.maximum(lo, mean), lo)
        hi = np.where(std0, np.minimum(hi, mean), hi)
        return lo, hi


@dataclass(frozen=True)
class Choice:
    """One of `values`, uniformly (optionally weighted by `probs`). Each value is a scalar or a vector."""

    values: tuple[tuple[float, ...], ...]
    probs: tuple[float, ...] | None = None
    name: str = "choice"

    @property
    def dims(self) -> int:
        return len(self.values[0])

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        table = np.asarray(self.values, dtype=np.float64)
        idx = rng.choice(len(table), size=n, p=self.probs)
        return table[idx]

    def support(self) -> tuple[np.ndarray, np.ndarray]:
        table = np.asarray(self.values, dtype=np.float64)
        return table.min(axis=0), table.max(axis=0)


def uniform(low: float | list[float], high: float | list[float]) -> Uniform:
    """Uniform on [low, high]; lists give one range per axis."""
    return _parse_dist({"dist": "uniform", "low": low, "high": high}, "uniform")  # type: ignore[return-value]


def log_uniform(low: float | list[float], high: float | list[float]) -> LogUniform:
    """Log-uniform on [low, high] (both > 0); lists give one range per axis."""
    return _parse_dist({"dist": "log_uniform", "low": low, "high": high}, "log_uniform")  # type: ignore[return-value]


def normal(
    mean: float | list[float], std: float | list[float], clip: tuple[Any, Any] | None = None
) -> Normal:
    """N(mean, std), optionally clipped to `clip = (low, high)` (either may be None)."""
    cfg: dict[str, Any] = {"dist": "normal", "mean": mean, "std": std}
    if clip is not None:
        cfg["clip"] = list(clip)
    return _parse_dist(cfg, "normal")  # type: ignore[return-value]


def choice(values: list[Any], probs: list[float] | None = None) -> Choice:
    """One of `values` (scalars or equal-length vectors), uniformly or with `probs`."""
    cfg: dict[str, Any] = {"dist": "choice", "values": values}
    if probs is not None:
        cfg["probs"] = probs
    return _parse_dist(cfg, "choice")  # type: ignore[return-value]


def constant(value: float | list[float]) -> Constant:
    """Always `value`."""
    return _parse_dist({"dist": "constant", "value": value}, "constant")  # type: ignore[return-value]


# dist name -> (required fields, optional fields)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "choice": (("values",), ("probs",)),
    "constant": (("value",), ()),
    "log_uniform": (("low", "high"), ()),
    "normal": (("mean", "std"), ("clip",)),
    "uniform": (("low", "high"), ()),
}
PARAM_FIELDS = ("dist", "mode", "shared")


@dataclass(frozen=True)
class ParamSpec:
    """One randomized parameter: what to draw, how it meets the nominal value, one draw or many."""

    dist: Distribution
    mode: str = "scale"
    shared: bool = False

    def sample(self, rng: np.random.Generator, n: int, axes: int = 1) -> np.ndarray:
        """(n, dims) draws; with `shared`, one draw repeated for all n elements.

        `axes > 1` asks a scalar distribution for independent draws per axis, shape (n, axes)
        (a position jitter of ±2 cm moves each axis independently).
        """
        k = 1 if self.shared else n
        if self.dist.dims == 1 and axes > 1:
            draws = self.dist.sample(rng, k * axes).reshape(k, axes)
        else:
            draws = self.dist.sample(rng, k)
        return np.repeat(draws, n, axis=0) if self.shared else draws

    def combine(self, nominal: np.ndarray, draw: np.ndarray) -> np.ndarray:
        """The new value of each element: draw (n, dims) broadcast against nominal (n, axes)."""
        if self.mode == "scale":
            return nominal * draw
        if self.mode == "add":
            return nominal + draw
        return np.broadcast_to(draw, nominal.shape).astype(np.float64)  # a fresh array callers may modify

    def to_dict(self) -> dict[str, Any]:
        return {"dist": self.dist.name, "mode": self.mode, "shared": self.shared}


def parse_param(
    cfg: Any,
    path: str,
    modes: tuple[str, ...] = MODES,
    default_mode: str = "scale",
    axes: int = 1,
) -> ParamSpec:
    """Parse a parameter entry; errors name `path` and the accepted values.

    `cfg` is a mapping (`{dist: ..., mode: ..., shared: ...}` plus the distribution's fields) or a
    bare number / list (a constant). `axes` is the width of the model value this parameter
    writes: a vector distribution must have that many axes.
    """
    if isinstance(cfg, (int, float, list, tuple)) and not isinstance(cfg, bool):
        cfg = {"dist": "constant", "value": cfg}
    if not isinstance(cfg, dict):
        raise RandomizationError(
            f"{path}: expected a mapping like {{dist: uniform, low: 0.9, high: 1.1, mode: scale}} "
            f"or a number, got {cfg!r}"
        )
    mode = cfg.get("mode", default_mode)
    if mode not in modes:
        raise RandomizationError(f"{path}.mode: got {mode!r}; accepted: {', '.join(modes)}")
    shared = cfg.get("shared", False)
    if not isinstance(shared, bool):
        raise RandomizationError(f"{path}.shared: expected true or false, got {shared!r}")
    dist = _parse_dist({k: v for k, v in cfg.items() if k not in ("mode", "shared")}, path)
    if dist.dims not in (1, axes):
        raise RandomizationError(
            f"{path}: the distribution has {dist.dims} axes; this parameter takes a scalar or {axes} axes"
        )
    return ParamSpec(dist=dist, mode=mode, shared=shared)


def _parse_dist(cfg: dict[str, Any], path: str) -> Distribution:
    name = cfg.get("dist")
    if name is None:
        raise RandomizationError(f"{path}.dist: missing; accepted: {', '.join(DISTRIBUTIONS)}")
    if name not in DISTRIBUTIONS:
        raise RandomizationError(f"{path}.dist: unknown distribution {name!r}; accepted: {', '.join(DISTRIBUTIONS)}")
    required, optional = DISTRIBUTIONS[name]
    for key in required:
        if key not in cfg:
            raise RandomizationError(f"{path}.{key}: missing for dist {name}; {name} takes {', '.join(required + optional)}")
    unknown = sorted(set(cfg) - {"dist", *required, *optional})
    if unknown:
        raise RandomizationError(
            f"{path}.{unknown[0]}: unknown field for dist {name}; accepted: "
            + ", ".join(("dist", *required, *optional, "mode", "shared"))
        )
    if name == "constant":
        return Constant(_vector(cfg["value"], f"{path}.value"))
    if name in ("uniform", "log_uniform"):
        low, high = _pair(cfg["low"], cfg["high"], path, "low", "high")
        if np.any(np.asarray(high) < np.asarray(low)):
            raise RandomizationError(f"{path}: high {list(high)} is below low {list(low)}")
        if name == "log_uniform":
            if np.any(np.asarray(low) <= 0):
                raise RandomizationError(f"{path}.low: log_uniform needs low > 0, got {list(low)}")
            return LogUniform(low, high)
        return Uniform(low, high)
    if name == "normal":
        mean, std = _pair(cfg["mean"], cfg["std"], path, "mean", "std")
        if np.any(np.asarray(std) < 0):
            raise RandomizationError(f"{path}.std: must be >= 0, got {list(std)}")
        clip_low = clip_high = None
        if "clip" in cfg:
            clip = cfg["clip"]
            if not isinstance(clip, (list, tuple)) or len(clip) != 2:
                raise RandomizationError(f"{path}.clip: expected [low, high] (either may be null), got {clip!r}")
            n = len(mean)
            clip_low = None if clip[0] is None else _broadcast(_vector(clip[0], f"{path}.clip[0]"), n, f"{path}.clip[0]")
            clip_high = None if clip[1] is None else _broadcast(_vector(clip[1], f"{path}.clip[1]"), n, f"{path}.clip[1]")
        return Normal(mean, std, clip_low, clip_high)
    # choice
    values = cfg["values"]
    if not isinstance(values, (list, tuple)) or not values:
        raise RandomizationError(f"{path}.values: expected a non-empty list, got {values!r}")
    table = tuple(_vector(v, f"{path}.values[{i}]") for i, v in enumerate(values))
    if len({len(v) for v in table}) != 1:
        raise RandomizationError(f"{path}.values: every value must have the same number of axes, got {values!r}")
    probs = cfg.get("probs")
    if probs is not None:
        p = _vector(probs, f"{path}.probs")
        if len(p) != len(table) or any(x < 0 for x in p) or abs(sum(p) - 1.0) > 1e-6:
            raise RandomizationError(f"{path}.probs: expected {len(table)} non-negative numbers summing to 1, got {probs!r}")
        probs = p
    return Choice(table, probs)


def _vector(value: Any, path: str) -> tuple[float, ...]:
    items = value if isinstance(value, (list, tuple)) else [value]
    if not items:
        raise RandomizationError(f"{path}: expected a number or a list of numbers, got []")
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            raise RandomizationError(f"{path}: expected a finite number or a list of them, got {value!r}")
        out.append(float(v))
    return tuple(out)


def _broadcast(v: tuple[float, ...], n: int, path: str) -> tuple[float, ...]:
    if len(v) == n:
        return v
    if len(v) == 1:
        return v * n
    raise RandomizationError(f"{path}: has {len(v)} axes, expected 1 or {n}")


def _pair(a: Any, b: Any, path: str, name_a: str, name_b: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    va, vb = _vector(a, f"{path}.{name_a}"), _vector(b, f"{path}.{name_b}")
    n = max(len(va), len(vb))
    return _broadcast(va, n, f"{path}.{name_a}"), _broadcast(vb, n, f"{path}.{name_b}")
