"""Brightness and contrast of workspace frames over sampled episodes (issue #16: lighting that never
gives black or blown-out frames).

    python benchmarks/lighting.py [--episodes 200] [--size 96] [--randomization light] [--seed 0]

Episode i samples a scene of program i mod P (every program under procgen/rooms/, then the fixed
tabletop), applies the randomization preset's model-level draw and renders the workspace camera at
the initial state with the throughput renderer. Per frame: mean luminance (Rec. 709, 0..1), its std
(contrast), the fractions of near-black (< 0.02) and clipped (> 0.98) pixels. Prints the
distribution and the frames outside the accepted range (procgen/README.md, tests/scene/test_lighting.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from simfarm.scene.textures import (  # noqa: E402
    BRIGHTNESS_RANGE,
    MAX_CLIPPED,
    MIN_CONTRAST,
    frame_in_range,
    frame_stats,
)


def sample_frames(episodes: int, size: int, preset: str, seed: int = 0):
    """(program, stats) of the workspace frame of each episode."""
    from simfarm.randomization.model import ModelRandomizer
    from simfarm.render import CameraRenderer
    from simfarm.scene.builder import build_scene
    from simfarm.scene.catalog import available_programs
    from simfarm.scene.source import load_scene_source

    sources = [load_scene_source(p) for p in (*available_programs(), "tabletop")]
    renderer = None
    out = []
    try:
        for i in range(episodes):
            source = sources[i % len(sources)]
            rng = np.random.default_rng([seed, i])
            built = build_scene(source.sample(rng))
            ModelRandomizer(built.model, preset).apply(built.model, np.random.default_rng([seed, i, 1]))
            data = built.initial_state()
            if renderer is None:
                renderer = CameraRenderer(built.model, size, size)
            else:
                renderer.set_model(built.model)
            out.append((source.name, frame_stats(renderer.render(data, "workspace"))))
    finally:
        if renderer is not None:
            renderer.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=200)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--randomization", default="light")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.perf_counter()
    frames = sample_frames(args.episodes, args.size, args.randomization, args.seed)
    dt = time.perf_counter() - t0
    print(f"{len(frames)} episodes, workspace camera {args.size}x{args.size}, randomization={args.randomization}, {dt:.1f} s")
    print(f"{'program':14s} {'n':>4s} {'bright min':>10s} {'median':>7s} {'max':>6s} {'contrast min':>12s} {'median':>7s} "
          f"{'black max':>9s} {'clip max':>8s}")
    programs = sorted({p for p, _ in frames})
    for prog in [*programs, "all"]:
        rows = [s for p, s in frames if prog in (p, "all")]
        b = np.array([s["brightness"] for s in rows])
        c = np.array([s["contrast"] for s in rows])
        print(f"{prog:14s} {len(rows):4d} {b.min():10.3f} {np.median(b):7.3f} {b.max():6.3f} {c.min():12.3f} "
              f"{np.median(c):7.3f} {max(s['black'] for s in rows):9.3f} {max(s['clipped'] for s in rows):8.3f}")
    bad = [(i, p, s) for i, (p, s) in enumerate(frames) if not frame_in_range(s)]
    print(f"accepted: brightness in {BRIGHTNESS_RANGE}, contrast >= {MIN_CONTRAST}, clipped <= {MAX_CLIPPED}; "
          f"outside: {len(bad)}")
    for i, p, s in bad:
        print(f"  episode {i} ({p}): " + ", ".join(f"{k} {v:.3f}" for k, v in s.items()))


if __name__ == "__main__":
    main()
