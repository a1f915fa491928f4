"""Load simfarm LeRobot v3.0 datasets with LeRobot's own reader and report what it sees.

Runs inside a virtual environment that has `lerobot` installed (never simfarm's own: lerobot is
not a simfarm dependency). Every frame of every dataset is read through `LeRobotDataset[i]`, and
checked against `meta/info.json`:

- keys, shapes and dtypes of each item (video features as float32 CHW in [0, 1]);
- `timestamp == frame_index / fps`, `index` inside its episode's `dataset_from/to_index`;
- `task` equal to the `meta/tasks` row of `task_index`;
- `meta.episodes`, `meta.stats` (every feature, LeRobot's stat names and shapes), `meta.tasks`.

With `--simfarm-python PY` (a Python that imports simfarm, e.g. `/work/main/.venv/bin/python`),
the decoded video frames are also compared with `simfarm.dataset.reader.LeRobotReader.frames`.

    HF_HUB_OFFLINE=1 python tools/check_lerobot_compat.py DATASET [DATASET ...] \
        [--backend torchcodec|pyav] [--simfarm-python /work/main/.venv/bin/python] [--streaming]

Exit status 0 when every dataset passes, 1 otherwise. See simfarm/writers/README.md,
"Checked against LeRobot's reader", for how such a venv is set up without CUDA.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

STAT_NAMES = ("min", "max", "mean", "std", "count")
# Mean absolute difference (0..255 scale) allowed between LeRobot's and simfarm's decoded frames:
# both decode the same stream, but YUV->RGB conversion may differ by a rounding step.
DEFAULT_MAX_MEAN_PIXEL_DIFF = 1.0

_SIMFARM_DUMP = """
import sys, numpy as np
from simfarm.dataset.reader import LeRobotReader
r = LeRobotReader(sys.argv[1])
out = {}
for ep in range(len(r.episodes)):
    for key in r.video_keys:
        out[f"{key}|{ep}"] = r.frames(ep, key)
np.savez(sys.argv[2], **out)
"""


@dataclass
class Report:
    """What one dataset looked like through LeRobot's reader."""

    path: str
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(message)


def import_torchvision() -> None:
    """Import torchvision, tolerating a build whose C++ ops cannot load.

    The PyPI torchvision wheels link against CUDA torch; next to a CPU-only torch their `_C`
    extension fails to load and `import torchvision` then stops at `register_fake` on an op that
    does not exist. Dataset reading never calls those detection ops, so placeholder schemas let
    the import (and LeRobot's) go through. With a matching torchvision this does nothing.
    """
    import torch

    libs = []
    for _ in range(20):
        try:
            import torchvision  # noqa: F401

            return
        except RuntimeError as exc:
            missing = re.search(r"operator torchvision::(\w+) does not exist", str(exc))
            if not missing:
                raise
            for name in [
                m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")
            ]:
                del sys.modules[name]
            lib = torch.library.Library("torchvision", "FRAGMENT")
            lib.define(f"{missing.group(1)}(Tensor x) -> Tensor")
            libs.append(lib)
            import_torchvision._placeholders = libs  # type: ignore[attr-defined]
    raise RuntimeError("torchvision still fails to import after 20 placeholder ops")


def _expected_item_shape(ft: dict) -> tuple[int, ...]:
    shape = tuple(ft["shape"])
    if ft["dtype"] in ("video", "image"):
        return (shape[2], shape[0], shape[1])
    return () if shape == (1,) else shape


def _check_metadata(ds, report: Report) -> None:
    meta = ds.meta
    info = meta.info
    episodes = meta.episodes
    if len(episodes) != info["total_episodes"]:
        report.fail(
            f"meta.episodes has {len(episodes)} rows, info.json total_episodes={info['total_episodes']}"
        )
    expected_from = 0
    for ep in episodes:
        if (
            ep["dataset_from_index"] != expected_from
            or ep["dataset_to_index"] - ep["dataset_from_index"] != ep["length"]
        ):
            report.fail(
                f"episode {ep['episode_index']}: index range {ep['dataset_from_index']}..{ep['dataset_to_index']}"
                f" does not follow on from {expected_from} with length {ep['length']}"
            )
        expected_from = ep["dataset_to_index"]
    tasks = meta.tasks
    if list(tasks.columns) != ["task_index"] or sorted(tasks["task_index"]) != list(
        range(len(tasks))
    ):
        report.fail(
            f"meta.tasks: columns {list(tasks.columns)}, task_index {list(tasks['task_index'])}"
        )
    stats = meta.stats or {}
    for key, ft in meta.features.items():
        if key not in stats:
            report.fail(f"meta.stats has no entry for feature {key!r}")
            continue
        missing = [s for s in STAT_NAMES if s not in stats[key]]
        if missing:
            report.fail(f"meta.stats[{key!r}] lacks {missing}")
        want = (3, 1, 1) if ft["dtype"] in ("video", "image") else tuple(ft["shape"])
        got = np.asarray(stats[key].get("mean")).shape
        if got != want:
            report.fail(f"meta.stats[{key!r}]['mean'] has shape {got}, expected {want}")
    report.lines.append(
        f"meta: {len(episodes)} episodes, {len(tasks)} tasks, stats for {len(stats)} features, "
        f"codebase {info['codebase_version']}, fps {info['fps']}"
    )


