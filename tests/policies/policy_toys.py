"""Toy spaces, a point-mass env and the source of a module of user policies (for tests/policies)."""

from __future__ import annotations

import textwrap

import gymnasium as gym
import numpy as np

STATE_DIM = 4
ACTION_DIM = 2
IMAGE_HW = (8, 8)

POLICY_MODULE = "simfarm_test_user_policies"
POLICY_SOURCE = textwrap.dedent(
    """
    import time
    import numpy as np

    W = np.random.default_rng(1234).normal(size=(2, 4)).astype(np.float32)
    B = np.random.default_rng(99).normal(size=(2,)).astype(np.float32)

    class Linear:
        def __init__(self, observation_space=None, action_space=None):
            self.action_space = action_space
        def act(self, observation):
            return W @ observation["state"] + B

    class GoToGoal:
        '''Velocity towards the goal; state = [pos_x, pos_y, goal_x, goal_y].'''
        def __init__(self, observation_space, action_space, gain=5.0):
            self.gain = gain
        def reset(self, instruction, seed):
            self.instruction = instruction
        def act(self, observation):
            s = observation["state"]
            return np.clip(self.gain * (s[2:4] - s[0:2]), -1.0, 1.0).astype(np.float32)

    class NoArgs:
        def act(self, observation):
            return np.zeros(2)  # float64: must be cast to float32

    def make_constant(action_space, value=0.5):
        class Constant:
            def act(self, observation):
                return np.full(action_space.shape, value, dtype=np.float32)
        return Constant()

    class WrongShape:
        def act(self, observation):
            return np.zeros(3, dtype=np.float32)

    class Nan:
        def act(self, observation):
            return np.array([0.0, np.nan], dtype=np.float32)

    class Integer:
        def act(self, observation):
            return np.zeros(2, dtype=np.int64)

    class Slow:
        def __init__(self, sleep_s=2.0):
            self.sleep_s = sleep_s
        def act(self, observation):
            time.sleep(self.sleep_s)
            return np.zeros(2, dtype=np.float32)

    class Counter:
        '''Action = [step index, seed % 1000]: makes delays and seeds visible.'''
        def reset(self, instruction, seed):
            self.t = 0
            self.seed = seed
        def act(self, observation):
            self.t += 1
            return np.array([self.t - 1, self.seed % 1000], dtype=np.float32)

    class Crashes:
        def act(self, observation):
            raise RuntimeError("boom from user code")

    class Broken:
        def __init__(self, observation_space, action_space):
            raise ValueError("bad weights file")
        def act(self, observation):
            return np.zeros(2, dtype=np.float32)

    class NoAct:
        def __init__(self, observation_space=None, action_space=None):
            pass

    not_a_policy = 42
    """
)


RNG = np.random.default_rng(2024)
ONNX_W = RNG.normal(size=(STATE_DIM, ACTION_DIM)).astype(np.float32) * 0.3
ONNX_V = RNG.normal(size=(3 * IMAGE_HW[0] * IMAGE_HW[1], ACTION_DIM)).astype(np.float32) * 0.01
ONNX_B = RNG.normal(size=(ACTION_DIM,)).astype(np.float32)


def build_onnx_model(path, with_image: bool = False) -> None:
    """action = state @ W + B (+ flatten(image NCHW) @ V), batch dimension N (onnx.helper, no torch)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("MatMul", ["obs_state", "W"], ["sw"]),
        helper.make_node("Add", ["sw", "B"], ["lin"]),
    ]
    inputs = [helper.make_tensor_value_info("obs_state", TensorProto.FLOAT, ["N", STATE_DIM])]
    inits = [numpy_helper.from_array(ONNX_W, "W"), numpy_helper.from_array(ONNX_B, "B")]
    if with_image:
        inputs.append(
            helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, *IMAGE_HW])
        )
        inits.append(numpy_helper.from_array(ONNX_V, "V"))
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


def sample_observation(rng: np.random.Generator) -> dict:
    return {
        "state": rng.normal(size=STATE_DIM).astype(np.float32),
        "environment_state": rng.normal(size=2).astype(np.float32),
        "images": {"workspace": rng.integers(0, 256, size=(*IMAGE_HW, 3), dtype=np.uint8)},
    }


class PointMassEnv(gym.Env):
    """A point that must reach a goal in the unit square; action = velocity in [-1, 1]^2."""

    def __init__(self, dt_s: float = 0.1, max_steps: int = 50):
        self.dt_s = dt_s
        self.max_steps = max_steps
        self.observation_space = gym.spaces.Dict(
            {"state": gym.spaces.Box(-np.inf, np.inf, (STATE_DIM,), np.float32)}
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, (ACTION_DIM,), np.float32)

    def _obs(self):
        return {"state": np.concatenate([self.pos, self.goal]).astype(np.float32)}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = self.np_random.uniform(0, 1, 2)
        self.goal = self.np_random.uniform(0, 1, 2)
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.pos = self.pos + self.dt_s * np.asarray(action, dtype=np.float64)
        self.t += 1
        success = bool(np.linalg.norm(self.pos - self.goal) < 0.02)
        return self._obs(), float(success), success, self.t >= self.max_steps, {"success": success}


def run_point_mass(policy, seed: int) -> tuple[bool, np.ndarray]:
    """Run one episode; returns (success, actions)."""
    env = PointMassEnv()
    obs, _ = env.reset(seed=seed)
    policy.reset("reach the goal", seed)
    actions = []
    while True:
        action = policy.act(obs)
        actions.append(action)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            return info["success"], np.array(actions)
