"""`simfarm dataset info PATH`: what a dataset holds, in one table (or JSON)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from simfarm.dataset.reader import Hdf5Reader, LeRobotReader, open_dataset
from simfarm.errors import DatasetError


def dataset_info(path: str | os.PathLike) -> dict[str, Any]:
    """Episodes, frames, duration, tasks, success rate, robots, programs and size on disk."""
    ds = open_dataset(path)
    try:
        return _info(ds, path)
    except (KeyError, TypeError, ValueError) as exc:
        # A hand-edited or foreign dataset lacking a field: name it instead of a traceback.
        raise DatasetError(
            f"{path}: cannot read its metadata ({type(exc).__name__}: {exc}); run `simfarm dataset validate {path}`"
        ) from exc


def _info(ds: LeRobotReader | Hdf5Reader, path: str | os.PathLike) -> dict[str, Any]:
    if isinstance(ds, LeRobotReader):
        rows = ds.simfarm_episodes
        fps = ds.fps
        frames = int(ds.info["total_frames"])
        episodes = int(ds.info["total_episodes"])
        tasks = list(ds.tasks)
        depth = ds.depth_keys
        segmentation = [k for k in ds.video_keys if k.endswith("_segmentation")]
        cameras = [k for k in ds.video_keys if k not in depth and k not in segmentation]
        root = ds.root
        codec = sorted({ds.info["features"][k]["info"]["video.codec"] for k in ds.video_keys})
        geometry = sorted(json.loads(rows[0].get("cameras") or "{}")) if rows else []
    else:
        rows = ds.simfarm_episodes
        with ds.open() as f:
            frames = int(f["data"].attrs.get("total", 0))
            episodes = len(f["data"])
            first = f["data/demo_0/obs"] if "demo_0/obs" in f["data"] else {}
            cameras = [k for k in first if k.endswith("_image")]
            depth = [k for k in first if k.endswith("_depth")]
            segmentation = [k for k in first if k.endswith("_seg")]
            geometry = [k[: -len("_extrinsics")] for k in first if k.endswith("_extrinsics")]
            fps = json.loads(f["data"].attrs.get("env_args", "{}")).get("env_kwargs", {}).get("fps") or 0
        tasks = sorted({r.get("instruction") or r.get("task") for r in rows})
        root = ds.path
        codec = []
    successes = [bool(r.get("success")) for r in rows]
    size = _size_bytes(Path(root))
    by_task: dict[str, list[bool]] = {}
    for r in rows:
        by_task.setdefault(str(r.get("task")), []).append(bool(r.get("success")))
    return {
        "path": str(path),
        "format": ds.kind,
        "episodes": episodes,
        "frames": frames,
        "fps": fps,
        "duration_s": frames / fps if fps else None,
        "tasks": tasks,
        "success_rate": sum(successes) / len(successes) if successes else None,
        "success_by_task": {t: sum(v) / len(v) for t, v in sorted(by_task.items())},
        "robots": dict(Counter(str(r.get("robot")) for r in rows)),
        "programs": dict(Counter(str(r.get("program")) for r in rows)),
        "cameras": cameras,
        "depth": depth,
        "segmentation": segmentation,
        "camera_geometry": geometry,
        "video_codec": codec,
        "size_bytes": size,
    }


def _size_bytes(root: Path) -> int:
    if root.is_file():
        return root.stat().st_size
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def format_info(info: dict[str, Any]) -> str:
    """A two-column table for people."""
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3f}"
        if isinstance(v, dict):
            return ", ".join(f"{k}: {fmt(x)}" for k, x in v.items()) or "-"
        if isinstance(v, list):
            return ", ".join(str(x) for x in v) or "-"
        return "-" if v is None else str(v)

    shown = dict(info)
    shown["size"] = f"{info['size_bytes'] / 1e6:.2f} MB"
    del shown["size_bytes"]
    width = max(len(k) for k in shown)
    return "\n".join(f"{k:<{width}}  {fmt(v)}" for k, v in shown.items())
