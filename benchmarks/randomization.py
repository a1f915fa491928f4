"""Cost of domain randomization per episode and per frame.

    python benchmarks/randomization.py [--objects 30] [--repeats 2000]

Prints a table: ModelRandomizer construction (once per scene), `apply` and `apply_values` per
episode for each preset on a synthetic scene with N objects, and `noisy_image` per 224x224 frame.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from simfarm.randomization import ModelRandomizer, SensorNoise, load_preset
from simfarm.randomization.synthetic import synthetic_model


def _per_call_us(fn, repeats: int) -> float:
    fn()  # warm caches
    best = float("inf")
    # Best of 3 batches: other processes share the machine; the minimum is the code's own cost.
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - t0) / repeats)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()

    model = synthetic_model(args.objects, n_lights=3)
    print(f"# {platform.machine()} {platform.processor() or ''}; model: {args.objects} objects, "
          f"{model.ngeom} geoms, {model.nbody} bodies, {model.nlight} lights, {model.ncam} cameras")
    print(f"{'what':44s} {'per call':>12s}")
    for name in ("none", "light", "heavy"):
        preset = load_preset(name)
        build_us = _per_call_us(lambda p=preset: ModelRandomizer(model, p), max(args.repeats // 20, 10))
        randomizer = ModelRandomizer(model, preset)
        rng = np.random.default_rng(0)
        apply_us = _per_call_us(lambda r=randomizer, g=rng: r.apply(model, g), args.repeats)
        values = randomizer.apply(model, rng)
        replay_us = _per_call_us(lambda r=randomizer, v=values: r.apply_values(model, v), args.repeats)
        print(f"{'ModelRandomizer(model, ' + name + ')':44s} {build_us:9.1f} us")
        print(f"{'apply  ' + name + f' ({len(values)} params)':44s} {apply_us:9.1f} us")
        print(f"{'apply_values ' + name:44s} {replay_us:9.1f} us")
    img = np.random.default_rng(1).integers(0, 256, (224, 224, 3), dtype=np.uint8)
    out = np.empty_like(img)
    rng = np.random.default_rng(2)
    for std in (2.0, 6.0):
        noise = SensorNoise(image_std=std)
        us = _per_call_us(lambda n=noise: n.noisy_image(img, rng, out=out), args.frames)
        print(f"{f'noisy_image 224x224x3 std={std:g} (out=)':44s} {us:9.1f} us")
    state = np.zeros(20, np.float32)
    noise = SensorNoise(state_std=0.001)
    us = _per_call_us(lambda: noise.noisy_state(state, rng), args.repeats)
    print(f"{'noisy_state (20 dims)':44s} {us:9.1f} us")


if __name__ == "__main__":
    main()
