"""The policy interface, the source registry and `make_policy`.

A policy is `reset(instruction, seed)` + `act(observation) -> action` + `close()`, with a `name`.
Sources are looked up by the spec's prefix (`random`, `python:MOD:ATTR`, `onnx:PATH`,
`lerobot:PATH`, `remote:ws://HOST:PORT`, ...); `register_policy_source` plugs in new ones (the task experts
register `scripted`) without editing this module. Every policy `make_policy` returns is wrapped in
`ValidatedPolicy`, so a wrong action fails early with a message naming the policy.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from simfarm.checks import did_you_mean
from simfarm.errors import ConfigError, PolicyError

# A source factory: (rest of the spec after "prefix:", observation_space, action_space, **options) -> policy.
PolicyFactory = Callable[..., Any]


@runtime_checkable
class PolicyLike(Protocol):
    """What the rollout needs from a policy object (reset and close are optional for user code)."""

    def act(self, observation: dict[str, Any]) -> np.ndarray: ...


class Policy:
    """Base class for simfarm policies: override `act`, and `reset`/`close` when needed."""

    name: str = "policy"

    def reset(self, instruction: str = "", seed: int = 0) -> None:
        """Start an episode: `seed` makes any randomness inside the policy reproducible."""

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        """The action for `observation` (a float array of the action space's shape)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release resources (sessions, sockets)."""


# --------------------------------------------------------------------------------------------
# Validation


def validate_action(action: Any, action_space: gym.spaces.Box, policy_name: str) -> np.ndarray:
    """Check an action against the Box: exact shape, float dtype, finite. Returns float32.

    float64 of the exact shape is cast (many user policies compute in float64); anything else
    raises PolicyError naming the policy and the expected shape and dtype.
    """
    expected = tuple(action_space.shape)
    try:
        arr = np.asarray(action)
    except Exception as exc:  # ragged lists, objects numpy cannot convert
        raise PolicyError(
            f"policy {policy_name!r} returned {type(action).__name__} that is not an array ({exc}); "
            f"expected float32 of shape {expected}"
        ) from exc
    if arr.shape != expected:
        raise PolicyError(
            f"policy {policy_name!r} returned an action of shape {arr.shape}; expected shape {expected} (float32)"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        raise PolicyError(
            f"policy {policy_name!r} returned dtype {arr.dtype}; expected a float dtype (float32) of shape {expected}"
        )
    if not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr)).tolist()
        raise PolicyError(
            f"policy {policy_name!r} returned a non-finite action (NaN or inf at indices {bad}); "
            f"expected finite float32 values of shape {expected}"
        )
    return arr.astype(np.float32, copy=False)


def call_reset(policy: Any, instruction: str, seed: int) -> None:
    """Call a user policy's reset however it is declared: (instruction, seed), (seed=), () or none."""
    reset = getattr(policy, "reset", None)
    if reset is None:
        return
    try:
        params = inspect.signature(reset).parameters.values()
    except (TypeError, ValueError):
        reset(instruction, seed)
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params):
        reset(instruction, seed)
    elif any(p.name == "seed" for p in params) or any(p.kind is p.VAR_KEYWORD for p in params):
        reset(seed=seed)
    else:
        reset()


class PolicyWrapper(Policy):
    """A policy around `self.policy`: closes it, and forwards attributes it lacks (e.g.
    `current_component`, `act_time_s`) to it, so wrappers stack transparently."""

    policy: Any

    def close(self) -> None:
        close = getattr(self.policy, "close", None)
        if close is not None:
            close()

    def __getattr__(self, item: str) -> Any:
        # Only called when normal lookup fails.
        if item == "policy":
            raise AttributeError(item)
        return getattr(self.policy, item)


