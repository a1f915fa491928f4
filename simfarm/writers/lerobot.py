"""LeRobot v3.0 datasets: one data file and one mp4 per camera per shard, merged by `finalize`.

Shard folder (visible only once complete):
    data.parquet                              rows with shard-local episode_index/index/task_index
    states.parquet                            physics_state per row (same row order as data.parquet)
    frames.parquet                            per-frame side columns: camera poses, annotations
                                              (same row order; only when the spec has any)
    videos/observation.images.<cam>.mp4       the shard's episodes back to back (also <cam>_depth,
                                              <cam>_segmentation)
    scenes/<scene_hash>.json                  SceneSpecs
    manifest.json                             written last: episodes, stats, tasks, file sizes

`finalize` renumbers the small tables, moves the mp4s into place untouched and writes meta/.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from simfarm.episode import Episode
from simfarm.errors import DatasetError
from simfarm.writers import stats as stats_mod
from simfarm.writers.depth import (
    DEPTH_ENCODER,
    DEPTH_PIX_FMT,
    DEPTH_QMAX,
    LOSSLESS_PRESET,
    depth_video_info,
    dequantize,
    quantize,
)
from simfarm.writers.frames import camera_table, frames_batch
from simfarm.writers.language import LANGUAGE_FEATURES, language_columns
from simfarm.writers.shard import StagedShard, _json_default, simfarm_row
from simfarm.writers.spec import (
    DEFAULT_FEATURES,
    DatasetSpec,
    depth_key,
    segmentation_key,
    video_key,
)
from simfarm.writers.storage import (
    MANIFEST_NAME,
    is_local,
    join,
    place_file,
    read_json,
    resolve,
    write_bytes_atomic,
)
from simfarm.writers.video import VideoEncoder

CODEBASE_VERSION = "v3.0"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
STATES_PATH = "states/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
FRAMES_PATH = "meta/simfarm/frames/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
SEGMENTATION_PIX_FMT = "gray"  # 8-bit ids, lossless x265
SIMFARM_EPISODES_PATH = "meta/simfarm/episodes.parquet"
SCENES_DIR = "meta/simfarm/scenes"
# meta/episodes rows per parquet file: keeps each file a few MB (rows carry every feature's stats)
EPISODES_PER_META_FILE = 1000
INDEX_COLUMNS = ("timestamp", "frame_index", "episode_index", "index", "task_index")


def arrow_column(values: np.ndarray, dtype: str, shape: list[int]) -> pa.Array:
    """A feature column as LeRobot stores it: scalars for shape (1,), fixed-size lists for (n,)."""
    arrow_type = pa.from_numpy_dtype(np.dtype(dtype))
    arr = np.asarray(values).astype(dtype, copy=False)
    if shape == [1]:
        return pa.array(arr.reshape(-1), type=arrow_type)
    if len(shape) != 1:
        raise DatasetError(f"feature shape {shape} is not supported; LeRobot data columns are (1,) or (n,)")
    flat = pa.array(arr.reshape(-1), type=arrow_type)
    return pa.FixedSizeListArray.from_arrays(flat, shape[0])


def table_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()


def chunk_file(k: int, chunks_size: int) -> tuple[int, int]:
    return k // chunks_size, k % chunks_size


class LeRobotShardWriter(StagedShard):
    """Streams episodes into one shard: video frames go to the encoders as they arrive."""

    kind = "lerobot"

    def __init__(self, shard_dir, spec: DatasetSpec, shard_index: int = 0):
        super().__init__(shard_dir, spec, shard_index)
        self._encoders: dict[str, VideoEncoder] = {}
        (self.staging / "videos").mkdir()
        try:
            for cam, (h, w) in spec.cameras.items():
                self._encoders[video_key(cam)] = VideoEncoder(
                    self.staging / "videos" / f"{video_key(cam)}.mp4", spec.fps, h, w,
                    codec_name=spec.codec_name, crf=spec.crf, gop=spec.gop, preset=spec.preset, pix_fmt=spec.pix_fmt,
                    threads=spec.encoder_threads,
                )
            for cam, (h, w) in spec.depth_cameras.items():
                self._encoders[depth_key(cam)] = VideoEncoder(
                    self.staging / "videos" / f"{depth_key(cam)}.mp4", spec.fps, h, w,
                    codec_name=DEPTH_ENCODER, crf=spec.depth_crf, gop=spec.gop, pix_fmt=DEPTH_PIX_FMT,
                    preset=LOSSLESS_PRESET, threads=spec.encoder_threads, input_format="gray12le",
                    lossless=spec.depth_lossless,
                )
            for cam, (h, w) in spec.segmentation_cameras.items():
                self._encoders[segmentation_key(cam)] = VideoEncoder(
                    self.staging / "videos" / f"{segmentation_key(cam)}.mp4", spec.fps, h, w,
                    codec_name=DEPTH_ENCODER, gop=spec.gop, pix_fmt=SEGMENTATION_PIX_FMT, preset=LOSSLESS_PRESET,
                    threads=spec.encoder_threads, input_format="gray", lossless=True,
                )
        except BaseException:
            self.abort()  # e.g. a codec missing from this PyAV build: leave no staging folder behind
            raise
        self._depth_coding = spec.depth_coding
        # what a reader gets back for each 12-bit code / 8-bit id, for stats of the decoded frames
        self._depth_values = dequantize(np.arange(DEPTH_QMAX + 1), self._depth_coding).astype(np.float64)
        self._id_values = np.arange(256, dtype=np.float64) / 255.0
        self._frame_batches: list[pa.RecordBatch] = []
        self._batches: list[pa.RecordBatch] = []
        self._state_batches: list[pa.RecordBatch] = []
        self._tasks: list[str] = []
        self._frames = 0

    def _add(self, episode: Episode) -> None:
        spec = self.spec
        T = episode.length
        task = episode.instruction or episode.task
        if task not in self._tasks:
            self._tasks.append(task)
        local_ep = len(self.episodes)
        frame_index = np.arange(T, dtype=np.int64)
        # timestamps are frame_index / fps exactly, whatever float noise the rollout carried
        timestamp = (frame_index / spec.fps).astype(np.float32)
        cols = {
            "timestamp": pa.array(timestamp),
            "frame_index": pa.array(frame_index),
            "episode_index": pa.array(np.full(T, local_ep, np.int64)),
            "index": pa.array(np.arange(self._frames, self._frames + T, dtype=np.int64)),
            "task_index": pa.array(np.full(T, self._tasks.index(task), np.int64)),
        }
        ep_stats: dict[str, dict[str, np.ndarray]] = {
            "timestamp": stats_mod.array_stats(timestamp),
            "frame_index": stats_mod.array_stats(frame_index),
        }
        for key, ft in spec.features.items():
            values = episode.steps[key]
            cols[key] = arrow_column(values, ft["dtype"], ft["shape"])
            ep_stats[key] = stats_mod.array_stats(values)
        if spec.language_columns:
            cols.update(language_columns(episode, spec.fps))
        videos = {}
        start_s = self._frames / spec.fps
        streams = [(video_key(cam), episode.images[cam], "rgb") for cam in spec.cameras]
        streams += [(depth_key(cam), episode.depth[cam], "depth") for cam in spec.depth_cameras]
        streams += [(segmentation_key(cam), episode.segmentation[cam], "segmentation") for cam in spec.segmentation_cameras]
        for key, frames, kind in streams:
            encoder = self._encoders[key]
            if encoder.frames_written != self._frames:
                raise DatasetError(f"video {key} has {encoder.frames_written} frames, data has {self._frames}")
            if kind == "rgb":
                encoder.write(frames)
                ep_stats[key] = stats_mod.image_stats(frames)
            elif kind == "depth":
                codes = quantize(frames, self._depth_coding)
                encoder.write(codes)
                # stats of the depth a reader decodes (clamped to the coding's range, as LeRobot's reader returns it)
                ep_stats[key] = stats_mod.plane_stats(codes, self._depth_values)
            else:
                encoder.write(frames)
                # LeRobot's reader returns a gray video as RGB in [0, 1]: id / 255 in every channel
                ep_stats[key] = stats_mod.plane_stats(frames, self._id_values)
            videos[key] = {"from_timestamp": start_s, "to_timestamp": (self._frames + T) / spec.fps}
        self._batches.append(pa.RecordBatch.from_pydict(cols))
        if spec.has_frames_table:
            self._frame_batches.append(frames_batch(episode))
        phys = episode.steps.get("physics_state")
        if phys is not None:
            phys = np.asarray(phys, dtype=np.float64)
            state_col = pa.ListArray.from_arrays(
                pa.array(np.arange(0, phys.size + 1, phys.shape[1], dtype=np.int32)),
                pa.array(phys.reshape(-1)),
            )
        else:
            state_col = pa.nulls(T, pa.list_(pa.float64()))
        self._state_batches.append(
            pa.RecordBatch.from_pydict({"frame_index": pa.array(frame_index), "physics_state": state_col})
        )
        scene_hash = self._store_scene(episode)
        row = simfarm_row(episode)
        if spec.geometry_cameras:
            row["cameras"] = json.dumps(camera_table(episode), sort_keys=True, default=_json_default)
        if spec.segmentation_cameras:
            row["segmentation"] = json.dumps(episode.metadata.get("segmentation") or {}, sort_keys=True,
                                             default=_json_default)
        self.episodes.append({
            "local_index": local_ep,
            "length": T,
            "task": task,
            "row_from": self._frames,
            "videos": videos,
            "stats": stats_mod.to_jsonable(ep_stats),
            "scene_hash": scene_hash,
            "simfarm": row,
        })
        self._frames += T

    def _finish(self) -> dict[str, Any]:
        for enc in self._encoders.values():
            enc.close()
        if not self._batches:
            raise DatasetError(f"shard {self.shard_dir} has no episodes; a shard must hold at least one")
        pq.write_table(pa.Table.from_batches(self._batches), self.staging / "data.parquet", compression="snappy")
        pq.write_table(pa.Table.from_batches(self._state_batches), self.staging / "states.parquet", compression="snappy")
        if self._frame_batches:
            pq.write_table(pa.Table.from_batches(self._frame_batches), self.staging / "frames.parquet", compression="snappy")
        return {"tasks": self._tasks}

    def _abort_files(self) -> None:
        for enc in self._encoders.values():
            enc.abort()


# ---------------------------------------------------------------------------------------------
# finalize


def read_manifests(shard_dirs: list[str], kind: str, fs=None) -> list[tuple[Any, str, dict]]:
    """(fs, path, manifest) for each shard, in the given order; DatasetError names any unfinished one."""
    out = []
    for shard in shard_dirs:
        sfs, spath = resolve(shard, fs)
        mpath = join(spath, MANIFEST_NAME)
        if not sfs.exists(mpath):
            raise DatasetError(f"shard {shard} has no {MANIFEST_NAME}: it was not closed (crashed?); re-run it before finalize")
        manifest = read_json(sfs, mpath)
        if manifest.get("format") != kind:
            raise DatasetError(f"shard {shard} holds format {manifest.get('format')!r}; finalize was asked for {kind!r}")
        out.append((sfs, spath, manifest))
    if not out:
        raise DatasetError("finalize needs at least one shard")
    first = _signature(out[0][2]["spec"])
    for _, path, m in out[1:]:
        sig = _signature(m["spec"])
        if sig != first:
            diff = sorted(k for k in set(sig) | set(first) if sig.get(k) != first.get(k))
            raise DatasetError(f"shard {path} was written with a different DatasetSpec than shard {out[0][1]} (differs in {diff})")
    return out


def _signature(spec: dict[str, Any]) -> dict[str, Any]:
    """What shards must agree on; feature `names` are labels only, the first shard's are kept."""
    sig = dict(spec)
    sig["features"] = {k: {"dtype": v["dtype"], "shape": list(v["shape"])} for k, v in spec["features"].items()}
    return sig


