"""What each observation part costs per camera frame (issue #15 targets: depth <= +15%, segmentation <= +60%).

    MUJOCO_GL=egl python benchmarks/observations.py [--size 224] [--frames 40] [--rounds 5] [--program kitchen]

One env per mode on the same scenes (seeds 0..2), the observation of the first frame built again
and again (`env._observation()`: render, camera noise, depth conversion, segmentation labels,
point-cloud fusion), with the workspace camera only, then with workspace + wrist. Modes are
interleaved round by round and each cell is the median over rounds, so a busy machine slows every
mode alike. Prints ms per camera frame and each mode's cost relative to rgb.

`--job` adds what a frame costs in a generation job: the scripted expert's episodes run by the
farm's EpisodeRunner and written by the LeRobot shard writer (AV1 RGB, lossless HEVC depth and
segmentation), ms per frame with workspace + wrist, each mode relative to rgb+state.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from simfarm.envs import SimfarmEnv  # noqa: E402

MODES = ("rgb", "rgb+depth", "rgb+depth+segmentation", "pointcloud")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--program", default="kitchen")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--job", action="store_true", help="also time frames of a generation job (rollout + writer)")
    args = ap.parse_args()
    for cameras in (["workspace"], ["workspace", "wrist"]):
        envs = {mode: SimfarmEnv(scene=args.program, obs_mode=mode, cameras=cameras,
                                 camera_size=(args.size, args.size)) for mode in MODES}
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        for r in range(args.rounds):
            seed = r % args.seeds
            for mode, env in envs.items():
                env.reset(seed=seed)
                env._observation()  # warm: the scene's textures upload on its first frame
                t0 = time.perf_counter()
                for _ in range(args.frames):
                    env._observation()
                times[mode].append((time.perf_counter() - t0) / args.frames / len(cameras) * 1000)
        base = float(np.median(times["rgb"]))
        print(f"\n{args.program}, {args.size}x{args.size}, cameras {'+'.join(cameras)}: ms per camera frame "
              f"(median of {args.rounds} rounds x {args.frames} frames)")
        print(f"{'mode':<26}{'ms':>8}{'vs rgb':>10}")
        for mode in MODES:
            ms = float(np.median(times[mode]))
            print(f"{mode:<26}{ms:>8.2f}{(ms / base - 1) * 100:>+9.0f}%")
        for env in envs.values():
            env.close()
    if args.job:
        job_table(args)


def job_table(args) -> None:
    import tempfile
    from pathlib import Path

    from simfarm import config as C
    from simfarm.rollout import EpisodeRunner
    from simfarm.writers import DatasetSpec, make_shard_writer

    variants = {
        "rgb+state, no annotations": ["obs_mode=rgb+state", "annotations=[]"],
        "rgb+state (default)": ["obs_mode=rgb+state"],
        "rgb+depth+state": ["obs_mode=rgb+depth+state"],
        "rgb+depth+segmentation+state": ["obs_mode=rgb+depth+segmentation+state"],
    }
    times: dict[str, list[float]] = {v: [] for v in variants}
    runners = {v: EpisodeRunner(C.to_dict(C.compose("generate", [
        f"scene={args.program}", f"camera_size=[{args.size},{args.size}]", "max_steps=40", *o]))) for v, o in variants.items()}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for v, runner in runners.items():
                t0 = time.perf_counter()
                episode = runner.run(r)
                with make_shard_writer("lerobot", Path(tmp) / f"{len(times[v])}-{r}-{hash(v)}", DatasetSpec.from_episode(episode), 0) as w:
                    w.add_episode(episode)
                times[v].append((time.perf_counter() - t0) / episode.length * 1000)
    for runner in runners.values():
        runner.close()
    base = float(np.median(times["rgb+state, no annotations"]))
    print(f"\n{args.program}, {args.size}x{args.size}, workspace + wrist, a generation job's frame (expert, physics, "
          f"render, annotations, encode; median of {args.rounds} episodes)")
    print(f"{'job':<32}{'ms/frame':>10}{'vs first':>10}")
    for v in variants:
        ms = float(np.median(times[v]))
        print(f"{v:<32}{ms:>10.1f}{(ms / base - 1) * 100:>+9.0f}%")


if __name__ == "__main__":
    main()
