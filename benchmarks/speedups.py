"""What each rollout speed-up buys, measured in one process on the same episodes.

    python benchmarks/speedups.py [--episodes 12] [--rounds 2]

Runs the reference workload's rollout (pick_place, arm, kitchen, `light`, cameras workspace + wrist
at 224x224, 10 Hz; EpisodeRunner.run, no writer) with each speed-up turned off in turn, and with
all of them off, alternating the variants round by round so the machine's drift hits them alike:

- sleep: MuJoCo's sleeping islands in built scenes (simfarm.scene.builder)
- cull: geoms outside a camera's view left out of the scene (simfarm.render.outside_view)
- tessellation: round shapes drawn with 16x8 instead of MuJoCo's 28x16 triangles
- final frame: the observation after an episode's last action not rendered

Prints ms per control step of the rollout (wall and process CPU) for every variant and the
speed-up of the default (all on) over each. One llvmpipe thread, pinned to one CPU, like a worker.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("LP_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SPEEDUPS = ("sleep", "cull", "tessellation", "final frame")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--episodes", type=int, default=12, help="episodes per variant and round")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    import mujoco
    from farm_throughput import job_config

    import simfarm.render as render
    import simfarm.scene as scene
    from simfarm.rollout import make_episode_runner

    build_scene, outside_view = scene.build_scene, render.outside_view
    fast = (render.FAST_SLICES, render.FAST_STACKS)
    sleep_bit = int(mujoco.mjtEnableBit.mjENBL_SLEEP)

    def set_variant(off: set[str]) -> None:
        def build_without_sleep(spec):
            built = build_scene(spec)
            built.model.opt.enableflags &= ~sleep_bit
            return built

        scene.build_scene = build_without_sleep if "sleep" in off else build_scene
        render.outside_view = (lambda *a, **k: None) if "cull" in off else outside_view
        render.FAST_SLICES, render.FAST_STACKS = (render.PRETTY_SLICES, render.PRETTY_STACKS) if "tessellation" in off else fast
        runner.env.final_observation_images = "final frame" in off

    cfg = job_config("/tmp/unused", 1, args.episodes, args.episodes, 0)
    runner = make_episode_runner(cfg)
    variants = {"all on (default)": set()} | {f"without {s}": {s} for s in SPEEDUPS} | {"all off": set(SPEEDUPS)}
    runner.run(0)  # warm-up: GL context, caches
    totals = {name: [0.0, 0.0, 0] for name in variants}
    for r in range(args.rounds):
        for name in (list(variants) if r % 2 == 0 else list(variants)[::-1]):
            set_variant(variants[name])
            t0, c0 = time.perf_counter(), time.process_time()
            steps = sum(runner.run(i).length for i in range(1, args.episodes + 1))
            totals[name][0] += time.perf_counter() - t0
            totals[name][1] += time.process_time() - c0
            totals[name][2] += steps
    set_variant(set())
    runner.close()

    base = totals["all on (default)"]
    print(f"rollout of {args.episodes} episodes x {args.rounds} rounds per variant (reference workload, one CPU)")
    print("variant | steps | ms/step wall | ms/step CPU | default is faster by")
    print("--- | --- | --- | --- | ---")
    for name, (wall, cpu, steps) in totals.items():
        speedup = (wall / steps) / (base[0] / base[2])
        print(f"{name} | {steps} | {wall / steps * 1e3:.2f} | {cpu / steps * 1e3:.2f} | {speedup:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