def _index_stats(table: pa.Table) -> dict[str, dict[str, np.ndarray]]:
    return {name: stats_mod.array_stats(table.column(name).to_numpy()) for name in ("episode_index", "index", "task_index")}


def _video_feature(h: int, w: int, channels: int, info: dict[str, Any]) -> dict[str, Any]:
    return {"dtype": "video", "shape": [h, w, channels], "names": ["height", "width", "channels"], "info": info}


def _stream_info(h: int, w: int, codec: str, pix_fmt: str, fps: int, channels: int) -> dict[str, Any]:
    """The stream-derived keys LeRobot's get_video_info writes for every video feature."""
    return {"video.height": h, "video.width": w, "video.codec": codec, "video.pix_fmt": pix_fmt,
            "video.fps": fps, "video.channels": channels, "has_audio": False}


def info_features(spec: DatasetSpec) -> dict[str, Any]:
    from simfarm.writers.video import x265_params

    features: dict[str, Any] = {k: dict(v) for k, v in spec.features.items()}
    for cam, (h, w) in spec.cameras.items():
        features[video_key(cam)] = _video_feature(h, w, 3, {
            **_stream_info(h, w, spec.video_codec, spec.pix_fmt, spec.fps, 3), "video.is_depth_map": False})
    threads = spec.encoder_threads
    for cam, (h, w) in spec.depth_cameras.items():
        features[depth_key(cam)] = _video_feature(h, w, 1, depth_video_info(
            h, w, spec.fps, spec.gop, spec.depth_crf, {"x265-params": x265_params(spec.depth_lossless, threads)},
            spec.depth_coding))
    for cam, (h, w) in spec.segmentation_cameras.items():
        features[segmentation_key(cam)] = _video_feature(h, w, 1, {
            **_stream_info(h, w, "hevc", SEGMENTATION_PIX_FMT, spec.fps, 1),
            "video.g": spec.gop,
            "video.preset": LOSSLESS_PRESET,
            "video.extra_options": {"x265-params": x265_params(True, threads)},
            "is_depth_map": False,
        })
    if spec.language_columns:
        features.update({k: dict(v) for k, v in LANGUAGE_FEATURES.items()})
    for k, v in DEFAULT_FEATURES.items():
        features[k] = dict(v)
    return features


