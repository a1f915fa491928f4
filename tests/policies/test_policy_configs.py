"""Specifications of configs/policy/*.yaml and the policy part of job validation."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from simfarm.errors import ConfigError
from simfarm.paths import configs_dir
from simfarm.policies import make_policy, validate_config


@pytest.fixture(scope="module")
def real_specs(tmp_path_factory):
    """Specs whose targets exist: validation now imports, opens and connects to them."""
    import socket

    from policy_toys import POLICY_MODULE, build_onnx_model

    model = tmp_path_factory.mktemp("onnx") / "pol.onnx"
    build_onnx_model(model)
    listener = socket.create_server(("127.0.0.1", 0))
    yield {
        "python": f"python:{POLICY_MODULE}:Linear",
        "onnx": f"onnx:{model}",
        "remote": f"remote:ws://127.0.0.1:{listener.getsockname()[1]}",
    }
    listener.close()


def load_group(name: str, specs: dict | None = None) -> dict:
    cfg = OmegaConf.to_container(OmegaConf.load(configs_dir() / "policy" / f"{name}.yaml"))
    if cfg["spec"] == "???":
        assert name in (specs or {}), "open-ended specs must be mandatory (set by the policy=PREFIX:... shorthand)"
        cfg["spec"] = specs[name]
    return cfg


@pytest.mark.parametrize("name", ["scripted", "random", "python", "onnx", "remote", "mixture"])
def test_every_policy_config_group_validates(name, real_specs, policy_module_dir):
    validate_config({"policy": load_group(name, real_specs), "latency_s": 0.0})


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
