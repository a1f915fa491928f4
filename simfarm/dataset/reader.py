"""Reading simfarm datasets the way their consumers do (LeRobot's reader, robomimic's h5py access)."""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simfarm.errors import DatasetError


def detect_format(path: str | os.PathLike) -> str:
    """"lerobot" (meta/info.json) or "hdf5" (data.hdf5 or a .hdf5 file); DatasetError otherwise."""
    p = Path(os.path.expanduser(os.fspath(path)))
    if not p.exists():
        raise DatasetError(f"{p} does not exist; give a LeRobot dataset folder (meta/info.json) or an HDF5 dataset (data.hdf5)")
    if p.is_file() and p.suffix in (".hdf5", ".h5"):
        return "hdf5"
    if (p / "meta" / "info.json").exists():
        return "lerobot"
    if (p / "data.hdf5").exists():
        return "hdf5"
    raise DatasetError(f"{p} is not a simfarm dataset: expected meta/info.json (LeRobot) or data.hdf5 (robomimic)")


def open_dataset(path: str | os.PathLike) -> LeRobotReader | Hdf5Reader:
    """A LeRobotReader or Hdf5Reader for `path` (both offer `kind`, `root`, `num_episodes`,
    `simfarm_episodes` and `episode_record`)."""
    return LeRobotReader(path) if detect_format(path) == "lerobot" else Hdf5Reader(path)


def column_to_numpy(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A parquet column as numpy: (N,) for scalars, (N, n) for fixed-size lists, and for lists whose
    lengths differ (language rows, per-object annotations) an object array of the N Python values."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_fixed_size_list(col.type):
        return col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), col.type.list_size)
    if pa.types.is_list(col.type):
        values = col.to_pylist()
        try:
            return np.asarray(values)
        except ValueError:
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out
    return col.to_numpy(zero_copy_only=False)


def _read_parquet(path: Path):
    try:
        return pq.read_table(path)
    except FileNotFoundError as exc:
        raise DatasetError(f"{path} is missing") from exc
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for truncated or corrupt files
        raise DatasetError(f"{path} cannot be read as parquet ({type(exc).__name__}: {exc})") from exc


# What the reader itself needs from meta/info.json (validate checks the full schema).
REQUIRED_INFO_KEYS = ("fps", "features", "data_path", "total_episodes", "total_frames")