class ValidatedPolicy(PolicyWrapper):
    """Wraps any policy object: checks every action, supplies missing reset/close, keeps attributes.

    Attributes of the wrapped policy (`current_component`, `act_time_s`, ...) stay reachable.
    """

    def __init__(self, policy: Any, action_space: gym.spaces.Box, name: str | None = None):
        if not callable(getattr(policy, "act", None)):
            raise PolicyError(
                f"policy {name or type(policy).__name__!r} has no act(observation) method"
            )
        self.policy = policy
        self.action_space = action_space
        self.name = name or getattr(policy, "name", None) or type(policy).__name__

    def reset(self, instruction: str = "", seed: int = 0) -> None:
        call_reset(self.policy, instruction, seed)

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        return validate_action(self.policy.act(observation), self.action_space, self.name)



# --------------------------------------------------------------------------------------------
# Random


def box_bounds(action_space: gym.spaces.Box) -> tuple[np.ndarray, np.ndarray]:
    """Finite sampling bounds: unbounded sides of the Box are replaced by ±1."""
    low = np.where(np.isfinite(action_space.low), action_space.low, -1.0).astype(np.float64)
    high = np.where(np.isfinite(action_space.high), action_space.high, 1.0).astype(np.float64)
    return low, high


class RandomPolicy(Policy):
    """Uniform actions in the action Box, drawn from a generator seeded by `reset`'s seed."""

    def __init__(self, action_space: gym.spaces.Box):
        self.action_space = action_space
        self.low, self.high = box_bounds(action_space)
        self.name = "random"
        self._rng = np.random.default_rng(0)

    def reset(self, instruction: str = "", seed: int = 0) -> None:
        self._rng = np.random.default_rng(seed)

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        return self._rng.uniform(self.low, self.high).astype(np.float32)


# --------------------------------------------------------------------------------------------
# python:MODULE:ATTR


