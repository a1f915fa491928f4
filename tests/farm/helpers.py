"""Reading a finished dataset back for comparisons: every data column and every decoded frame."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def dataset_content(root) -> dict:
    """{relative path: table or frames} for the data tables, episode tables and videos."""
    root = Path(root)
    out: dict = {}
    for path in sorted(root.glob("data/**/*.parquet")):
        out[path.relative_to(root).as_posix()] = pq.read_table(path)
    episodes = [pq.read_table(p) for p in sorted(root.glob("meta/episodes/**/*.parquet"))]
    if episodes:
        out["meta/episodes"] = pa.concat_tables(episodes)
    for path in sorted(root.glob("videos/**/*.mp4")):
        with av.open(str(path)) as container:
            out[path.relative_to(root).as_posix()] = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    info = json.loads((root / "meta" / "info.json").read_text())
    out["info"] = {k: info[k] for k in ("total_episodes", "total_frames", "features", "splits")}
    return out


def assert_same_content(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        if isinstance(a[key], pa.Table):
            assert a[key].equals(b[key]), f"{key} differs"
        elif isinstance(a[key], np.ndarray):
            assert a[key].shape == b[key].shape and np.array_equal(a[key], b[key]), f"{key} frames differ"
        else:
            assert a[key] == b[key], f"{key} differs"


def episode_indices(root) -> list[int]:
    """The episode_index column of every data row, in file order (one entry per episode)."""
    root = Path(root)
    indices: list[int] = []
    for path in sorted(root.glob("data/**/*.parquet")):
        col = pq.read_table(path, columns=["episode_index"]).column("episode_index").to_pylist()
        indices += sorted(set(col))
    return indices


def calls(log_path) -> list[int]:
    path = Path(log_path)
    if not path.exists():
        return []
    return [int(line.split()[1]) for line in path.read_text().splitlines() if line.strip()]


def cli_overrides(out: Path, **extra) -> list[str]:
    """The 12-episode, 2-worker CLI job the process tests run (lossless H.264 keeps them fast)."""
    args = {
        "output": str(out), "episodes": 12, "shard_size": 3, "workers": 2, "seed": 3, "max_failures": 0,
        "writer.video_codec": "h264", "writer.crf": 0, "writer.preset": "ultrafast", **extra,
    }
    return [f"{k}={v}" for k, v in args.items()]
