"""Policy-call overheads: per-`act` wall time of each source, and the remote codec.

    python benchmarks/policies.py [--calls 300] [--image 224]

Observations mimic the env's rgb+state mode: state (S=16,), environment_state (E=14,), and two
uint8 cameras of IMAGE x IMAGE x 3. The ONNX model is a linear map of the state plus a 1x1-pooled
image term built with onnx.helper (no torch); the remote rows talk to a server on 127.0.0.1 in a
background thread of the same process (a separate server process would free the client's GIL,
so these figures are upper bounds on the protocol overhead).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

from simfarm.policies import make_policy
from simfarm.policies.codec import packb, unpackb
from simfarm.policies.server import serve_policy

STATE, ENV_STATE, ACTION = 16, 14, 7


def spaces(image: int):
    obs = gym.spaces.Dict(
        {
            "state": gym.spaces.Box(-np.inf, np.inf, (STATE,), np.float32),
            "environment_state": gym.spaces.Box(-np.inf, np.inf, (ENV_STATE,), np.float32),
            "images": gym.spaces.Dict(
                {
                    cam: gym.spaces.Box(0, 255, (image, image, 3), np.uint8)
                    for cam in ("workspace", "wrist")
                }
            ),
        }
    )
    return obs, gym.spaces.Box(-1.0, 1.0, (ACTION,), np.float32)


def observation(rng: np.random.Generator, image: int, with_images: bool) -> dict:
    obs = {
        "state": rng.normal(size=STATE).astype(np.float32),
        "environment_state": rng.normal(size=ENV_STATE).astype(np.float32),
    }
    if with_images:
        obs["images"] = {
            cam: rng.integers(0, 256, (image, image, 3), dtype=np.uint8)
            for cam in ("workspace", "wrist")
        }
    return obs


def build_onnx(path: Path, image: int) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("MatMul", ["state", "W"], ["sw"]),
        helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "V"], ["iv"]),
        helper.make_node("Add", ["sw", "iv"], ["s1"]),
        helper.make_node("Tanh", ["s1"], ["action"]),
    ]
    graph = helper.make_graph(
        nodes,
        "bench",
        [
            helper.make_tensor_value_info("state", TensorProto.FLOAT, ["N", STATE]),
            helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, image, image]),
        ],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["N", ACTION])],
        initializer=[
            numpy_helper.from_array(rng.normal(size=(STATE, ACTION)).astype(np.float32), "W"),
            numpy_helper.from_array(rng.normal(size=(3, ACTION)).astype(np.float32), "V"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.save(model, str(path))


def time_calls(policy, observations: list[dict]) -> list[float]:
    policy.reset("bench", 0)
    times = []
    for obs in observations:
        t0 = time.perf_counter()
        policy.act(obs)
        times.append(time.perf_counter() - t0)
    return times


def row(name: str, times: list[float]) -> str:
    ms = sorted(1000 * t for t in times)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    return f"| {name} | {len(ms)} | {statistics.mean(ms):.3f} | {statistics.median(ms):.3f} | {p95:.3f} | {1000 / statistics.mean(ms):,.0f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--image", type=int, default=224)
    parser.add_argument("--report-episodes", type=int, default=1000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    obs_space, act_space = spaces(args.image)
    with_images = [observation(rng, args.image, True) for _ in range(args.calls)]
    state_only = [{k: v for k, v in o.items() if k != "images"} for o in with_images]

    tmp = Path(tempfile.mkdtemp(prefix="simfarm_bench_policies_"))
    (tmp / "bench_user_policy.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            W = np.random.default_rng(0).normal(size=(7, 16)).astype(np.float32)
            class Linear:
                def act(self, observation):
                    return np.tanh(W @ observation["state"])
            """
        )
    )
    sys.path.insert(0, str(tmp))
    build_onnx(tmp / "bench.onnx", args.image)
    onnx_inputs = {
        "state": "state",
        "images.workspace": {"name": "image", "layout": "CHW", "scale": 1 / 255},
    }

    rows = []
    rows.append(row("random", time_calls(make_policy("random", obs_space, act_space), state_only)))
    rows.append(
        row(
            "python (linear, numpy)",
            time_calls(
                make_policy("python:bench_user_policy:Linear", obs_space, act_space), state_only
            ),
        )
    )
    onnx_policy = make_policy(
        f"onnx:{tmp / 'bench.onnx'}", obs_space, act_space, inputs=onnx_inputs
    )
    rows.append(
        row(f"onnx (state + {args.image}px image, CHW/255)", time_calls(onnx_policy, with_images))
    )
    t_enc, t_dec, size = [], [], 0
    for obs in with_images:
        t0 = time.perf_counter()
        data = packb({"type": "act", "observation": obs})
        t1 = time.perf_counter()
        unpackb(data)
        t_enc.append(t1 - t0)
        t_dec.append(time.perf_counter() - t1)
        size = len(data)
    rows.append(row(f"codec encode (2 x {args.image}px cams + state)", t_enc))
    rows.append(row(f"codec decode (2 x {args.image}px cams + state)", t_dec))
    with serve_policy("python:bench_user_policy:Linear", port=0) as server:
        remote = make_policy(f"remote:{server.url}", obs_space, act_space)
        rows.append(row("remote, state only", time_calls(remote, state_only)))
        rows.append(
            row(f"remote, state + 2 x {args.image}px cams", time_calls(remote, with_images))
        )
        remote.close()

    report_s = time_report(args.report_episodes, tmp / "report")

    print(
        f"Per-call wall time of Policy.act ({args.calls} calls each; act message with images = {size / 1e6:.2f} MB)\n"
    )
    print("| source | calls | mean ms | p50 ms | p95 ms | calls/s |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(
        f"\nwrite_report for {args.report_episodes} episodes (json + md + 2 PNG plots): {report_s:.2f} s"
    )
    return 0


def time_report(n: int, out: Path) -> float:
    from simfarm.evaluation.report import write_report

    rng = np.random.default_rng(1)
    results = [
        {
            "episode_index": i,
            "task": ["pick_place", "push", "open_drawer"][i % 3],
            "program": ["kitchen", "office"][i % 2],
            "randomization": "light",
            "success": bool(rng.random() < 0.6),
            "length": int(rng.integers(20, 200)),
            "time_to_success_s": float(rng.uniform(2, 20)),
            "safety": {
                "peak_contact_force_n": float(rng.uniform(0, 80)),
                "collisions": int(rng.integers(0, 3)),
                "joint_limit_hits": 0,
            },
            "error": None,
            "act_time_s": rng.uniform(0.001, 0.01, 100).tolist(),
        }
        for i in range(n)
    ]
    t0 = time.perf_counter()
    write_report(results, out, config={"seed": 0})
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
