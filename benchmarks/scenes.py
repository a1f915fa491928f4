"""Scene generation and physics throughput.

    python benchmarks/scenes.py [--seconds 3] [--programs kitchen,living_room,workshop]

Prints a table: scenes/s (sample + build + compile, single process) per room program and for a
one-room scene with 20 objects, then physics steps/s (CPU time) of built scenes: a Python loop of
mj_step against `mujoco.rollout` (the bare C loop) on the same model, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import mujoco
import numpy as np
import yaml

from simfarm.scene import build_scene, sample_scene

ONE_ROOM_20 = {
    "name": "bench_one_room_20",
    "rooms": {"count": [1, 1], "width_m": [4.5, 4.5], "depth_m": [4.5, 4.5], "wall_height_m": [2.6, 2.6]},
    "styles": ["oak_white"],
    "lights": {"per_room": [1, 1], "intensity": [0.5, 0.5]},
    "workspace": {"surface": ["workbench"]},
    "furniture": [
        {"kind": "workbench", "placement": "wall", "count": [1, 1], "rooms": "main"},
        {"kind": "counter", "placement": "wall", "count": [2, 2], "rooms": "main"},
    ],
    "objects": [
        {"place_on": ["workbench"], "families": ["block", "can", "mug", "box", "bar"], "count": [8, 8]},
        {"place_on": ["counter"], "families": ["bottle", "bowl", "plate", "fruit"], "count": [6, 6]},
    ],
}


def scenes_per_second(program, seconds: float) -> tuple[float, float, float, float, float]:
    """(scenes/s of wall time, scenes per CPU-second, mean objects, CPU ms sampling, CPU ms building).

    CPU time (this process) is the per-core figure; wall time also counts other load on the machine.
    """
    n, objs, t_sample, t_build = 0, 0, 0.0, 0.0
    start, cpu_start = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        t0 = time.process_time()
        spec = sample_scene(program, np.random.default_rng(n))
        t1 = time.process_time()
        build_scene(spec)
        t2 = time.process_time()
        n, objs = n + 1, objs + len(spec.objects)
        t_sample, t_build = t_sample + t1 - t0, t_build + t2 - t1
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return n / wall, n / cpu, objs / n, 1e3 * t_sample / n, 1e3 * t_build / n


def physics(program, steps: int = 2000) -> tuple[float, float, int]:
    """(python-loop steps/s, rollout steps/s, contacts) for one built scene with the robot at home."""
    built = build_scene(sample_scene(program, np.random.default_rng(0)))
    model = built.model
    data = built.initial_state()
    for _ in range(200):  # let contacts settle
        mujoco.mj_step(model, data)
    ncon = data.ncon
    state0 = np.empty(mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS))
    mujoco.mj_getState(model, data, state0, mujoco.mjtState.mjSTATE_FULLPHYSICS)
    t0 = time.process_time()
    for _ in range(steps):
        mujoco.mj_step(model, data)
    loop = steps / (time.process_time() - t0)
    from mujoco import rollout

    ctrl = np.tile(data.ctrl, (1, steps, 1))
    t0 = time.process_time()
    rollout.rollout(model, mujoco.MjData(model), state0[None], ctrl, nstep=steps)
    bare = steps / (time.process_time() - t0)
    return loop, bare, ncon


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--programs", default="kitchen,living_room,workshop")
    args = parser.parse_args()
    programs: list = args.programs.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        one_room = Path(tmp) / "bench_one_room_20.yaml"
        one_room.write_text(yaml.safe_dump(ONE_ROOM_20))
        # Warm caches (YAML parsing, first compile) so the table shows steady-state rates.
        for p in [*programs, one_room]:
            build_scene(sample_scene(p, np.random.default_rng(0)))
        print(f"pid {os.getpid()}, mujoco {mujoco.__version__}, {args.seconds:.0f} s per row, robot=arm\n")
        print(f"{'program':<22} {'wall/s':>7} {'per CPU-s':>10} {'objects':>8} {'sample ms':>10} {'build ms':>9}")
        for p in [*programs, one_room]:
            rate, cpu_rate, objs, ms_s, ms_b = scenes_per_second(p, args.seconds)
            name = p if isinstance(p, str) else "one room, 20 objects"
            print(f"{name:<22} {rate:>7.1f} {cpu_rate:>10.1f} {objs:>8.1f} {ms_s:>10.2f} {ms_b:>9.2f}")
        print(f"\n{'program':<22} {'mj_step loop/s':>15} {'rollout/s':>10} {'loop/bare':>10} {'contacts':>9}")
        for p in [*programs, one_room]:
            loop, bare, ncon = physics(p)
            name = p if isinstance(p, str) else "one room, 20 objects"
            print(f"{name:<22} {loop:>15.0f} {bare:>10.0f} {loop / bare:>10.2f} {ncon:>9d}")


if __name__ == "__main__":
    main()
