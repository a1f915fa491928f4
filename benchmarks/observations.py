"""What each observation part costs per camera frame (issue #15 targets: depth <= +15%, segmentation <= +60%).

    MUJOCO_GL=egl python benchmarks/observations.py [--size 224] [--frames 40] [--rounds 5] [--program kitchen]

One env per mode on the same scenes (seeds 0..2), the observation of the first frame built again
and again (`env._observation()`: render, camera noise, depth conversion, segmentation labels,
point-cloud fusion), with the workspace camera only, then with workspace + wrist. Modes are
interleaved round by round and each cell is the median over rounds, so a busy machine slows every
mode alike. Prints ms per camera frame and each mode's cost relative to rgb.
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


if __name__ == "__main__":
    main()