def _accepted_kwargs(func: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The subset of kwargs `func` accepts by name, or None if it accepts none of them (call it bare)."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins and C extensions without a signature
        return {}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return dict(kwargs)
    accepted = {k: v for k, v in kwargs.items() if k in params}
    return accepted or None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def resolve_python_target(target: str, label: str | None = None, error: type[Exception] = PolicyError) -> Any:
    """Import MODULE and look up ATTR (dotted) of `MODULE:ATTR`; `error` names the part that fails.

    `label` starts each message (default `policy python:TARGET`). User code may raise anything while
    its module is imported; that becomes `error` too, in one line.
    """
    label = label or f"policy python:{target}"
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise error(
            f"{label} is malformed; expected python:MODULE:ATTR (e.g. python:my_pkg.policies:MyPolicy)"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise error(_one_line(f"{label}: cannot import module {module_name!r}: {exc}")) from exc
    except Exception as exc:  # the user module's own code failed while importing
        raise error(
            _one_line(f"{label}: importing module {module_name!r} failed: {type(exc).__name__}: {exc}")
        ) from exc
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            public = sorted(n for n in dir(module) if not n.startswith("_"))
            shown = ", ".join(public[:12]) + (f" ... ({len(public) - 12} more)" if len(public) > 12 else "")
            raise error(
                f"{label}: module {module_name!r} has no attribute {attr!r}{did_you_mean(attr, public)}; it defines: {shown or 'nothing public'}"
            ) from exc
    return obj


def check_python_target(target: str, label: str | None = None, error: type[Exception] = PolicyError) -> Any:
    """`resolve_python_target`, then refuse what cannot be a policy (e.g. a constant, a module, a class without act)."""
    label = label or f"policy python:{target}"
    obj = resolve_python_target(target, label, error)
    attr = target.partition(":")[2]
    if callable(getattr(obj, "act", None)):
        return obj  # an object with act(), or a class defining it
    if inspect.isclass(obj):
        raise error(f"{label}: class {attr!r} has no act(observation) method; a policy needs one")
    if not callable(obj):
        raise error(
            f"{label}: {attr!r} is a {type(obj).__name__}, not a class, factory or object with act()"
        )
    return obj  # a factory: what it returns is checked when it is called


def load_python_policy(
    target: str, observation_space: Any, action_space: Any, **options: Any
) -> Any:
    """Import `MODULE:ATTR` and build the policy object.

    ATTR is a class, a factory function or an object with `act`. Classes and factories are called
    with those of `(observation_space=..., action_space=..., **options)` their signature accepts
    (all of them if it takes **kwargs; options it does not name, such as `env`, are dropped), or
    with no arguments if it accepts none.
    """
    obj = check_python_target(target)
    attr = target.partition(":")[2]
    if callable(getattr(obj, "act", None)) and not inspect.isclass(obj):
        return obj
    kwargs = _accepted_kwargs(
        obj, {"observation_space": observation_space, "action_space": action_space, **options}
    )
    try:
        policy = obj() if kwargs is None else obj(**kwargs)
    except Exception as exc:
        raise PolicyError(
            _one_line(f"policy python:{target}: constructing {attr!r} failed: {type(exc).__name__}: {exc}")
        ) from exc
    if not callable(getattr(policy, "act", None)):
        raise PolicyError(
            f"policy python:{target}: {attr!r} returned a {type(policy).__name__} without an act(observation) method"
        )
    return policy


# --------------------------------------------------------------------------------------------
# Registry and make_policy

# A source check: (rest of the spec, options, where) -> None, raising ConfigError naming `where`.
PolicyCheck = Callable[[str, dict[str, Any], str], None]

_SOURCES: dict[str, PolicyFactory] = {}
_CHECKS: dict[str, PolicyCheck] = {}
# Sources whose check also takes `spaces=`: [(label, observation_space, action_space)] of the job's envs.
_CHECKS_WITH_SPACES: set[str] = set()


def register_policy_source(
    prefix: str, factory: PolicyFactory, *, replace: bool = True, check: PolicyCheck | None = None,
    check_needs_spaces: bool = False,
) -> None:
    """Make `prefix` (and `prefix:rest`) specs build policies with `factory`.

    `factory(rest, observation_space, action_space, **options)` returns an object with `act`;
    `rest` is what follows `prefix:` in the spec ("" for a bare prefix). The lead registers
    `scripted` to the task experts this way. `check(rest, options, where)`, if given, runs in the
    driver before any worker starts (`validate_config`, `serve-policy`): it loads what the source
    needs (a module, a model file, a connection) once and raises ConfigError naming `where`.
    With `check_needs_spaces`, the check is also given `spaces=[(label, observation_space,
    action_space)]` of the job's envs (one per robot of a mix; None where there is no job, as in
    serve-policy), so a model's inputs are matched with the env before any episode.
    """
    if not prefix or ":" in prefix:
        raise ConfigError(f"policy source prefix {prefix!r} must be a non-empty word without ':'")
    if prefix in _SOURCES and not replace:
        raise ConfigError(f"policy source {prefix!r} is already registered")
    _SOURCES[prefix] = factory
    _CHECKS_WITH_SPACES.discard(prefix)
    if check is not None:
        _CHECKS[prefix] = check
        if check_needs_spaces:
            _CHECKS_WITH_SPACES.add(prefix)
    else:
        _CHECKS.pop(prefix, None)


def policy_sources() -> list[str]:
    """The registered spec prefixes."""
    return sorted(_SOURCES)


def _random_source(rest: str, observation_space: Any, action_space: Any, **options: Any) -> Policy:
    return RandomPolicy(action_space)


def _python_source(rest: str, observation_space: Any, action_space: Any, **options: Any) -> Any:
    return load_python_policy(rest, observation_space, action_space, **options)


def _onnx_source(rest: str, observation_space: Any, action_space: Any, **options: Any) -> Any:
    from simfarm.policies.onnx_policy import OnnxPolicy

    return OnnxPolicy(rest, observation_space, action_space, **_drop(options, "env"))


def _remote_source(rest: str, observation_space: Any, action_space: Any, **options: Any) -> Any:
    from simfarm.policies.remote import RemotePolicy

    return RemotePolicy(rest, observation_space, action_space, **_drop(options, "env"))


def _lerobot_source(rest: str, observation_space: Any, action_space: Any, **options: Any) -> Any:
    from simfarm.policies.lerobot_policy import LeRobotPolicy

    return LeRobotPolicy(rest, observation_space, action_space, **options)


def _scripted_source(rest: str, observation_space: Any, action_space: Any, **options: Any) -> Any:
    # Fallback until the task layer registers its own source: an env that can build its expert.
    env = options.get("env")
    make_expert = getattr(env, "make_expert", None)
    if make_expert is None:
        raise PolicyError(
            "policy 'scripted' is the task's expert: pass env=<env with make_expert()> to make_policy, "
            "or register a 'scripted' source with register_policy_source"
        )
    return make_expert()


def _mixture_source(rest: str, observation_space: Any, action_space: Any, **options: Any) -> Any:
    from simfarm.policies.wrappers import make_mixture

    if "components" not in options:
        raise ConfigError(
            "policy 'mixture' needs a 'components' list, e.g. [{policy: scripted, weight: 0.7}, {policy: random, weight: 0.3}]"
        )
    components = options.pop("components")
    return make_mixture(components, observation_space, action_space, **options)


def _drop(options: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k not in keys}


def _check_random(rest: str, options: dict[str, Any], where: str) -> None:
    unknown = sorted(set(options) - {"env"})
    if rest or unknown:
        raise ConfigError(
            f"{where}: the random policy takes no target and no options, got {('random:' + rest) if rest else unknown}"
        )


def _check_python(rest: str, options: dict[str, Any], where: str) -> None:
    check_python_target(rest, label=f"{where}: python:{rest}", error=ConfigError)


def _check_onnx(rest: str, options: dict[str, Any], where: str) -> None:
    from simfarm.policies.onnx_policy import check_onnx_policy

    check_onnx_policy(rest, _drop(options, "env"), where)


def _check_remote(rest: str, options: dict[str, Any], where: str) -> None:
    from simfarm.policies.remote import check_remote_policy

    check_remote_policy(rest, _drop(options, "env"), where)


def _check_lerobot(rest: str, options: dict[str, Any], where: str, spaces: Any = None) -> None:
    from simfarm.policies.lerobot_policy import check_lerobot_policy

    check_lerobot_policy(rest, _drop(options, "env"), where, spaces)


for _prefix, _factory, _check in (
    ("random", _random_source, _check_random),
    ("python", _python_source, _check_python),
    ("onnx", _onnx_source, _check_onnx),
    ("remote", _remote_source, _check_remote),
    ("scripted", _scripted_source, None),
    ("mixture", _mixture_source, None),
):
    register_policy_source(_prefix, _factory, check=_check)
register_policy_source("lerobot", _lerobot_source, check=_check_lerobot, check_needs_spaces=True)

# Keys of a job's policy config group that describe the group, not the policy's constructor.
_CONFIG_ONLY_KEYS = ("spec", "name", "_target_", "description")


def make_policy(
    spec: str, observation_space: Any, action_space: gym.spaces.Box, **options: Any
) -> ValidatedPolicy:
    """Build the policy named by `spec` (see the module docstring), wrapped in validation.

    Options shared by every source: `components` (a mixture: spec is then ignored unless it is
    `mixture`), `action_noise_std` (adds DART-style noise through NoisyPolicy). Everything else
    goes to the source's factory (e.g. `inputs`/`output` for onnx, `timeout_s` for remote).
    """
    if not isinstance(spec, str) or not spec:
        raise ConfigError(
            f"policy spec must be a non-empty string, got {spec!r}; accepted prefixes: {policy_sources()}"
        )
    options = {k: v for k, v in options.items() if k not in _CONFIG_ONLY_KEYS and v is not None}
    if options.get("components"):
        spec = "mixture"
    noise_std = options.pop("action_noise_std", None)
    prefix, _, rest = spec.partition(":")
    factory = _SOURCES.get(prefix)
    if factory is None:
        raise ConfigError(
            f"unknown policy source {prefix!r} in spec {spec!r}; accepted: {policy_sources()} (e.g. python:MOD:ATTR, onnx:PATH, lerobot:PATH, remote:ws://HOST:PORT)"
        )
    policy = factory(rest, observation_space, action_space, **options)
    name = spec if prefix != "mixture" else "mixture"
    if noise_std:
        from simfarm.policies.wrappers import NoisyPolicy

        policy = NoisyPolicy(policy, noise_std, action_space)
        name = f"{name}+noise"
    if isinstance(policy, ValidatedPolicy) and not noise_std:
        return policy
    return ValidatedPolicy(policy, action_space, name=name)


def validate_config(job: dict[str, Any]) -> None:
    """Check a job's `policy` group in the driver, before any worker starts.

    Besides the spec's form, the mixture's weights, noise and latency, each policy (each mixture
    component) is loaded as far as can be without the env: a `python:` module is imported and its
    attribute must be a class, factory or object with act(); an `onnx:` file is opened by
    onnxruntime and its inputs and output matched to the options; a `remote:` server must accept
    one TCP connection within ~2 s. That costs an import, a model load and a connection once per
    job, and turns what would be a failure in every worker into one line here.
    """
    policy_cfg = job.get("policy")
    if policy_cfg is None:
        return
    if isinstance(policy_cfg, str):
        policy_cfg = {"spec": policy_cfg}
    _validate_policy_entry(policy_cfg, "policy", {}, JobSpaces(job))
    latency = job.get("latency_s", 0.0)
    if not isinstance(latency, (int, float)) or isinstance(latency, bool) or latency < 0:
        raise ConfigError(f"latency_s must be a number >= 0 (seconds), got {latency!r}")
    if "relabel" in job:
        from simfarm.checks import one_of

        one_of("relabel", job["relabel"], RELABEL_MODES)
    from simfarm.policies.wrappers import check_takeover

    if check_takeover(job.get("takeover"))["patience"] and job.get("relabel") == "none":
        raise ConfigError("takeover: the expert takes over from its labels, so it needs relabel=expert or auto, got relabel=none")


# `relabel`: auto labels every step with the task's expert action for the same state whenever the
# executed actions are not the plain expert's (a learned policy, a mixture, DART noise, latency);
# expert always does; none never does.
RELABEL_MODES = ("auto", "expert", "none")


def wants_expert_labels(job: dict[str, Any]) -> bool:
    """Whether a job's episodes record `action.expert` (see RELABEL_MODES)."""
    mode = job.get("relabel", "auto")
    if mode == "none":
        return False
    if mode == "expert" or (job.get("takeover") or {}).get("patience"):
        return True
    policy = job.get("policy") or {"spec": "scripted"}
    if isinstance(policy, str):
        policy = {"spec": policy}
    plain = (policy.get("spec", "scripted") == "scripted" and not policy.get("action_noise_std")
             and not job.get("latency_s"))
    return not plain


def check_policy(spec: str, where: str = "policy", **options: Any) -> None:
    """The driver-side checks of `validate_config` for one spec and its options (as `make_policy` takes them)."""
    if not isinstance(spec, str) or not spec:
        raise ConfigError(
            f"{where}: the policy spec must be a non-empty string, got {spec!r}; accepted prefixes: {policy_sources()}"
        )
    _validate_policy_entry({**options, "spec": spec}, where, {})


# Keys of a config entry that describe the entry, not options of the policy's source.
_ENTRY_KEYS = (*_CONFIG_ONLY_KEYS, "policy", "weight", "components", "action_noise_std")


class JobSpaces:
    """The observation and action spaces of a job's envs, built on first use (once per job).

    Calling it gives [(label, observation_space, action_space)]: one entry, or one per robot of a
    `robot=mix` job (label `robot=NAME`). Building an env costs a scene build, so only the checks
    that match a model with the env (`check_needs_spaces`) call it.
    """

    def __init__(self, job: dict[str, Any]):
        self.job = job
        self._spaces: list[tuple[str, Any, Any]] | None = None

    def __call__(self) -> list[tuple[str, Any, Any]]:
        if self._spaces is None:
            from simfarm.envs import EnvConfig, SimfarmEnv
            from simfarm.robots.mix import is_mix, mix_weights

            job = self.job
            members = ([(f"robot={name}", {**job, "robot": {"name": name}}) for name in mix_weights(job["robot"])]
                       if is_mix(job.get("robot")) else [("", job)])
            self._spaces = []
            for label, member in members:
                env = SimfarmEnv(EnvConfig.from_job(member))
                try:
                    self._spaces.append((label, env.observation_space, env.action_space))
                finally:
                    env.close()
        return self._spaces


def _validate_policy_entry(entry: dict[str, Any], where: str, inherited: dict[str, Any],
                           spaces: JobSpaces | None = None) -> None:
    """Static checks of one entry, then its source's own check with the options it would get."""
    spec = entry.get("spec", entry.get("policy"))
    components = entry.get("components")
    # What make_policy/make_mixture pass on: the parent's options under the entry's own.
    options = {**inherited, **{k: v for k, v in entry.items() if k not in _ENTRY_KEYS and v is not None}}
    if components:
        if not isinstance(components, list):
            raise ConfigError(
                f"{where}.components must be a list of {{policy, weight}} entries, got {components!r}"
            )
        for k, component in enumerate(components):
            if not isinstance(component, dict) or "policy" not in component:
                raise ConfigError(
                    f"{where}.components[{k}] must be a mapping with a 'policy' spec and a 'weight', got {component!r}"
                )
            weight = component.get("weight", 1.0)
            if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight < 0:
                raise ConfigError(
                    f"{where}.components[{k}].weight must be a number >= 0, got {weight!r}"
                )
        if sum(float(c.get("weight", 1.0)) for c in components) <= 0:
            raise ConfigError(
                f"{where}.components: the weights sum to 0; give at least one a positive weight"
            )
        for k, component in enumerate(components):
            _validate_policy_entry(component, f"{where}.components[{k}]", options, spaces)
        return
    if not isinstance(spec, str) or not spec:
        raise ConfigError(
            f"{where}.spec must be a policy spec string, got {spec!r}; accepted prefixes: {policy_sources()}"
        )
    prefix, _, rest = spec.partition(":")
    if prefix not in _SOURCES:
        raise ConfigError(
            f"{where}.spec {spec!r}: unknown policy source {prefix!r}{did_you_mean(prefix, _SOURCES)}; accepted: {policy_sources()}"
        )
    if prefix == "mixture":
        raise ConfigError(f"{where}: spec 'mixture' needs a non-empty 'components' list")
    if prefix == "python" and rest.count(":") != 1:
        raise ConfigError(f"{where}.spec {spec!r} is malformed; expected python:MODULE:ATTR")
    if prefix in ("onnx", "remote", "lerobot") and not rest:
        raise ConfigError(
            f"{where}.spec {spec!r} needs a target: onnx:PATH, lerobot:PATH or remote:ws://HOST:PORT"
        )
    if prefix == "remote" and not rest.startswith(("ws://", "wss://")):
        raise ConfigError(f"{where}.spec {spec!r}: expected remote:ws://HOST:PORT (or wss://)")
    noise = entry.get("action_noise_std")
    if noise is not None:
        values = noise if isinstance(noise, list) else [noise]
        if not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in values
        ):
            raise ConfigError(
                f"{where}.action_noise_std must be a number >= 0 or a list of them, got {noise!r}"
            )
    check = _CHECKS.get(prefix)
    if check is not None and prefix in _CHECKS_WITH_SPACES:
        check(rest, options, where, spaces=spaces() if spaces is not None else None)
    elif check is not None:
        check(rest, options, where)
