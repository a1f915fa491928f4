"""Policies: the interface, every source (random, python, onnx, remote, mixture) and wrappers.

    policy = make_policy("python:my_pkg.policies:Pol", env.observation_space, env.action_space)
    policy.reset(instruction, seed); action = policy.act(observation); policy.close()

`scripted` resolves to the task's expert (`register_policy_source("scripted", factory)`).
"""

from simfarm.policies.base import (
    Policy,
    PolicyLike,
    RandomPolicy,
    ValidatedPolicy,
    check_policy,
    load_python_policy,
    make_policy,
    policy_sources,
    register_policy_source,
    validate_action,
    validate_config,
)
from simfarm.policies.wrappers import (
    LatencyPolicy,
    MixtureComponent,
    MixturePolicy,
    NoisyPolicy,
    latency_steps,
    make_mixture,
)

__all__ = [
    "LatencyPolicy",
    "MixtureComponent",
    "MixturePolicy",
    "NoisyPolicy",
    "Policy",
    "PolicyLike",
    "RandomPolicy",
    "ValidatedPolicy",
    "check_policy",
    "latency_steps",
    "load_python_policy",
    "make_mixture",
    "make_policy",
    "policy_sources",
    "register_policy_source",
    "serve_policy",
    "validate_action",
    "validate_config",
]


def serve_policy(*args, **kwargs):
    """Lazy alias of `simfarm.policies.server.serve_policy` (websockets loads only when serving)."""
    from simfarm.policies.server import serve_policy as _serve

    return _serve(*args, **kwargs)