class LeRobotReader:
    """LeRobot v3.0 files located through meta/episodes, as LeRobotDataset does."""

    kind = "lerobot"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        info_path = self.root / "meta" / "info.json"
        try:
            self.info = json.loads(info_path.read_text())
        except FileNotFoundError as exc:
            raise DatasetError(f"{info_path} is missing") from exc
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{info_path} is not valid JSON: {exc}") from exc
        missing = [k for k in REQUIRED_INFO_KEYS if k not in self.info] if isinstance(self.info, dict) else list(REQUIRED_INFO_KEYS)
        if missing:
            raise DatasetError(f"{info_path} lacks keys {missing}: not a LeRobot v3 dataset's info")
        self._data_cache: dict[str, Any] = {}

    @property
    def fps(self) -> int:
        return int(self.info["fps"])

    @property
    def video_keys(self) -> list[str]:
        return [k for k, ft in self.info["features"].items() if ft["dtype"] == "video"]

    @cached_property
    def episodes(self) -> list[dict[str, Any]]:
        files = sorted((self.root / "meta" / "episodes").glob("*/*.parquet"))
        if not files:
            raise DatasetError(f"{self.root / 'meta/episodes'} holds no parquet file")
        rows: list[dict[str, Any]] = []
        for f in files:
            table = _read_parquet(f)
            cols = [c for c in table.column_names if not c.startswith("stats/")]
            rows.extend(table.select(cols).to_pylist())
        return rows

    @cached_property
    def episode_stats(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for f in sorted((self.root / "meta" / "episodes").glob("*/*.parquet")):
            table = _read_parquet(f)
            rows.extend(table.select([c for c in table.column_names if c.startswith("stats/")]).to_pylist())
        return rows

    @cached_property
    def tasks(self) -> list[str]:
        table = _read_parquet(self.root / "meta" / "tasks.parquet")
        names = table.column("__index_level_0__").to_pylist()
        order = table.column("task_index").to_pylist()
        return [t for _, t in sorted(zip(order, names, strict=True))]

    @cached_property
    def simfarm_episodes(self) -> list[dict[str, Any]]:
        """simfarm's own row per episode (seed, task, success, metadata JSON...), in episode order."""
        return _read_parquet(self.root / "meta" / "simfarm" / "episodes.parquet").to_pylist()

    @property
    def num_episodes(self) -> int:
        return len(self.episodes)

    def episode_record(self, episode_index: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """(actions (T, A), physics states (T, D), metadata) of one episode; see `load_episode_record`."""
        rows = self.episode_rows(episode_index)
        if "action" not in rows:
            raise DatasetError(f"{self.root}: episode {episode_index}'s data file has no 'action' column")
        actions = np.asarray(rows["action"], dtype=np.float32)
        states = self.physics_states(episode_index)
        sf = self.simfarm_episodes[episode_index]
        metadata = _metadata(sf.get("metadata"), f"{self.root}: episode {episode_index}")
        metadata["scene_spec"] = self.scene_spec(sf.get("scene_hash"))
        metadata["dataset_episode_index"] = episode_index
        return actions, states, metadata

    @cached_property
    def stats(self) -> dict[str, Any]:
        path = self.root / "meta" / "stats.json"
        try:
            return json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise DatasetError(f"{path} is missing") from exc

    def data_path(self, chunk: int, file: int) -> Path:
        return self.root / self.info["data_path"].format(chunk_index=chunk, file_index=file)

    def video_path(self, key: str, chunk: int, file: int) -> Path:
        return self.root / self.info["video_path"].format(video_key=key, chunk_index=chunk, file_index=file)

    def states_path(self, chunk: int, file: int) -> Path:
        return self.root / f"states/chunk-{chunk:03d}/file-{file:03d}.parquet"

    def data_table(self, chunk: int, file: int):
        path = self.data_path(chunk, file)
        key = str(path)
        if key not in self._data_cache:
            self._data_cache[key] = _read_parquet(path)
        return self._data_cache[key]

    def episode(self, episode_index: int) -> dict[str, Any]:
        eps = self.episodes
        if not 0 <= episode_index < len(eps):
            raise DatasetError(f"episode {episode_index} is out of range; the dataset has {len(eps)} episodes")
        return eps[episode_index]

    def episode_rows(self, episode_index: int) -> dict[str, np.ndarray]:
        """The episode's data rows (columns as numpy arrays), found via its data file and index range."""
        ep = self.episode(episode_index)
        table = self.data_table(ep["data/chunk_index"], ep["data/file_index"])
        index = table.column("index").to_numpy()
        sel = np.nonzero((index >= ep["dataset_from_index"]) & (index < ep["dataset_to_index"]))[0]
        if len(sel) == 0:
            raise DatasetError(f"episode {episode_index}: no rows in its data file")
        sub = table.slice(int(sel[0]), len(sel))
        return {name: column_to_numpy(sub.column(name)) for name in sub.column_names}

    def frames(self, episode_index: int, key: str, tolerance_s: float | None = None,
               pixel_format: str = "rgb24") -> np.ndarray:
        """Decode an episode's frames of video `key` at from_timestamp + timestamp."""
        from simfarm.writers.video import decode_frames_at

        ep = self.episode(episode_index)
        if f"videos/{key}/chunk_index" not in ep:
            raise DatasetError(f"{self.root}: no video {key!r}; the dataset has {self.video_keys}")
        rows = self.episode_rows(episode_index)
        path = self.video_path(key, ep[f"videos/{key}/chunk_index"], ep[f"videos/{key}/file_index"])
        ts = ep[f"videos/{key}/from_timestamp"] + rows["timestamp"].astype(np.float64)
        frames, _ = decode_frames_at(path, ts.tolist(), tolerance_s if tolerance_s is not None else 1.0 / (2 * self.fps),
                                     pixel_format=pixel_format)
        return frames

    @property
    def depth_keys(self) -> list[str]:
        """Video features flagged as depth maps (`is_depth_map`, or LeRobot's legacy `video.is_depth_map`)."""
        return [k for k in self.video_keys if is_depth_feature(self.info["features"][k])]

    def depth_coding(self, camera: str):
        """The quantizer (simfarm.writers.depth.DepthCoding) of `camera`'s depth video, from info.json."""
        from simfarm.writers.depth import DepthCoding
        from simfarm.writers.spec import depth_key

        key = depth_key(camera)
        ft = self.info["features"].get(key)
        if ft is None or not is_depth_feature(ft):
            raise DatasetError(f"{self.root}: no depth video for camera {camera!r} (looked for {key}); depth: {self.depth_keys}")
        return DepthCoding.from_info(ft.get("info") or {})

    def depth(self, episode_index: int, camera: str) -> np.ndarray:
        """float32 (T, H, W) metres of `camera`'s depth video, dequantized as LeRobot does (clamped to
        the declared [depth_min, depth_max])."""
        from simfarm.writers.depth import dequantize
        from simfarm.writers.spec import depth_key

        coding = self.depth_coding(camera)
        codes = self.frames(episode_index, depth_key(camera), pixel_format="gray12le")
        return dequantize(codes, coding)

    def segmentation(self, episode_index: int, camera: str) -> np.ndarray:
        """uint8 (T, H, W) instance ids of `camera` (see `segmentation_table` for what they name)."""
        from simfarm.writers.spec import segmentation_key

        key = segmentation_key(camera)
        if key not in self.info["features"]:
            raise DatasetError(f"{self.root}: no segmentation video for camera {camera!r} (looked for {key})")
        return self.frames(episode_index, key, pixel_format="gray")

    def segmentation_table(self, episode_index: int) -> dict[str, Any]:
        """{"instances": [{id, name, category, color, class_id, class}], "classes": [...]} of the episode."""
        self.episode(episode_index)
        return json.loads(self.simfarm_episodes[episode_index].get("segmentation") or "{}")

    def camera_table(self, episode_index: int) -> dict[str, Any]:
        """Per camera: intrinsics (3, 3), height, width, fovy_deg, moving, first-frame poses (4, 4)."""
        self.episode(episode_index)
        table = json.loads(self.simfarm_episodes[episode_index].get("cameras") or "{}")
        return {cam: {k: np.asarray(v) if isinstance(v, list) else v for k, v in row.items()} for cam, row in table.items()}

    def frames_path(self, chunk: int, file: int) -> Path:
        return self.root / f"meta/simfarm/frames/chunk-{chunk:03d}/file-{file:03d}.parquet"

    def frame_table(self, episode_index: int) -> dict[str, np.ndarray]:
        """The episode's rows of the frames side table (camera poses flattened, annotation columns)."""
        self.episode(episode_index)
        meta = self.simfarm_episodes[episode_index]
        if meta.get("frames/chunk_index") is None:
            raise DatasetError(f"{self.root}: the dataset has no frames side table (no camera geometry or frame columns)")
        table = _read_parquet(self.frames_path(meta["frames/chunk_index"], meta["frames/file_index"]))
        sub = table.slice(meta["frames/from_row"], meta["frames/to_row"] - meta["frames/from_row"])
        return {name: _side_column(sub.column(name)) for name in sub.column_names}

    def camera_poses(self, episode_index: int, camera: str) -> dict[str, np.ndarray]:
        """{"world_T_camera": (T, 4, 4), "base_T_camera": (T, 4, 4)} of `camera`, OpenCV axes."""
        from simfarm.writers.frames import CAMERA_POSES, pose_column

        cols = self.frame_table(episode_index)
        if pose_column(camera, CAMERA_POSES[0]) not in cols:
            raise DatasetError(f"{self.root}: no camera geometry for {camera!r} in the frames side table")
        return {pose: cols[pose_column(camera, pose)].reshape(-1, 4, 4) for pose in CAMERA_POSES}

    def physics_states(self, episode_index: int) -> np.ndarray:
        self.episode(episode_index)  # range check
        meta = self.simfarm_episodes[episode_index]
        table = _read_parquet(self.states_path(meta["states/chunk_index"], meta["states/file_index"]))
        col = table.column("physics_state").slice(meta["states/from_row"], meta["states/to_row"] - meta["states/from_row"])
        values = col.to_pylist()
        if any(v is None for v in values):
            return np.zeros((len(values), 0))
        return np.asarray(values, dtype=np.float64)

    def scene_spec(self, scene_hash: str | None) -> str | None:
        if not scene_hash:
            return None
        path = self.root / "meta" / "simfarm" / "scenes" / f"{scene_hash}.json"
        return path.read_text() if path.exists() else None


def _side_column(col: pa.ChunkedArray) -> np.ndarray:
    """A side-table column as numpy: lists of the same shape on every frame as one array, ragged
    per-frame values (a varying number of boxes...) as an object array."""
    if pa.types.is_list(col.type):
        return column_to_numpy(col)
    if pa.types.is_struct(col.type):
        values = col.to_pylist()
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    return column_to_numpy(col)


def is_depth_feature(feature: dict[str, Any]) -> bool:
    """LeRobot's test (configs/video.py is_depth_map): `info.is_depth_map` or the legacy `video.is_depth_map`."""
    info = feature.get("info") or {}
    video_info = feature.get("video_info")
    return bool(info.get("is_depth_map") or info.get("video.is_depth_map")
                or (isinstance(video_info, dict) and video_info.get("video.is_depth_map")))


class Hdf5Reader:
    """robomimic HDF5: data/demo_N groups. Same interface as LeRobotReader where the formats meet."""

    kind = "hdf5"

    def __init__(self, path: str | os.PathLike):
        p = Path(path)
        self.path = p if p.is_file() else p / "data.hdf5"
        self.root = self.path
        if not self.path.exists():
            raise DatasetError(f"{self.path} is missing")
        with self.open() as f:
            if not isinstance(f.get("data"), h5py.Group):
                raise DatasetError(f"{self.path} is HDF5 but has no 'data' group: not a robomimic/simfarm dataset")

    def open(self) -> h5py.File:
        try:
            return h5py.File(self.path, "r")
        except OSError as exc:
            raise DatasetError(f"{self.path} cannot be opened as HDF5: {exc}") from exc

    def demo_names(self, f: h5py.File) -> list[str]:
        try:
            return sorted(f["data"].keys(), key=lambda n: int(n.split("_")[1]))
        except (IndexError, ValueError):
            raise DatasetError(f"{self.path}: data holds groups not named demo_N: {sorted(f['data'].keys())[:5]}") from None

    @cached_property
    def num_episodes(self) -> int:
        with self.open() as f:
            return len(f["data"])

    @cached_property
    def simfarm_episodes(self) -> list[dict[str, Any]]:
        """simfarm's own row per episode (the `simfarm` attribute of each demo), in episode order."""
        with self.open() as f:
            rows = []
            for n in self.demo_names(f):
                try:
                    rows.append(json.loads(f[f"data/{n}"].attrs.get("simfarm", "{}")))
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{self.path}: data/{n} attribute 'simfarm' is not JSON: {exc}") from exc
            return rows

    def episode_record(self, episode_index: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """(actions (T, A), physics states (T, D), metadata) of one episode; see `load_episode_record`."""
        with self.open() as f:
            name = f"demo_{episode_index}"
            if name not in f["data"]:
                raise DatasetError(
                    f"episode {episode_index} is out of range; the dataset has {len(f['data'])} episodes (demo_0..)"
                )
            g = f["data"][name]
            if "actions" not in g:
                raise DatasetError(f"{self.path}: data/{name} has no 'actions'")
            actions = g["actions"][()].astype(np.float32)
            states = g["states"][()] if "states" in g else np.zeros((len(actions), 0))
            try:
                row = json.loads(g.attrs.get("simfarm", "{}"))
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{self.path}: data/{name} attribute 'simfarm' is not JSON: {exc}") from exc
            metadata = _metadata(row.get("metadata"), f"{self.path}: episode {episode_index}")
            metadata["scene_spec"] = str(g.attrs.get("scene_spec", "")) or None
            metadata["dataset_episode_index"] = episode_index
            return actions, states, metadata

    def _obs(self, episode_index: int, key: str) -> np.ndarray:
        with self.open() as f:
            name = f"data/demo_{episode_index}"
            if name not in f:
                raise DatasetError(f"episode {episode_index} is out of range; the dataset has {len(f['data'])} episodes")
            if key not in f[name]["obs"]:
                raise DatasetError(f"{self.path}: {name}/obs has no {key!r}; it has {sorted(f[name]['obs'])}")
            return f[name]["obs"][key][()]

    def depth(self, episode_index: int, camera: str) -> np.ndarray:
        """float32 (T, H, W) metres (stored unquantized)."""
        return self._obs(episode_index, f"{camera}_depth")

    def segmentation(self, episode_index: int, camera: str) -> np.ndarray:
        """uint8 (T, H, W) instance ids."""
        return self._obs(episode_index, f"{camera}_seg")

    def camera_poses(self, episode_index: int, camera: str) -> dict[str, np.ndarray]:
        """{"world_T_camera": (T, 4, 4), "base_T_camera": (T, 4, 4)}, OpenCV axes."""
        return {"world_T_camera": self._obs(episode_index, f"{camera}_extrinsics"),
                "base_T_camera": self._obs(episode_index, f"{camera}_base_T_camera")}

    def segmentation_table(self, episode_index: int) -> dict[str, Any]:
        with self.open() as f:
            return json.loads(f[f"data/demo_{episode_index}"].attrs.get("segmentation", "{}"))


def _metadata(text: str | None, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: its simfarm metadata is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise DatasetError(f"{where}: its simfarm metadata is not a JSON object")
    return value


def load_episode_record(path: str | os.PathLike, episode_index: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(actions (T, A), physics states (T, D), metadata) of one recorded episode, for replay.

    `metadata` is the episode's full simfarm metadata (seed, config_hash, randomization...) with
    `scene_spec` (JSON string) restored from the dataset's scene store.
    """
    return open_dataset(path).episode_record(episode_index)
