"""Specifications of configs/policy/*.yaml and the policy part of job validation."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from simfarm.errors import ConfigError
from simfarm.paths import configs_dir
from simfarm.policies import make_policy, validate_config

SPECS = {
    "python": "python:pkg.mod:Pol",
    "onnx": "onnx:/models/pol.onnx",
    "remote": "remote:ws://127.0.0.1:8765",
}


def load_group(name: str) -> dict:
    cfg = OmegaConf.to_container(OmegaConf.load(configs_dir() / "policy" / f"{name}.yaml"))
    if name in SPECS:
        assert cfg["spec"] == "???", (
            "open-ended specs must be mandatory (set by the policy=PREFIX:... shorthand)"
        )
        cfg["spec"] = SPECS[name]
    return cfg


@pytest.mark.parametrize("name", ["scripted", "random", "python", "onnx", "remote", "mixture"])
def test_every_policy_config_group_validates(name):
    validate_config({"policy": load_group(name), "latency_s": 0.0})


def test_config_groups_build_policies_with_their_keys(spaces):
    cfg = load_group("random")
    policy = make_policy(cfg.pop("spec"), *spaces, **cfg)
    policy.reset("", 0)
    assert policy.act({}).shape == (2,)
    mixture = load_group("mixture")
    mixture["components"] = [{**c, "policy": "random"} for c in mixture["components"]]
    policy = make_policy(mixture.pop("spec"), *spaces, **mixture)
    policy.reset("", 1)
    assert policy.current_component in {"random", "random+noise0.1", "random#1"}
    assert np.all(np.abs(policy.act({})) <= 1.0)


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"spec": "telepathy"}, r"unknown policy source 'telepathy'; accepted: \[.*'onnx'"),
        ({"spec": "python:only_module"}, "python:MODULE:ATTR"),
        ({"spec": "remote:http://x"}, "remote:ws://HOST:PORT"),
        ({"spec": "onnx:"}, "onnx:PATH"),
        ({"spec": "mixture"}, "components"),
        (
            {"spec": "mixture", "components": [{"policy": "random", "weight": "a lot"}]},
            r"components\[0\].weight",
        ),
        ({"spec": "mixture", "components": [{"policy": "random", "weight": 0}]}, "sum to 0"),
        (
            {"spec": "mixture", "components": [{"policy": "nope:x", "weight": 1}]},
            r"components\[0\].spec 'nope:x'",
        ),
        ({"spec": "scripted", "action_noise_std": -0.1}, "action_noise_std"),
    ],
)
def test_bad_policy_configs_fail_naming_the_key(policy, message):
    with pytest.raises(ConfigError, match=message):
        validate_config({"policy": policy})


def test_negative_latency_is_rejected():
    with pytest.raises(ConfigError, match="latency_s"):
        validate_config({"policy": {"spec": "random"}, "latency_s": -0.1})
