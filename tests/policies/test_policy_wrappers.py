"""Specifications of the mixture, action-noise and latency wrappers."""

from __future__ import annotations

import numpy as np
import pytest
from policy_toys import POLICY_MODULE, sample_observation

from simfarm.errors import ConfigError
from simfarm.policies import LatencyPolicy, make_policy
from simfarm.policies.wrappers import latency_steps

MIXTURE = [
    {"policy": "random", "weight": 0.7},
    {"policy": "random", "weight": 0.2, "action_noise_std": 0.1},
    {"policy": f"python:{POLICY_MODULE}:Counter", "weight": 0.1},
]


def test_mixture_picks_components_with_the_configured_frequencies(policy_module_dir, spaces):
    policy = make_policy("mixture", *spaces, components=MIXTURE)
    names = []
    for seed in range(3000):
        policy.reset("", seed)
        names.append(policy.current_component)
    counts = {name: names.count(name) / len(names) for name in set(names)}
    assert set(counts) == {"random", "random+noise0.1", f"python:{POLICY_MODULE}:Counter"}
    # 3000 draws: the binomial standard deviation of a frequency is <= 0.0092; allow 3 of them.
    assert counts["random"] == pytest.approx(0.7, abs=0.028)
    assert counts["random+noise0.1"] == pytest.approx(0.2, abs=0.022)
    assert counts[f"python:{POLICY_MODULE}:Counter"] == pytest.approx(0.1, abs=0.017)


def test_mixture_is_deterministic_per_seed(policy_module_dir, spaces):
    a = make_policy("mixture", *spaces, components=MIXTURE)
    b = make_policy("scripted", *spaces, components=MIXTURE)  # components make any spec a mixture
    obs = sample_observation(np.random.default_rng(0))
    for seed in range(30):
        a.reset("", seed)
        b.reset("", seed)
        assert a.current_component == b.current_component
        assert np.array_equal([a.act(obs) for _ in range(5)], [b.act(obs) for _ in range(5)])


def test_mixture_config_errors_name_the_entry(spaces):
    with pytest.raises(ConfigError, match=r"components\[1\]"):
        make_policy(
            "mixture", *spaces, components=[{"policy": "random", "weight": 1}, {"weight": 1}]
        )
    with pytest.raises(ConfigError, match="non-negative"):
        make_policy("mixture", *spaces, components=[{"policy": "random", "weight": -1}])
    with pytest.raises(ConfigError, match="components"):
        make_policy("mixture", *spaces)


def test_noisy_policy_is_deterministic_from_the_seed_and_keeps_the_clean_action(
    policy_module_dir, spaces
):
    obs = sample_observation(np.random.default_rng(0))
    noisy = make_policy(
        f"python:{POLICY_MODULE}:make_constant", *spaces, value=0.0, action_noise_std=0.1
    )
    clean = make_policy(f"python:{POLICY_MODULE}:make_constant", *spaces, value=0.0)
    noisy.reset("", 3)
    first = np.array([noisy.act(obs) for _ in range(200)])
    noisy.reset("", 3)
    assert np.array_equal(first, np.array([noisy.act(obs) for _ in range(200)]))
    assert np.array_equal(noisy.clean_action, clean.act(obs))
    assert first.std() == pytest.approx(0.1, rel=0.15)
    noisy.reset("", 4)
    assert not np.array_equal(first[:5], np.array([noisy.act(obs) for _ in range(5)]))
    saturated = make_policy(
        f"python:{POLICY_MODULE}:make_constant", *spaces, value=1.0, action_noise_std=0.5
    )
    saturated.reset("", 0)
    assert np.all(np.array([saturated.act(obs) for _ in range(50)]) <= 1.0)


@pytest.mark.parametrize(
    ("latency_s", "hz", "steps"),
    [(0.0, 10, 0), (0.05, 10, 1), (0.1, 10, 1), (0.1001, 10, 2), (0.3, 10, 3), (0.25, 20, 5)],
)
def test_latency_is_ceil_of_latency_times_rate(latency_s, hz, steps):
    assert latency_steps(latency_s, hz) == steps


@pytest.mark.parametrize("delay", [0, 1, 3])
def test_latency_wrapper_delays_actions_by_the_right_number_of_steps(
    policy_module_dir, spaces, delay
):
    inner = make_policy(f"python:{POLICY_MODULE}:Counter", *spaces)
    policy = LatencyPolicy(inner, latency_s=delay / 10, control_hz=10, action_space=spaces[1])
    assert policy.delay_steps == delay
    for seed in (5, 6):  # a second episode starts clean
        policy.reset("", seed)
        executed = [policy.act({})[0] for _ in range(8)]
        # Counter's action k is computed at step k; it must take effect at step k + delay.
        assert executed == [0.0] * delay + [float(k) for k in range(8 - delay)]
        assert len(policy.act_time_s) == 8 and all(t >= 0 for t in policy.act_time_s)


def test_wrapped_mixture_still_reports_its_component(policy_module_dir, spaces):
    noisy_mixture = make_policy("mixture", *spaces, components=MIXTURE, action_noise_std=0.05)
    delayed = LatencyPolicy(noisy_mixture, latency_s=0.1, control_hz=10, action_space=spaces[1])
    delayed.reset("", 12)
    assert delayed.current_component is not None
    assert noisy_mixture.current_component == delayed.current_component
    assert noisy_mixture.name == "mixture+noise"