def _check_items(ds, report: Report) -> dict[str, np.ndarray]:
    """Read every frame; returns the video frames as uint8 HWC, keyed 'key|episode'."""
    import torch

    features = ds.meta.features
    dtypes = {
        "float32": torch.float32,
        "float64": torch.float64,
        "int64": torch.int64,
        "bool": torch.bool,
        "video": torch.float32,
        "image": torch.float32,
        "int32": torch.int32,
    }
    episodes = ds.meta.episodes
    task_names = list(ds.meta.tasks.sort_values("task_index").index)
    frames: dict[str, list[np.ndarray]] = {}
    for i in range(len(ds)):
        item = ds[i]
        missing = [k for k in [*features, "task"] if k not in item]
        if missing:
            report.fail(f"item {i}: missing keys {missing}")
            continue
        for key, ft in features.items():
            value = item[key]
            if tuple(value.shape) != _expected_item_shape(ft) or value.dtype != dtypes.get(
                ft["dtype"]
            ):
                report.fail(
                    f"item {i} {key}: {tuple(value.shape)} {value.dtype}, info.json says {ft['shape']} {ft['dtype']}"
                )
        ep_idx = int(item["episode_index"])
        ep = episodes[ep_idx]
        if not ep["dataset_from_index"] <= int(item["index"]) < ep["dataset_to_index"]:
            report.fail(f"item {i}: index {int(item['index'])} outside episode {ep_idx}")
        if abs(float(item["timestamp"]) - int(item["frame_index"]) / ds.fps) > 1e-4:
            report.fail(f"item {i}: timestamp {float(item['timestamp'])} != frame_index/fps")
        if item["task"] != task_names[int(item["task_index"])]:
            report.fail(f"item {i}: task {item['task']!r} is not task {int(item['task_index'])}")
        for key in ds.meta.video_keys:
            img = item[key]
            if float(img.min()) < 0.0 or float(img.max()) > 1.0:
                report.fail(f"item {i} {key}: values outside [0, 1]")
            hwc = (img.permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
            frames.setdefault(f"{key}|{ep_idx}", []).append(hwc)
    report.lines.append(f"items: {len(ds)} frames read, keys {sorted(item.keys())}")
    return {k: np.stack(v) for k, v in frames.items()}


def _compare_with_simfarm(
    path: str,
    lerobot_frames: dict[str, np.ndarray],
    python: str,
    max_mean_diff: float,
    report: Report,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "frames.npz"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "LD_LIBRARY_PATH", "VIRTUAL_ENV")
        }
        proc = subprocess.run(
            [python, "-c", _SIMFARM_DUMP, path, str(out)], capture_output=True, text=True, env=env
        )
        if proc.returncode != 0:
            report.fail(f"simfarm reader failed: {proc.stderr.strip().splitlines()[-1:]}")
            return
        with np.load(out) as npz:
            simfarm_frames = {k: npz[k] for k in npz.files}
    if sorted(simfarm_frames) != sorted(lerobot_frames):
        report.fail(
            f"video streams differ: simfarm {sorted(simfarm_frames)} vs LeRobot {sorted(lerobot_frames)}"
        )
        return
    worst_mean, worst_max = 0.0, 0
    for key, ours in simfarm_frames.items():
        theirs = lerobot_frames[key]
        if ours.shape != theirs.shape:
            report.fail(f"{key}: simfarm frames {ours.shape}, LeRobot frames {theirs.shape}")
            continue
        diff = np.abs(ours.astype(np.int16) - theirs.astype(np.int16))
        worst_mean, worst_max = max(worst_mean, float(diff.mean())), max(worst_max, int(diff.max()))
        if diff.mean() > max_mean_diff:
            report.fail(f"{key}: mean pixel difference {diff.mean():.2f} > {max_mean_diff}")
    report.lines.append(
        f"video vs simfarm reader: {len(simfarm_frames)} episode streams, "
        f"mean |diff| <= {worst_mean:.3f}, max |diff| {worst_max} (0..255)"
    )


