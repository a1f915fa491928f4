"""Specifications of the onnx:PATH source: a linear model built with onnx.helper (no torch)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from policy_toys import ACTION_DIM, IMAGE_HW, STATE_DIM, sample_observation

from simfarm.errors import ConfigError, PolicyError
from simfarm.policies import Policy, make_policy

RNG = np.random.default_rng(2024)
W = RNG.normal(size=(STATE_DIM, ACTION_DIM)).astype(np.float32) * 0.3
V = RNG.normal(size=(3 * IMAGE_HW[0] * IMAGE_HW[1], ACTION_DIM)).astype(np.float32) * 0.01
B = RNG.normal(size=(ACTION_DIM,)).astype(np.float32)


def build_model(path, with_image: bool) -> None:
    """action = state @ W + B (+ flatten(image NCHW) @ V), batch dimension N."""
    nodes = [
        helper.make_node("MatMul", ["obs_state", "W"], ["sw"]),
        helper.make_node("Add", ["sw", "B"], ["lin"]),
    ]
    inputs = [helper.make_tensor_value_info("obs_state", TensorProto.FLOAT, ["N", STATE_DIM])]
    inits = [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")]
    if with_image:
        inputs.append(
            helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, *IMAGE_HW])
        )
        inits.append(numpy_helper.from_array(V, "V"))
        nodes += [
            helper.make_node("Flatten", ["image"], ["flat"], axis=1),
            helper.make_node("MatMul", ["flat", "V"], ["iv"]),
            helper.make_node("Add", ["lin", "iv"], ["action"]),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["lin"], ["action"]))
    outputs = [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["N", ACTION_DIM])]
    graph = helper.make_graph(nodes, "linear_policy", inputs, outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


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
