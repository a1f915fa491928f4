"""Per-frame side columns (camera extrinsics, later annotations) and the per-episode camera table.

The frames side table has one row per data row (same order as the data file, like states/):
`frame_index`, then for each camera with geometry `cameras.<cam>.world_T_camera` and
`cameras.<cam>.base_T_camera` (16 float64, row-major 4x4, OpenCV camera axes), then one column per
step array named "frames.<column>" (the prefix dropped). A numeric (T,) array is a scalar column, a
numeric (T, n, ...) array a list of n items per frame (n may differ between episodes: objects,
drawers), each item a fixed-size list of its trailing values; anything else (a list of T per-frame
values) is stored as Arrow infers it from the values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from simfarm.episode import Episode
from simfarm.writers.spec import FRAME_COLUMN_PREFIX

CAMERA_POSES = ("world_T_camera", "base_T_camera")


def pose_column(camera: str, pose: str) -> str:
    """Side-table column of one camera pose: `cameras.<camera>.<pose>`."""
    return f"cameras.{camera}.{pose}"


def frame_columns(episode: Episode) -> dict[str, tuple[Any, bool]]:
    """The episode's side columns by name (without frame_index), each with whether its first axis
    after T may change length between episodes: camera poses (T, 16, fixed), then each
    "frames.<column>" step array under <column> (per-object arrays: ragged)."""
    cols: dict[str, tuple[Any, bool]] = {}
    for cam, geometry in episode.cameras.items():
        for pose in CAMERA_POSES:
            cols[pose_column(cam, pose)] = (np.asarray(geometry[pose], np.float64).reshape(episode.length, 16), False)
    for key, values in episode.steps.items():
        if key.startswith(FRAME_COLUMN_PREFIX):
            cols[key[len(FRAME_COLUMN_PREFIX):]] = (values, True)
    return cols


def arrow_value_column(values: Any, ragged: bool = False) -> pa.Array:
    """One side column as Arrow: scalars, lists of row-major numbers, or inferred.

    A numeric (T, n, ...) array is a fixed-size list per frame, or with `ragged` a list of n items
    per frame (each a fixed-size list of the trailing values when there are more axes), so that
    episodes whose n differs (objects, drawers) share one column type.
    """
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        if values.ndim == 1:
            return pa.array(values)
        T = len(values)
        if not ragged:
            flat = values.reshape(T, -1)
            return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), flat.shape[1])
        n = values.shape[1]
        item = int(np.prod(values.shape[2:], dtype=np.int64)) if values.ndim > 2 else 0
        flat = pa.array(values.reshape(-1), type=pa.from_numpy_dtype(values.dtype))
        items = pa.FixedSizeListArray.from_arrays(flat, item) if values.ndim > 2 else flat
        offsets = pa.array(np.arange(T + 1, dtype=np.int32) * np.int32(n))
        return pa.ListArray.from_arrays(offsets, items)
    return pa.array([v.tolist() if isinstance(v, np.ndarray) else v for v in values])


def frames_batch(episode: Episode) -> pa.RecordBatch:
    """The episode's rows of the frames side table."""
    cols = {"frame_index": pa.array(np.arange(episode.length, dtype=np.int64))}
    for name, (values, ragged) in frame_columns(episode).items():
        cols[name] = arrow_value_column(values, ragged)
    return pa.RecordBatch.from_pydict(cols)


def camera_table(episode: Episode) -> dict[str, Any] | None:
    """Per camera: intrinsics (3x3), camera_info (height, width, fovy_deg, moving) and the first
    frame's world_T_camera / base_T_camera (4x4), JSON-ready; None when the episode has no geometry."""
    if not episode.cameras:
        return None
    info = episode.metadata.get("camera_info") or {}
    table = {}
    for cam, geometry in episode.cameras.items():
        row: dict[str, Any] = {"intrinsics": np.asarray(geometry["intrinsics"], np.float64).tolist()}
        row.update({k: v for k, v in (info.get(cam) or {}).items()})
        for pose in CAMERA_POSES:
            row[f"{pose}_0"] = np.asarray(geometry[pose][0], np.float64).tolist()
        table[cam] = row
    return table


def segmentation_ids(table: dict[str, Any] | None) -> set[int]:
    """The instance ids a segmentation table defines, plus 0 (nothing)."""
    return {0} | {int(i["id"]) for i in (table or {}).get("instances", [])}
