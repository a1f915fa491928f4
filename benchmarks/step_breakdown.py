"""Where a farm step goes: real shards of the reference workload run in this process, with timers.

    python benchmarks/step_breakdown.py                    # 3 shards of 10 episodes after a warm-up shard
    python benchmarks/step_breakdown.py --codec h264

Runs `simfarm.farm.shard.run_shard` (what a Ray worker runs: rollout, writer, publish) on the
reference workload of farm_throughput.py and times each stage by wrapping the functions that do it
(MuJoCo's physics and render calls, sensor noise, the encoder, image stats, the writer). Prints
ms per control step for each stage and, for the same episodes, the bound of physics + rendering
and the share of the step it takes. One llvmpipe thread and one CPU, like a worker.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("LP_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", type=int, default=3)
    ap.add_argument("--shard-size", type=int, default=10)
    ap.add_argument("--codec", default="av1", choices=["av1", "h264"])
    args = ap.parse_args(argv)
    # One CPU, as a pinned worker has: the encoder's threads then share it, so the step total is
    # the whole per-core cost (unpinned, SVT-AV1 would quietly borrow the other core).
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    import mujoco
    from farm_throughput import job_config

    from simfarm.config import config_hash
    from simfarm.envs.simfarm_env import SimfarmEnv
    from simfarm.farm.plan import ShardPlan
    from simfarm.farm.shard import ShardTask, run_shard
    from simfarm.farm.state import JobStore
    from simfarm.randomization.noise import SensorNoise
    from simfarm.rollout import EpisodeRunner
    from simfarm.writers import stats
    from simfarm.writers.lerobot import LeRobotShardWriter
    from simfarm.writers.video import VideoEncoder

    totals: dict[str, float] = {}

    def timed(owner, name: str, stage: str) -> None:
        inner = getattr(owner, name)

        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                totals[stage] = totals.get(stage, 0.0) + time.perf_counter() - t0

        setattr(owner, name, wrapper)

    timed(mujoco, "mj_step", "physics (mj_step)")
    timed(mujoco, "mjr_render", "rendering (mjr_render + mjr_readPixels)")
    timed(mujoco, "mjr_readPixels", "rendering (mjr_render + mjr_readPixels)")
    timed(SensorNoise, "noisy_image", "sensor image noise")
    timed(SimfarmEnv, "reset", "env.reset (new scene, randomization, first frames)")
    timed(EpisodeRunner, "run", "rollout total (EpisodeRunner.run)")
    timed(VideoEncoder, "write", "video encoding (VideoEncoder.write)")
    timed(stats, "image_stats", "image stats")
    timed(LeRobotShardWriter, "add_episode", "writer total (add_episode + close)")
    timed(LeRobotShardWriter, "close", "writer total (add_episode + close)")

    out = tempfile.mkdtemp(prefix="simfarm-breakdown-")
    try:
        cfg = job_config(out, 1, (args.shards + 1) * args.shard_size, args.shard_size, 0)
        cfg["writer"]["video_codec"] = args.codec
        h = config_hash(cfg)
        store = JobStore(out)
        size = args.shard_size

        def shard(k: int):
            return run_shard(ShardTask(output=store.root, shard=ShardPlan(k, k * size, size), cfg=cfg, config_hash=h))

        shard(0)  # warm-up: runner, GL context, encoder start-up
        totals.clear()
        t0 = time.perf_counter()
        steps = sum(e.length for k in range(1, args.shards + 1) for e in shard(k).episodes)
        wall = time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)

    per_step = {k: v / steps * 1e3 for k, v in totals.items()}
    rollout = per_step["rollout total (EpisodeRunner.run)"]
    named = sum(per_step[k] for k in ("physics (mj_step)", "rendering (mjr_render + mjr_readPixels)",
                                      "sensor image noise", "env.reset (new scene, randomization, first frames)"))
    per_step["policy, IK, task, observations, bookkeeping (rest of the rollout)"] = rollout - named
    writer = per_step["writer total (add_episode + close)"]
    per_step["parquet, scene store, metadata (rest of the writer)"] = (
        writer - per_step["video encoding (VideoEncoder.write)"] - per_step["image stats"])
    per_step["shard publish and marker (rest of the shard)"] = wall / steps * 1e3 - rollout - writer
    total = wall / steps * 1e3
    bound = per_step["physics (mj_step)"] + per_step["rendering (mjr_render + mjr_readPixels)"]

    print(f"reference workload, {args.codec}, {steps} control steps in {args.shards} shards of {size} episodes")
    print("stage | ms per control step | share")
    print("--- | --- | ---")
    order = ["physics (mj_step)", "rendering (mjr_render + mjr_readPixels)", "sensor image noise",
             "env.reset (new scene, randomization, first frames)",
             "policy, IK, task, observations, bookkeeping (rest of the rollout)", "rollout total (EpisodeRunner.run)",
             "video encoding (VideoEncoder.write)", "image stats", "parquet, scene store, metadata (rest of the writer)",
             "writer total (add_episode + close)", "shard publish and marker (rest of the shard)"]
    for k in order:
        print(f"{k} | {per_step[k]:.2f} | {per_step[k] / total:.0%}")
    print(f"**step total** | **{total:.2f}** | 100%")
    print(f"physics + rendering of these episodes (the bound) = {bound:.2f} ms -> ratio {bound / total:.2f}; "
          f"encoding / rollout = {per_step['video encoding (VideoEncoder.write)'] / rollout:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
