"""Specifications of the onnx:PATH source: a linear model built with onnx.helper (no torch)."""

from __future__ import annotations

import numpy as np
import pytest
from policy_toys import ACTION_DIM, sample_observation
from policy_toys import ONNX_B as B
from policy_toys import ONNX_V as V
from policy_toys import ONNX_W as W
from policy_toys import build_onnx_model as build_model

from simfarm.errors import ConfigError, PolicyError
from simfarm.policies import Policy, make_policy


class NumpyLinear(Policy):
    """The same map in numpy: the reference the ONNX policy must match."""

    def __init__(self, with_image: bool):
        self.with_image = with_image

    def act(self, observation):
        action = observation["state"] @ W + B
        if self.with_image:
            chw = (
                np.transpose(observation["images"]["workspace"], (2, 0, 1)).astype(np.float32)
                / 255.0
            )
            action = action + chw.reshape(-1) @ V
        return action.astype(np.float32)


def test_onnx_linear_state_policy_matches_numpy(tmp_path, spaces):
    build_model(tmp_path / "linear.onnx", with_image=False)
    policy = make_policy(f"onnx:{tmp_path / 'linear.onnx'}", *spaces)  # one input: state by default
    reference = NumpyLinear(with_image=False)
    rng = np.random.default_rng(0)
    policy.reset("", 0)
    for _ in range(10):
        obs = sample_observation(rng)
        action = policy.act(obs)
        assert action.shape == (ACTION_DIM,) and action.dtype == np.float32
        np.testing.assert_allclose(action, reference.act(obs), rtol=1e-5, atol=1e-5)
    policy.close()


def test_onnx_image_input_is_converted_from_hwc_uint8_to_nchw_float(tmp_path, spaces):
    build_model(tmp_path / "vision.onnx", with_image=True)
    inputs = {
        "state": "obs_state",
        "images.workspace": {"name": "image", "layout": "CHW", "scale": 1 / 255},
    }
    policy = make_policy(
        f"onnx:{tmp_path / 'vision.onnx'}", *spaces, inputs=inputs, output="action"
    )
    reference = NumpyLinear(with_image=True)
    rng = np.random.default_rng(1)
    for _ in range(10):
        obs = sample_observation(rng)
        np.testing.assert_allclose(policy.act(obs), reference.act(obs), rtol=1e-4, atol=1e-4)
    # The image term matters: without the CHW transpose the actions differ.
    hwc = make_policy(
        f"onnx:{tmp_path / 'vision.onnx'}",
        *spaces,
        inputs={**inputs, "images.workspace": {"name": "image", "scale": 1 / 255}},
    )
    with pytest.raises(PolicyError, match="onnxruntime failed"):
        hwc.act(sample_observation(rng))  # (1, 8, 8, 3) does not fit (N, 3, 8, 8)


def test_onnx_config_errors_name_the_model_inputs_and_outputs(tmp_path, spaces):
    build_model(tmp_path / "vision.onnx", with_image=True)
    path = tmp_path / "vision.onnx"
    with pytest.raises(ConfigError, match=r"inputs.*image.*obs_state"):
        make_policy(f"onnx:{path}", *spaces)
    with pytest.raises(ConfigError, match=r"unknown output 'act'.*\['action'\]"):
        make_policy(
            f"onnx:{path}",
            *spaces,
            inputs={"state": "obs_state", "images.workspace": "image"},
            output="act",
        )
    with pytest.raises(ConfigError, match=r"inputs \[.image.\] are not fed"):
        make_policy(f"onnx:{path}", *spaces, inputs={"state": "obs_state"})
    with pytest.raises(ConfigError, match=r"layout.*accepted"):
        make_policy(
            f"onnx:{path}",
            *spaces,
            inputs={"state": "obs_state", "images.workspace": {"name": "image", "layout": "WHC"}},
        )
    with pytest.raises(PolicyError, match="no such file"):
        make_policy(f"onnx:{tmp_path / 'missing.onnx'}", *spaces)
    missing_key = make_policy(
        f"onnx:{path}", *spaces, inputs={"state": "obs_state", "images.wrist": "image"}
    )
    with pytest.raises(PolicyError, match=r"images.wrist.*\['workspace'\]"):
        missing_key.act(sample_observation(np.random.default_rng(0)))