def tasks_table(tasks: list[str]) -> pa.Table:
    """meta/tasks.parquet as pandas writes `DataFrame({"task_index": ...}, index=tasks)`."""
    pandas_meta = {
        "index_columns": ["__index_level_0__"],
        "column_indexes": [{"name": None, "field_name": None, "pandas_type": "unicode", "numpy_type": "object",
                            "metadata": {"encoding": "UTF-8"}}],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64", "metadata": None},
            {"name": None, "field_name": "__index_level_0__", "pandas_type": "unicode", "numpy_type": "object", "metadata": None},
        ],
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.2.3",
    }
    schema = pa.schema([("task_index", pa.int64()), ("__index_level_0__", pa.string())],
                       metadata={b"pandas": json.dumps(pandas_meta).encode()})
    return pa.table({"task_index": list(range(len(tasks))), "__index_level_0__": tasks}, schema=schema)


def finalize_lerobot(output_dir: str | os.PathLike, shard_dirs: list, fs=None, move_videos: bool = True) -> dict[str, Any]:
    """Merge closed shards (in episode order) into a LeRobot v3.0 dataset at `output_dir`.

    Shard `k` (its manifest's shard_index) owns file number k, so re-running finalize with more
    shards never moves an existing video. Videos and physics states are moved (copied once to
    remote storage) byte for byte; data tables are rewritten with global episode_index, index and
    task_index into a fresh data/ that is swapped in together with meta/ on local disks, so a
    reader sees the old dataset or the new one. Safe to re-run after a crash. Returns info.json.
    """
    shards = read_manifests([os.fspath(s) for s in shard_dirs], "lerobot", fs)
    numbers = [m["shard_index"] for _, _, m in shards]
    if any(b <= a for a, b in zip(numbers, numbers[1:], strict=False)):
        raise DatasetError(f"shards must be given in episode order with increasing shard_index; got {numbers}")
    ofs, root = resolve(output_dir, fs)
    spec = DatasetSpec.from_dict(shards[0][2]["spec"])
    cs = spec.chunks_size
    staging = _Staging(ofs, root)
    tasks: list[str] = []
    episode_rows: list[dict[str, Any]] = []
    simfarm_rows: list[dict[str, Any]] = []
    all_stats = []
    ep_offset = frame_offset = 0
    scenes: dict[str, tuple[Any, str]] = {}
    keep: set[str] = set()  # every data/video/state file the new metadata references
    try:
        for sfs, spath, manifest in shards:
            chunk, file = chunk_file(manifest["shard_index"], cs)
            for t in manifest["tasks"]:
                if t not in tasks:
                    tasks.append(t)
            task_map = np.array([tasks.index(t) for t in manifest["tasks"]], dtype=np.int64)
            with sfs.open(join(spath, "data.parquet"), "rb") as f:
                table = pq.read_table(f)
            n = table.num_rows
            if n != manifest["num_frames"]:
                raise DatasetError(f"shard {spath}: data.parquet has {n} rows, manifest says {manifest['num_frames']}")
            for name, values in (("episode_index", table.column("episode_index").to_numpy() + ep_offset),
                                 ("index", table.column("index").to_numpy() + frame_offset),
                                 ("task_index", task_map[table.column("task_index").to_numpy()])):
                table = table.set_column(table.schema.get_field_index(name), name, pa.array(values))
            data_rel = DATA_PATH.format(chunk_index=chunk, file_index=file)
            staging.write("data", data_rel, table_bytes(table))
            keep.add(data_rel)
            for key in spec.video_keys:
                rel = f"videos/{key}.mp4"
                dst_rel = VIDEO_PATH.format(video_key=key, chunk_index=chunk, file_index=file)
                place_file(sfs, join(spath, rel), ofs, join(root, dst_rel), size=manifest["files"].get(rel), move=move_videos)
                keep.add(dst_rel)
            states_rel = STATES_PATH.format(chunk_index=chunk, file_index=file)
            place_file(sfs, join(spath, "states.parquet"), ofs, join(root, states_rel),
                       size=manifest["files"].get("states.parquet"), move=move_videos)
            keep.add(states_rel)
            if spec.has_frames_table:
                frames_rel = FRAMES_PATH.format(chunk_index=chunk, file_index=file)
                staging.write("meta", frames_rel, _frames_table_bytes(sfs, spath, ofs, root, frames_rel, n))
            for rel in manifest["files"]:
                if rel.startswith("scenes/"):
                    scenes.setdefault(rel.split("/", 1)[1], (sfs, join(spath, rel)))
            for ep in manifest["episodes"]:
                g = ep_offset + ep["local_index"]
                lo, hi = ep["row_from"], ep["row_from"] + ep["length"]
                ep_stats = stats_mod.from_jsonable(ep["stats"])
                ep_stats.update(_index_stats(table.slice(lo, hi - lo)))
                all_stats.append(ep_stats)
                row: dict[str, Any] = {
                    "episode_index": g,
                    "tasks": [ep["task"]],
                    "length": ep["length"],
                    "data/chunk_index": chunk,
                    "data/file_index": file,
                    "dataset_from_index": frame_offset + lo,
                    "dataset_to_index": frame_offset + hi,
                }
                for key, v in ep["videos"].items():
                    row[f"videos/{key}/chunk_index"] = chunk
                    row[f"videos/{key}/file_index"] = file
                    row[f"videos/{key}/from_timestamp"] = float(v["from_timestamp"])
                    row[f"videos/{key}/to_timestamp"] = float(v["to_timestamp"])
                for feat, st in ep_stats.items():
                    for name, value in st.items():
                        row[f"stats/{feat}/{name}"] = np.asarray(value).tolist()
                meta_chunk, meta_file = chunk_file(g // EPISODES_PER_META_FILE, cs)
                row["meta/episodes/chunk_index"] = meta_chunk
                row["meta/episodes/file_index"] = meta_file
                episode_rows.append(row)
                simfarm_row_ = {
                    "episode_index": g,
                    **ep["simfarm"],
                    "states/chunk_index": chunk,
                    "states/file_index": file,
                    "states/from_row": lo,
                    "states/to_row": hi,
                }
                if spec.has_frames_table:
                    simfarm_row_.update({"frames/chunk_index": chunk, "frames/file_index": file,
                                         "frames/from_row": lo, "frames/to_row": hi})
                simfarm_rows.append(simfarm_row_)
            ep_offset += manifest["num_episodes"]
            frame_offset += n

        info = {
            "codebase_version": CODEBASE_VERSION,
            "robot_type": spec.robot_type,
            "total_episodes": ep_offset,
            "total_frames": frame_offset,
            "total_tasks": len(tasks),
            "chunks_size": cs,
            "data_files_size_in_mb": spec.data_files_size_in_mb,
            "video_files_size_in_mb": spec.video_files_size_in_mb,
            "fps": spec.fps,
            "splits": {"train": f"0:{ep_offset}"},
            "data_path": DATA_PATH,
            "video_path": VIDEO_PATH if spec.video_keys else None,
            "features": info_features(spec),
        }
        staging.write("meta", "meta/tasks.parquet", table_bytes(tasks_table(tasks)))
        for start in range(0, len(episode_rows), EPISODES_PER_META_FILE):
            rows = episode_rows[start:start + EPISODES_PER_META_FILE]
            staging.write("meta", EPISODES_PATH.format(chunk_index=rows[0]["meta/episodes/chunk_index"],
                                                       file_index=rows[0]["meta/episodes/file_index"]),
                          table_bytes(pa.Table.from_pylist(rows)))
        staging.write("meta", SIMFARM_EPISODES_PATH, table_bytes(pa.Table.from_pylist(simfarm_rows)))
        staging.write("meta", "meta/stats.json",
                      (json.dumps(stats_mod.to_jsonable(stats_mod.aggregate(all_stats)), indent=4) + "\n").encode())
        staging.write("meta", "meta/simfarm/dataset.json",
                      (json.dumps({"writer_spec": spec.to_dict(), "shards": numbers}, indent=4) + "\n").encode())
        for name, (sfs, src) in scenes.items():
            with sfs.open(src, "rb") as f:
                staging.write("meta", f"{SCENES_DIR}/{name}", f.read())
        # info.json last: on object stores it is what says a dataset is there
        staging.write("meta", "meta/info.json", (json.dumps(info, indent=4, ensure_ascii=False) + "\n").encode())
        staging.commit()
    finally:
        staging.cleanup()
    _prune(ofs, root, keep)
    return info


def _frames_table_bytes(sfs, spath: str, ofs, root: str, frames_rel: str, rows: int) -> bytes:
    """A shard's frames side table: from the shard, or (a re-run after the shard's files were moved
    away) from the dataset's current meta/, which a previous finalize wrote."""
    src = join(spath, "frames.parquet")
    fs, path = (sfs, src) if sfs.exists(src) else (ofs, join(root, frames_rel))
    if not fs.exists(path):
        raise DatasetError(f"shard {spath} has no frames.parquet and {join(root, frames_rel)} does not hold it either")
    with fs.open(path, "rb") as f:
        data = f.read()
    n = pq.read_metadata(pa.BufferReader(data)).num_rows
    if n != rows:
        raise DatasetError(f"{path} has {n} rows; the shard's data.parquet has {rows}")
    return data


class _Staging:
    """Builds data/ and meta/ beside the dataset (local) or in place (object stores)."""

    def __init__(self, fs, root: str):
        self.fs, self.root = fs, root
        self.local = is_local(fs)
        tag = uuid.uuid4().hex[:8]
        self.dirs = {top: Path(root) / f".{top}.new-{tag}" for top in ("data", "meta")} if self.local else {}

    def write(self, top: str, rel: str, data: bytes) -> None:
        if not self.local:
            write_bytes_atomic(self.fs, join(self.root, rel), data)
            return
        path = self.dirs[top] / rel.split("/", 1)[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def commit(self) -> None:
        """Swap the new data/ and meta/ in: four renames, meta last (it references data)."""
        if not self.local:
            return
        commit_dirs(Path(self.root), [(self.dirs["data"], "data"), (self.dirs["meta"], "meta")])

    def cleanup(self) -> None:
        for d in self.dirs.values():
            shutil.rmtree(d, ignore_errors=True)


def commit_dirs(base: Path, pairs: list[tuple[Path, str]]) -> None:
    old_dirs = []
    for new, name in pairs:
        final = base / name
        if final.exists():
            old = base / f".{name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
            old_dirs.append(old)
        os.replace(new, final)
    for old in old_dirs:
        shutil.rmtree(old, ignore_errors=True)
    for stale in list(base.glob(".data.*")) + list(base.glob(".meta.*")):
        shutil.rmtree(stale, ignore_errors=True)


def _prune(fs, root: str, keep: set[str]) -> None:
    """Remove data/video/state files the committed metadata no longer references.

    LeRobot loads every parquet file under data/, so a stray file there would add rows.
    """
    for top in ("data", "videos", "states"):
        base = join(root, top)
        if not fs.exists(base):
            continue
        for path in fs.find(base):
            rel = path[len(root.rstrip("/")) + 1:] if path.startswith(root.rstrip("/")) else path
            if rel not in keep and ".tmp-" not in rel:
                fs.rm_file(path)
