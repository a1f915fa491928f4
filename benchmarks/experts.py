"""Scripted-expert success rates: `python benchmarks/experts.py --task pick_place --episodes 100 --scene kitchen`.

Runs the task's expert on seeds 0..N-1 (state obs, no rendering) and prints success rate with a 95%
Wilson interval, mean episode length (all episodes and successful ones) and failure reasons.
"""

from __future__ import annotations

import argparse
import collections
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from simfarm.envs import EnvConfig, SimfarmEnv  # noqa: E402
from simfarm.errors import SimfarmError  # noqa: E402
from simfarm.evaluation.stats import wilson_interval  # noqa: E402

DEFAULT_SCENE = {"push_trolley": "living_room"}
DEFAULT_ROBOT = {"push_trolley": "mobile_base"}


def run(task: str, scene: str, episodes: int, first_seed: int = 0, randomization: str = "light",
        noise_std: float = 0.0, verbose: bool = False) -> dict:
    """Run the expert on `episodes` seeds; returns counts, lengths and the failing seeds."""
    env = SimfarmEnv(EnvConfig(task=task, scene=scene, robot=DEFAULT_ROBOT.get(task, "panda"),
                               obs_mode="state", randomization=randomization))
    expert = env.make_expert(noise_std=noise_std)
    lengths, success_lengths, failures = [], [], []
    errors: collections.Counter = collections.Counter()
    t0 = time.perf_counter()
    for seed in range(first_seed, first_seed + episodes):
        try:
            obs, info = env.reset(seed=seed)
        except SimfarmError as exc:  # a scene the task cannot use counts as a failure
            errors[type(exc).__name__] += 1
            failures.append(seed)
            if verbose:
                print(f"seed {seed}: reset failed: {exc}")
            continue
        expert.reset(info["instruction"], seed)
        done, steps = False, 0
        while not done:
            obs, _, term, trunc, info = env.step(expert.act(obs))
            done, steps = term or trunc, steps + 1
        lengths.append(steps)
        if info["success"]:
            success_lengths.append(steps)
        else:
            failures.append(seed)
            if verbose:
                print(f"seed {seed}: failed after {steps} steps: {info['instruction']!r}")
    env.close()
    n_ok = len(success_lengths)
    return {
        "task": task, "scene": scene, "episodes": episodes, "successes": n_ok,
        "wilson": wilson_interval(n_ok, episodes),
        "mean_len": float(np.mean(lengths)) if lengths else float("nan"),
        "mean_success_len": float(np.mean(success_lengths)) if success_lengths else float("nan"),
        "failures": failures, "errors": dict(errors), "wall_s": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", action="append", help="task name (repeatable); default: all four")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--scene", default=None, help="room program or fixed scene; default kitchen (living_room for push_trolley)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--randomization", default="light")
    parser.add_argument("--noise-std", type=float, default=0.0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    tasks = args.task or ["pick_place", "push", "open_drawer", "push_trolley"]
    rows = []
    for task in tasks:
        scene = args.scene or DEFAULT_SCENE.get(task, "kitchen")
        rows.append(run(task, scene, args.episodes, args.first_seed, args.randomization, args.noise_std, args.verbose))
    print("| task | scene | episodes | success | 95% Wilson | mean len | mean len (success) | reset errors | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lo, hi = r["wilson"]
        print(f"| {r['task']} | {r['scene']} | {r['episodes']} | {r['successes'] / r['episodes']:.0%} | "
              f"[{lo:.2f}, {hi:.2f}] | {r['mean_len']:.1f} | {r['mean_success_len']:.1f} | {r['errors'] or '-'} | {r['wall_s']:.0f} |")
    for r in rows:
        if r["failures"]:
            print(f"{r['task']}: failing seeds {r['failures']}")


if __name__ == "__main__":
    main()
