"""Scripted-expert success rates, the whole task x program table: `python benchmarks/experts.py`.

Runs each task's expert on seeds 0..N-1 (state obs, no rendering) in every room program where the
task can appear (`simfarm list tasks --json`: scenes), on the task's default robot, and prints success
rate with a 95% Wilson interval, mean episode length (all episodes and successful ones), the mean
fraction of subtasks done (a composite's partial progress) and reset errors.
`--task NAME` and `--scene NAME` (repeatable) narrow the table; `--randomization heavy` for the heavy preset.
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


def run(task: str, scene: str, episodes: int, first_seed: int = 0, randomization: str = "light",
        noise_std: float = 0.0, verbose: bool = False, robot: str | None = None) -> dict:
    """Run the expert on `episodes` seeds; returns counts, lengths and the failing seeds."""
    from simfarm.tasks import task_class

    env = SimfarmEnv(EnvConfig(task=task, scene=scene, robot=robot or task_class(task).default_robot,
                               obs_mode="state", randomization=randomization))
    expert = env.make_expert(noise_std=noise_std)
    lengths, success_lengths, failures, progress = [], [], [], []
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
        progress.append(info["subtasks_done"] / len(env.episode_info["plan"]))
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
        "progress": float(np.mean(progress)) if progress else float("nan"),
        "failures": failures, "errors": dict(errors), "wall_s": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--task", action="append", help="task name (repeatable); default: every task")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--scene", action="append", help="room program or fixed scene (repeatable); default: every "
                        "room program the task can appear in")
    parser.add_argument("--robot", default=None, help="default: each task's default robot")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--randomization", default="light")
    parser.add_argument("--noise-std", type=float, default=0.0)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    from simfarm.listing import _task_language
    from simfarm.tasks import task_class, task_names

    tasks = args.task or list(task_names())
    rows = []
    for task in tasks:
        programs = [p for p in _task_language(task, task_class(task))["scenes"] if p != "tabletop" or task_class(task).bimanual]
        for scene in args.scene or programs:
            rows.append(run(task, scene, args.episodes, args.first_seed, args.randomization, args.noise_std, args.verbose,
                            args.robot))
    print(f"randomization {args.randomization}, seeds {args.first_seed}..{args.first_seed + args.episodes - 1}")
    print("| task | scene | episodes | success | 95% Wilson | subtasks done | mean len | mean len (success) | reset errors | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lo, hi = r["wilson"]
        print(f"| {r['task']} | {r['scene']} | {r['episodes']} | {r['successes'] / r['episodes']:.0%} | "
              f"[{lo:.2f}, {hi:.2f}] | {r['progress']:.0%} | {r['mean_len']:.1f} | {r['mean_success_len']:.1f} | "
              f"{r['errors'] or '-'} | {r['wall_s']:.0f} |")
    for r in rows:
        if r["failures"]:
            print(f"{r['task']}: failing seeds {r['failures']}")


if __name__ == "__main__":
    main()
