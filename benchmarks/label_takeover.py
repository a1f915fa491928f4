"""Are the expert's DAgger labels good from a learner's states? The learner drives, then its labels do.

    .venv/bin/python benchmarks/label_takeover.py --policy lerobot:/tmp/te/push/state/act_25 --task push

A learned policy drives each held-out episode (the `test` split, tabletop, `light`) for K steps
while a labeller (`simfarm.tasks.expert.as_labeller`, as `relabel=expert` uses it) labels every
state; from step K on, the labels are executed. Success after the takeover says whether the labels
steer from where the learner left the scene, the question to settle before blaming labels for a
DAgger iteration that does not help. Prints a markdown table (needs the policy's extra, e.g.
simfarm[lerobot]).
"""

from __future__ import annotations

import argparse
import sys
import time

from simfarm.envs import EnvConfig, SimfarmEnv
from simfarm.errors import SimfarmError, TaskError
from simfarm.policies import check_policy, make_policy
from simfarm.tasks import task_names
from simfarm.tasks.expert import as_labeller


def run(policy_spec: str, task: str, takeover: int, episodes: int) -> tuple[int, int, float]:
    """(successes of the learner alone by step `takeover`, successes at the end, wall seconds)."""
    env = SimfarmEnv(EnvConfig(task=task, scene="tabletop", obs_mode="state", randomization="light", split="test"))
    policy = make_policy(policy_spec, env.observation_space, env.action_space, env=env)
    alone = total = 0
    t0 = time.perf_counter()
    try:
        for episode in range(episodes):
            obs, info = env.reset(seed=0, options={"episode_index": episode})
            policy.reset(info["instruction"], episode)
            labeller = as_labeller(env.make_expert())
            labeller.reset(info["instruction"], episode)
            t, done, early = 0, False, False
            while not done:
                label = labeller.act(obs)
                action = policy.act(obs) if t < takeover else label
                labeller.executed(action)
                obs, _, terminated, truncated, info = env.step(action)
                t += 1
                early |= t <= takeover and bool(info["success"])
                done = terminated or truncated
            alone += early
            total += bool(info["success"])
    finally:
        policy.close()
        env.close()
    return alone, total, time.perf_counter() - t0


def count(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text}")
        return value
    return parse


def main() -> None:
    p = argparse.ArgumentParser(prog="label_takeover", description=__doc__.split("\n")[0])
    p.add_argument("--policy", required=True, help="a policy spec, e.g. lerobot:RUN_DIR")
    p.add_argument("--task", default="push")
    p.add_argument("--takeover", nargs="+", type=count(0), default=[20, 40])
    p.add_argument("--episodes", type=count(1), default=20)
    args = p.parse_args()
    try:
        check_policy(args.policy)
        if args.task not in task_names():
            raise TaskError(f"--task: unknown task {args.task!r}; accepted: {', '.join(task_names())}")
        table(args)
    except SimfarmError as exc:
        sys.exit(f"label_takeover: error: {exc}")


def table(args: argparse.Namespace) -> None:
    print("| task | takeover at step | learner alone by then | after the labels take over | wall |")
    print("|---|---|---|---|---|")
    for k in args.takeover:
        alone, total, wall = run(args.policy, args.task, k, args.episodes)
        print(f"| {args.task} | {k} | {alone}/{args.episodes} | {total}/{args.episodes} | {wall:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
