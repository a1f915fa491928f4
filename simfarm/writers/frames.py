"""Per-frame side columns (camera extrinsics, later annotations) and the per-episode camera table.

The frames side table has one row per data row (same order as the data file, like states/):
`frame_index`, then for each camera with geometry `cameras.<cam>.world_T_camera` and
`cameras.<cam>.base_T_camera` (16 float64, row-major 4x4, OpenCV camera axes), then one column per
step array named "frames.<column>" (the prefix dropped). A numeric (T,) array is a scalar column, a
numeric (T, ...) array a fixed-size list of its row-major values; anything else (a list of T
per-frame values, e.g. a variable number of boxes) is stored as Arrow infers it from the values.
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


def frame_columns(episode: Episode) -> dict[str, Any]:
    """The episode's side columns by name (without frame_index): camera poses (T, 16), then each
    "frames.<column>" step array under <column>."""
    cols: dict[str, Any] = {}
    for cam, geometry in episode.cameras.items():
        for pose in CAMERA_POSES:
            cols[pose_column(cam, pose)] = np.asarray(geometry[pose], np.float64).reshape(episode.length, 16)
    for key, values in episode.steps.items():
        if key.startswith(FRAME_COLUMN_PREFIX):
            cols[key[len(FRAME_COLUMN_PREFIX):]] = values
    return cols


def arrow_value_column(values: Any) -> pa.Array:
    """One side column as Arrow: scalars, fixed-size lists of row-major numbers, or inferred."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        if values.ndim == 1:
            return pa.array(values)
        flat = values.reshape(len(values), -1)
        return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), flat.shape[1])
    return pa.array([v.tolist() if isinstance(v, np.ndarray) else v for v in values])


def frames_batch(episode: Episode) -> pa.RecordBatch:
    """The episode's rows of the frames side table."""
    cols = {"frame_index": pa.array(np.arange(episode.length, dtype=np.int64))}
    for name, values in frame_columns(episode).items():
        cols[name] = arrow_value_column(values)
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
