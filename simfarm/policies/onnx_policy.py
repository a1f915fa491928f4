"""`onnx:PATH`: a policy exported to ONNX, run by onnxruntime on the CPU.

Observation entries map to the model's inputs through `inputs`, keyed by observation path
(`state`, `environment_state`, `images.<camera>`):

    inputs:
      state: obs_state                                  # name only: cast to the input's dtype
      images.workspace: {name: image, layout: CHW, scale: 0.00392156862745098}
    output: action                                      # default: the model's first output

`layout: CHW` turns an HWC image into CHW; `scale` multiplies after casting (uint8 → float /255).
A batch dimension is added when the model's input has one more axis than the observation, and
removed from the output when the action space has one fewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from simfarm.errors import ConfigError, PolicyError
from simfarm.policies.base import Policy

# onnxruntime's type strings -> numpy dtypes.
ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}
LAYOUTS = ("HWC", "CHW")


@dataclass(frozen=True)
class OnnxInput:
    """How one observation entry feeds one ONNX input."""

    observation_key: str
    name: str
    dtype: np.dtype
    rank: int | None
    layout: str = "HWC"
    scale: float | None = None


def observation_entry(observation: dict[str, Any], key: str) -> np.ndarray:
    """`images.workspace` -> observation["images"]["workspace"]; PolicyError lists what exists."""
    node: Any = observation
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            available = sorted(node) if isinstance(node, dict) else []
            raise PolicyError(
                f"onnx policy input needs observation key {key!r}; the observation has {available} at {part!r}"
            )
        node = node[part]
    return np.asarray(node)


class OnnxPolicy(Policy):
    """Runs an ONNX model per step (batch of one)."""

    def __init__(
        self,
        path: str,
        observation_space: Any,
        action_space: gym.spaces.Box,
        inputs: dict[str, Any] | None = None,
        output: str | None = None,
        threads: int = 1,
    ):
        import onnxruntime as ort

        self.name = f"onnx:{path}"
        self.action_shape = tuple(action_space.shape)
        if not path or not Path(path).expanduser().is_file():
            raise PolicyError(f"policy onnx:{path}: no such file")
        options = ort.SessionOptions()
        # One simulation worker per core: a second intra-op thread only fights the simulator.
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(Path(path).expanduser()), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise PolicyError(f"policy onnx:{path}: onnxruntime cannot load it: {exc}") from exc
        model_inputs = {i.name: i for i in self.session.get_inputs()}
        model_outputs = [o.name for o in self.session.get_outputs()]
        if inputs is None:
            if len(model_inputs) != 1:
                raise ConfigError(
                    f"policy onnx:{path} has inputs {sorted(model_inputs)}; give policy.inputs mapping observation keys to them"
                )
            inputs = {"state": next(iter(model_inputs))}
        self.inputs = [
            self._parse_input(key, value, model_inputs, path) for key, value in dict(inputs).items()
        ]
        missing = sorted(set(model_inputs) - {i.name for i in self.inputs})
        if missing:
            raise ConfigError(
                f"policy onnx:{path}: model inputs {missing} are not fed by policy.inputs ({dict(inputs)})"
            )
        if output is None:
            output = model_outputs[0]
        if output not in model_outputs:
            raise ConfigError(
                f"policy onnx:{path}: unknown output {output!r}; the model has {model_outputs}"
            )
        self.output = output

    @staticmethod
    def _parse_input(key: str, value: Any, model_inputs: dict[str, Any], path: str) -> OnnxInput:
        spec = {"name": value} if isinstance(value, str) else dict(value or {})
        name = spec.pop("name", None)
        if name not in model_inputs:
            raise ConfigError(
                f"policy onnx:{path}: inputs.{key} names input {name!r}; the model has {sorted(model_inputs)}"
            )
        layout = str(spec.pop("layout", "HWC")).upper()
        if layout not in LAYOUTS:
            raise ConfigError(
                f"policy onnx:{path}: inputs.{key}.layout is {layout!r}; accepted: {list(LAYOUTS)}"
            )
        scale = spec.pop("scale", None)
        dtype_name = spec.pop("dtype", None)
        if spec:
            raise ConfigError(
                f"policy onnx:{path}: inputs.{key} has unknown keys {sorted(spec)}; accepted: name, dtype, layout, scale"
            )
        ort_type = model_inputs[name].type
        if dtype_name is not None:
            dtype = np.dtype(dtype_name)
        elif ort_type in ORT_DTYPES:
            dtype = np.dtype(ORT_DTYPES[ort_type])
        else:
            raise ConfigError(
                f"policy onnx:{path}: input {name!r} has type {ort_type}; accepted: {sorted(ORT_DTYPES)}"
            )
        shape = model_inputs[name].shape
        rank = len(shape) if shape is not None else None
        return OnnxInput(key, name, dtype, rank, layout, None if scale is None else float(scale))

    def _feed(self, spec: OnnxInput, observation: dict[str, Any]) -> np.ndarray:
        arr = observation_entry(observation, spec.observation_key)
        if spec.layout == "CHW" and arr.ndim == 3:
            arr = np.transpose(arr, (2, 0, 1))
        arr = arr.astype(spec.dtype, copy=False)
        if spec.scale is not None:
            arr = (arr * spec.scale).astype(spec.dtype, copy=False)
        if spec.rank is not None and spec.rank == arr.ndim + 1:
            arr = arr[None]
        return np.ascontiguousarray(arr)

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        feed = {spec.name: self._feed(spec, observation) for spec in self.inputs}
        try:
            (out,) = self.session.run([self.output], feed)
        except Exception as exc:
            raise PolicyError(f"policy {self.name}: onnxruntime failed: {exc}") from exc
        out = np.asarray(out)
        if out.ndim == len(self.action_shape) + 1 and out.shape[0] == 1:
            out = out[0]
        return out

    def close(self) -> None:
        self.session = None


def check_onnx_policy(path: str, options: dict[str, Any], where: str = "policy") -> None:
    """The driver's check of `onnx:PATH`: a readable file onnxruntime loads, fed and read as `options` say.

    Builds the policy once (a session on the model, its inputs and output matched to `inputs`,
    `output`), so whatever would fail in every worker fails here in one line naming `where`.
    """
    import inspect
    import os

    file = Path(os.path.expanduser(path))
    if not file.exists():
        raise ConfigError(f"{where}: onnx:{path}: no such file; give the path of an .onnx model")
    if not file.is_file():
        raise ConfigError(f"{where}: onnx:{path} is a folder; give the path of an .onnx model file")
    if not os.access(file, os.R_OK):
        raise ConfigError(f"{where}: onnx:{path} is not readable")
    from simfarm.checks import known_options

    known_options(where, "onnx policy", options, [
        p for p in inspect.signature(OnnxPolicy.__init__).parameters if p not in ("self", "path", "observation_space", "action_space")])
    if "threads" in options:
        from simfarm.checks import integer

        integer(f"{where}.threads", options["threads"], minimum=1)
    if options.get("inputs") is not None and not isinstance(options["inputs"], dict):
        raise ConfigError(
            f"{where}.inputs: must map observation keys to ONNX input names (e.g. {{state: obs_state}}), got {options['inputs']!r}"
        )
    try:
        policy = OnnxPolicy(str(file), None, gym.spaces.Box(-1.0, 1.0, (1,), np.float32), **options)
    except (ConfigError, PolicyError) as exc:
        message = str(exc)
        message = message[len("policy "):] if message.startswith("policy ") else message
        raise ConfigError(" ".join(f"{where}: {message}".split())) from exc
    except (TypeError, ValueError) as exc:  # e.g. threads: "two"
        raise ConfigError(" ".join(f"{where}: onnx:{path}: bad option: {exc}".split())) from exc
    policy.close()
