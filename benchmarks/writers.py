"""Throughput of the dataset writers: frames/s with two 224x224 cameras, bytes per frame by codec.

    python benchmarks/writers.py [--episodes 4] [--length 50] [--size 224]

Frames are rendered-like (smooth gradients + moving shapes, simfarm.writers.synthetic), not noise,
so the codecs see what they see in production. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from simfarm.dataset.validate import validate
from simfarm.writers import DatasetSpec, finalize, make_shard_writer
from simfarm.writers.synthetic import synthetic_episode


def run(kind: str, episodes, tmp: Path, shards: int, **options) -> dict:
    spec = DatasetSpec.from_episode(episodes[0], **options)
    per = -(-len(episodes) // shards)
    dirs = []
    t0 = time.perf_counter()
    for k in range(shards):
        with make_shard_writer(kind, tmp / f"shards/s{k}", spec, k) as w:
            for ep in episodes[k * per:(k + 1) * per]:
                w.add_episode(ep)
        dirs.append(tmp / f"shards/s{k}")
    write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    finalize(kind, tmp / "ds", dirs)
    finalize_s = time.perf_counter() - t0
    frames = sum(e.length for e in episodes)
    if kind == "lerobot":
        media = sum(p.stat().st_size for p in (tmp / "ds/videos").rglob("*.mp4"))
    else:
        media = (tmp / "ds/data.hdf5").stat().st_size
    assert validate(tmp / "ds") == [], "benchmark dataset is invalid"
    cams = len(episodes[0].images)
    return {"frames": frames, "write_s": write_s, "finalize_s": finalize_s,
            "bytes_per_frame": media / (frames * cams), "fps": frames / write_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--length", type=int, default=50)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--shards", type=int, default=2)
    args = ap.parse_args()
    cams = {"workspace": (args.size, args.size), "wrist": (args.size, args.size)}
    episodes = [synthetic_episode(i, args.length, cameras=cams) for i in range(args.episodes)]
    raw = args.size * args.size * 3
    rows = []
    for label, kind, opts in (
        ("lerobot av1 (libsvtav1, crf 30, g 2, preset default)", "lerobot", {"video_codec": "av1"}),
        ("lerobot av1 preset 12", "lerobot", {"video_codec": "av1", "preset": "12"}),
        ("lerobot h264 (libx264, crf 30, g 2, preset default)", "lerobot", {"video_codec": "h264"}),
        ("lerobot h264 veryfast", "lerobot", {"video_codec": "h264", "preset": "veryfast"}),
        ("hdf5 (gzip 4, lossless)", "hdf5", {}),
    ):
        with tempfile.TemporaryDirectory() as d:
            r = run(kind, episodes, Path(d), args.shards, **opts)
        rows.append((label, r))
    scaling = []
    for n_shards in (5, 20, 80):
        small = [synthetic_episode(i, 20, cameras={"workspace": (64, 64)}) for i in range(n_shards * 2)]
        with tempfile.TemporaryDirectory() as d:
            r = run("lerobot", small, Path(d), n_shards, video_codec="h264", preset="veryfast")
        scaling.append((n_shards, len(small), r["finalize_s"]))
    print(f"{args.episodes} episodes x {args.length} steps, 2 cameras {args.size}x{args.size}, {args.shards} shards; "
          f"raw frame {raw} B")
    print("| writer | steps/s (2 cams) | camera frames/s | bytes/frame | compression | finalize s |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(f"| {label} | {r['fps']:.0f} | {2 * r['fps']:.0f} | {r['bytes_per_frame']:.0f} | "
              f"{raw / r['bytes_per_frame']:.0f}x | {r['finalize_s']:.3f} |")
    print()
    print("LeRobot finalize cost by dataset size (2 episodes x 20 steps per shard, one 64x64 camera)")
    print("| shards | episodes | finalize s | ms per episode |")
    print("|---:|---:|---:|---:|")
    for n_shards, n_eps, t in scaling:
        print(f"| {n_shards} | {n_eps} | {t:.3f} | {1000 * t / n_eps:.1f} |")


if __name__ == "__main__":
    main()
