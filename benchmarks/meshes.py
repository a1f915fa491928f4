"""Mesh object families: distinct meshes over sampled scenes, cache size, and build cost.

    python benchmarks/meshes.py [--scenes 1000] [--program showcase] [--build 20]

Samples `--scenes` scenes of the program (procgen/rooms/showcase.yaml lists every mesh family) and
prints how many mesh objects they hold and how many distinct mesh hashes (shape keys) among them,
with the bytes the cache folder took (a temporary one, removed afterwards: textures only, since
procedural meshes stay in memory). Then the build
time per scene (sample + build + compile, CPU) with caches warm, against the kitchen program.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenes", type=int, default=1000)
    ap.add_argument("--program", default="showcase")
    ap.add_argument("--build", type=int, default=20, help="scenes built per program for the timing")
    args = ap.parse_args()
    cache = tempfile.mkdtemp(prefix="simfarm_mesh_bench_")
    os.environ["SIMFARM_CACHE"] = cache
    from simfarm.scene import build_scene, sample_scene
    from simfarm.scene.meshes import shape_key

    try:
        keys, n_mesh, n_obj = set(), 0, 0
        t0 = time.process_time()
        for seed in range(args.scenes):
            spec = sample_scene(args.program, np.random.default_rng(seed))
            for o in spec.objects:
                n_obj += 1
                if "mesh" in o.params and o.params["mesh"] != "user":
                    n_mesh += 1
                    keys.add(shape_key(o.params["mesh"], o.params["dims"]))
        cpu = time.process_time() - t0
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(cache) for f in fs)
        print(f"{args.program}: {args.scenes} scenes, {n_obj} objects, {n_mesh} mesh objects, "
              f"{len(keys)} distinct mesh hashes; sampling {1e3 * cpu / args.scenes:.1f} ms CPU/scene (cold cache); "
              f"cache folder {size / 1e6:.1f} MB")
        for program in ("kitchen", args.program):
            specs = [sample_scene(program, np.random.default_rng(s)) for s in range(args.build)]
            for s in specs:  # warm every cache (meshes, textures)
                build_scene(s)
            t0 = time.process_time()
            for s in range(args.build):
                sample_scene(program, np.random.default_rng(s))
            t1 = time.process_time()
            for s in specs:
                build_scene(s)
            t2 = time.process_time()
            objs = np.mean([len(s.objects) for s in specs])
            print(f"{program}: {objs:.1f} objects/scene; warm caches: sample {1e3 * (t1 - t0) / args.build:.1f} ms, "
                  f"build+compile {1e3 * (t2 - t1) / args.build:.1f} ms CPU per scene "
                  f"({args.build / (t2 - t0):.1f} scenes/s per core)")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
