"""Specifications of the policy interface, make_policy, the random and python sources and validation."""

from __future__ import annotations

import numpy as np
import pytest
from policy_toys import POLICY_MODULE, PointMassEnv, run_point_mass, sample_observation

from simfarm.errors import ConfigError, PolicyError
from simfarm.policies import Policy, make_policy, policy_sources, register_policy_source


def test_random_policy_is_deterministic_from_the_reset_seed(spaces):
    obs_space, act_space = spaces
    obs = sample_observation(np.random.default_rng(0))
    a, b = make_policy("random", obs_space, act_space), make_policy("random", obs_space, act_space)
    a.reset("", 7)
    b.reset("", 7)
    first = np.array([a.act(obs) for _ in range(20)])
    assert np.array_equal(first, np.array([b.act(obs) for _ in range(20)]))
    a.reset("", 7)
    assert np.array_equal(first, np.array([a.act(obs) for _ in range(20)]))
    a.reset("", 8)
    assert not np.array_equal(first, np.array([a.act(obs) for _ in range(20)]))
    assert first.dtype == np.float32 and first.shape == (20, 2)
    assert np.all(first >= -1.0) and np.all(first <= 1.0)


def test_python_class_gets_the_spaces_and_reaches_the_goal(policy_module_dir):
    env = PointMassEnv()
    policy = make_policy(
        f"python:{POLICY_MODULE}:GoToGoal", env.observation_space, env.action_space
    )
    assert policy.name == f"python:{POLICY_MODULE}:GoToGoal"
    successes = [run_point_mass(policy, seed)[0] for seed in range(5)]
    assert all(successes)


def test_python_factory_receives_options_and_no_arg_class_is_called_bare(policy_module_dir, spaces):
    obs_space, act_space = spaces
    obs = sample_observation(np.random.default_rng(0))
    constant = make_policy(
        f"python:{POLICY_MODULE}:make_constant", obs_space, act_space, value=0.25, env=object()
    )
    assert np.array_equal(constant.act(obs), np.full(2, 0.25, np.float32))
    bare = make_policy(f"python:{POLICY_MODULE}:NoArgs", obs_space, act_space)
    action = bare.act(obs)
    assert action.dtype == np.float32, "exact-shape float64 must be cast to float32"
    bare.reset("no reset method is fine", 0)
    bare.close()


@pytest.mark.parametrize(
    ("target", "named"),
    [
        ("no_such_module_xyz:Pol", "no_such_module_xyz"),
        (f"{POLICY_MODULE}:Missing", "Missing"),
        (f"{POLICY_MODULE}:not_a_policy", "not_a_policy"),
        ("missing_colon", "python:MODULE:ATTR"),
    ],
)
def test_bad_python_spec_raises_policy_error_naming_it(policy_module_dir, spaces, target, named):
    with pytest.raises(PolicyError, match=named):
        make_policy(f"python:{target}", *spaces)


@pytest.mark.parametrize(
    ("attr", "message"),
    [
        ("WrongShape", r"shape \(3,\); expected shape \(2,\)"),
        ("Nan", r"non-finite.*shape \(2,\)"),
        ("Integer", r"dtype int64; expected a float dtype"),
    ],
)
def test_invalid_actions_fail_naming_policy_and_expected_shape(
    policy_module_dir, spaces, attr, message
):
    policy = make_policy(f"python:{POLICY_MODULE}:{attr}", *spaces)
    with pytest.raises(PolicyError, match=message) as info:
        policy.act(sample_observation(np.random.default_rng(0)))
    assert f"python:{POLICY_MODULE}:{attr}" in str(info.value)


def test_unknown_source_lists_the_accepted_ones(spaces):
    with pytest.raises(ConfigError, match="accepted.*onnx.*python.*random.*remote"):
        make_policy("telepathy:x", *spaces)


def test_registered_source_plugs_in_without_editing_the_module(spaces):
    class Zero(Policy):
        name = "zero"

        def act(self, observation):
            return np.zeros(2, np.float32)

    calls = []

    def factory(rest, observation_space, action_space, **options):
        calls.append((rest, options))
        return Zero()

    register_policy_source("testzero", factory)
    try:
        policy = make_policy("testzero:abc", *spaces, gain=3)
        assert "testzero" in policy_sources()
        assert np.array_equal(policy.act({}), np.zeros(2, np.float32))
        assert calls == [("abc", {"gain": 3})]
    finally:
        from simfarm.policies import base

        base._SOURCES.pop("testzero")


def test_scripted_uses_the_env_expert_until_the_task_layer_registers_one(spaces):
    class Env:
        def make_expert(self):
            class Expert:
                name = "expert"

                def act(self, observation):
                    return np.ones(2, np.float32)

            return Expert()

    policy = make_policy("scripted", *spaces, env=Env())
    assert policy.name == "scripted"
    assert np.array_equal(policy.act({}), np.ones(2, np.float32))
    with pytest.raises(PolicyError, match="make_expert"):
        make_policy("scripted", *spaces)


def test_user_reset_may_take_instruction_and_seed_only_seed_or_nothing(spaces):
    calls = []

    class Both:
        def reset(self, instruction, seed):
            calls.append(("both", instruction, seed))

        def act(self, observation):
            return np.zeros(2)

    class SeedOnly(Both):
        def reset(self, seed=None):
            calls.append(("seed", seed))

    class Bare(Both):
        def reset(self):
            calls.append(("bare",))

    register_policy_source(
        "testreset", lambda rest, o, a, **kw: {"both": Both, "seed": SeedOnly, "bare": Bare}[rest]()
    )
    try:
        for kind in ("both", "seed", "bare"):
            make_policy(f"testreset:{kind}", *spaces).reset("go", 5)
    finally:
        from simfarm.policies import base

        base._SOURCES.pop("testreset")
    assert calls == [("both", "go", 5), ("seed", 5), ("bare",)]


def test_failing_constructor_is_reported_with_the_spec(policy_module_dir, spaces):
    with pytest.raises(
        PolicyError,
        match=rf"python:{POLICY_MODULE}:Broken: constructing 'Broken' failed: ValueError: bad weights file",
    ):
        make_policy(f"python:{POLICY_MODULE}:Broken", *spaces)


def test_options_reach_a_constructor_that_takes_no_spaces(policy_module_dir, spaces):
    policy = make_policy(f"python:{POLICY_MODULE}:Slow", *spaces, sleep_s=0.0, env=object())
    assert policy.sleep_s == 0.0


def test_serve_policy_command_rejects_missing_policy_and_bad_port():
    from simfarm.cli import main

    assert main(["serve-policy", "host=127.0.0.1"]) == 2
    assert main(["serve-policy", "policy=random", "port=99999"]) == 2
    assert main(["serve-policy", "not-a-key-value"]) == 2