def _check_streaming(path: str, lerobot_frames: dict[str, np.ndarray], report: Report) -> None:
    """Iterate StreamingLeRobotDataset (local files) and compare its frames with LeRobotDataset's.

    LeRobot 0.4.x seeks video at the dataset-global `index / fps` here, ignoring `from_timestamp`,
    so any dataset whose episodes span more than one video file fails or shows wrong frames
    (huggingface/lerobot#4524, #3080); simfarm writes one video file per shard.
    """
    from lerobot.datasets.streaming_dataset import StreamingLeRobotDataset

    try:
        stream = StreamingLeRobotDataset(f"local/{Path(path).name}", root=path, shuffle=False)
        wrong: set[str] = set()
        n = 0
        # Items arrive shuffled, so each frame is matched by its episode and frame_index.
        for item in stream:
            n += 1
            for key in stream.meta.video_keys:
                name = f"{key}|{int(item['episode_index'])}"
                hwc = (item[key].permute(1, 2, 0).numpy() * 255.0).round().astype(np.uint8)
                ref = lerobot_frames.get(name)
                if ref is None or not np.array_equal(hwc, ref[int(item["frame_index"])]):
                    wrong.add(name)
    except Exception as exc:  # noqa: BLE001
        report.fail(f"StreamingLeRobotDataset failed: {type(exc).__name__}: {exc}")
        return
    if n != sum(
        len(v) for k, v in lerobot_frames.items() if k.startswith(f"{stream.meta.video_keys[0]}|")
    ):
        report.fail(f"StreamingLeRobotDataset gave {n} frames")
    if wrong:
        report.fail(
            f"StreamingLeRobotDataset frames differ from LeRobotDataset's in {sorted(wrong)}"
        )
    report.lines.append(f"streaming: {n} frames, video identical to LeRobotDataset's: {not wrong}")


def check_dataset(
    path: str,
    backend: str | None,
    simfarm_python: str | None,
    max_mean_diff: float,
    streaming: bool = False,
) -> Report:
    """Load `path` with LeRobotDataset, read every frame and check it; returns the report."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    report = Report(path)
    t0 = time.perf_counter()
    try:
        ds = LeRobotDataset(repo_id=f"local/{Path(path).name}", root=path, video_backend=backend)
    except Exception as exc:  # noqa: BLE001 - the report names whatever LeRobot raised
        report.fail(f"LeRobotDataset failed to load: {type(exc).__name__}: {exc}")
        return report
    report.lines.append(
        f"loaded: {ds.num_episodes} episodes, {len(ds)} frames, video backend {ds.video_backend}, "
        f"videos {ds.meta.video_keys}"
    )
    try:
        _check_metadata(ds, report)
        frames = _check_items(ds, report)
    except Exception as exc:  # noqa: BLE001
        report.fail(f"reading failed: {type(exc).__name__}: {exc}")
        return report
    report.lines.append(f"read in {time.perf_counter() - t0:.1f} s")
    if simfarm_python:
        _compare_with_simfarm(path, frames, simfarm_python, max_mean_diff, report)
    if streaming:
        _check_streaming(path, frames, report)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="dataset roots (folders holding meta/info.json)")
    parser.add_argument(
        "--backend", default=None, help="LeRobot video backend (default: LeRobot's own choice)"
    )
    parser.add_argument(
        "--simfarm-python", default=None, help="a Python that imports simfarm, to compare frames"
    )
    parser.add_argument(
        "--streaming", action="store_true", help="also iterate StreamingLeRobotDataset"
    )
    parser.add_argument("--max-mean-pixel-diff", type=float, default=DEFAULT_MAX_MEAN_PIXEL_DIFF)
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import_torchvision()
    import lerobot

    print(f"lerobot {getattr(lerobot, '__version__', '?')}")
    failed = 0
    for path in args.paths:
        report = check_dataset(
            path, args.backend, args.simfarm_python, args.max_mean_pixel_diff, args.streaming
        )
        status = "FAIL" if report.problems else "OK"
        print(f"{status}  {path}")
        for line in report.lines:
            print(f"    {line}")
        for problem in report.problems:
            print(f"    problem: {problem}")
        failed += bool(report.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
