"""`simfarm dataset validate PATH`: every consistency check a training run would trip over later.

LeRobot: schema of info.json, tasks, episode table, every data file's rows and indices, video files
(frame counts probed by demuxing) against episode timestamps, depth videos (is_depth_map, quantizer
range, 12-bit stream), segmentation videos (ids within the episode's table), stats against the data,
and simfarm's own per-episode metadata, scenes, physics states and frames side table. robomimic
HDF5: layout, lengths, totals, masks, depth/segmentation/camera arrays.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from simfarm.dataset.reader import (
    Hdf5Reader,
    LeRobotReader,
    column_to_numpy,
    detect_format,
    is_depth_feature,
)
from simfarm.errors import DatasetError
from simfarm.writers.depth import DEPTH_PIX_FMT
from simfarm.writers.frames import segmentation_ids

INFO_KEYS = ("codebase_version", "robot_type", "total_episodes", "total_frames", "total_tasks", "chunks_size",
             "data_files_size_in_mb", "video_files_size_in_mb", "fps", "splits", "data_path", "video_path", "features")
DEFAULT_COLUMNS = {"timestamp": "float32", "frame_index": "int64", "episode_index": "int64", "index": "int64",
                   "task_index": "int64"}
TIMESTAMP_TOL_S = 1e-4  # LeRobot's default tolerance_s


def validate(path: str | os.PathLike, check_stats: bool = True) -> list[str]:
    """All problems found in the dataset at `path` (empty: valid). Each message names file and value."""
    try:
        kind = detect_format(path)
        if kind == "lerobot":
            return _validate_lerobot(LeRobotReader(path), check_stats)
        return _validate_hdf5(Hdf5Reader(path))
    except DatasetError as exc:
        return [str(exc)]


def check(path: str | os.PathLike) -> None:
    """Raise DatasetError listing every problem when the dataset at `path` is not valid."""
    problems = validate(path)
    if problems:
        raise DatasetError(f"{path} is not valid ({len(problems)} problems):\n  " + "\n  ".join(problems))


def _validate_lerobot(ds: LeRobotReader, check_stats: bool) -> list[str]:
    problems: list[str] = []
    info = ds.info
    missing = [k for k in INFO_KEYS if k not in info]
    if missing:
        return [f"meta/info.json lacks keys {missing}"]
    if info["codebase_version"] != "v3.0":
        problems.append(f"meta/info.json codebase_version is {info['codebase_version']!r}; expected 'v3.0'")
    features = info["features"]
    for name, dtype in DEFAULT_COLUMNS.items():
        ft = features.get(name)
        if ft is None or ft.get("dtype") != dtype or list(ft.get("shape", [])) != [1]:
            problems.append(f"meta/info.json feature {name!r} must be {{dtype: {dtype}, shape: [1]}}, got {ft}")
    fps = ds.fps
    n_eps, n_frames = info["total_episodes"], info["total_frames"]
    if info["splits"].get("train") != f"0:{n_eps}":
        problems.append(f"meta/info.json splits.train is {info['splits'].get('train')!r}; expected '0:{n_eps}'")

    tasks = ds.tasks
    if len(tasks) != info["total_tasks"]:
        problems.append(f"meta/tasks.parquet has {len(tasks)} tasks; info.json total_tasks is {info['total_tasks']}")

    episodes = ds.episodes
    if len(episodes) != n_eps:
        problems.append(f"meta/episodes has {len(episodes)} rows; info.json total_episodes is {n_eps}")
    expected_from = 0
    for i, ep in enumerate(episodes):
        if ep["episode_index"] != i:
            problems.append(f"meta/episodes row {i} has episode_index {ep['episode_index']}; expected {i}")
            break
        if ep["dataset_from_index"] != expected_from or ep["dataset_to_index"] - ep["dataset_from_index"] != ep["length"]:
            problems.append(
                f"episode {i}: dataset_from_index/to_index {ep['dataset_from_index']}..{ep['dataset_to_index']} "
                f"do not follow the previous episode ({expected_from}) with length {ep['length']}"
            )
            break
        expected_from = ep["dataset_to_index"]
    if expected_from != n_frames and not problems:
        problems.append(f"episodes cover {expected_from} frames; info.json total_frames is {n_frames}")
    if problems:
        return problems

    # data files: every row as the episode table says
    data_features = {k: ft for k, ft in features.items() if ft["dtype"] not in ("video", "image", "language")}
    language = [k for k, ft in features.items() if ft["dtype"] == "language"]
    by_file: dict[tuple[int, int], list[dict]] = {}
    for ep in episodes:
        by_file.setdefault((ep["data/chunk_index"], ep["data/file_index"]), []).append(ep)
    columns_seen: dict[str, list[np.ndarray]] = {k: [] for k in data_features}
    for (chunk, file), eps in by_file.items():
        rel = os.path.relpath(ds.data_path(chunk, file), ds.root)
        try:
            table = ds.data_table(chunk, file)
        except DatasetError as exc:
            problems.append(str(exc))
            continue
        cols = set(table.column_names)
        absent = [k for k in data_features if k not in cols]
        if absent:
            problems.append(f"{rel} lacks columns {absent}")
            continue
        arrays = {k: column_to_numpy(table.column(k)) for k in data_features}
        problems += _check_language(rel, table, language, arrays, eps, fps,
                                    {k for k in ds.info["features"] if k.startswith("observation.images.")})
        for k, ft in data_features.items():
            shape = list(ft["shape"])
            got = [1] if arrays[k].ndim == 1 else list(arrays[k].shape[1:])
            if got != shape:
                problems.append(f"{rel}: column {k} has shape {got}; info.json says {shape}")
            if np.dtype(arrays[k].dtype) != np.dtype(ft["dtype"]):
                problems.append(f"{rel}: column {k} has dtype {arrays[k].dtype}; info.json says {ft['dtype']}")
            columns_seen[k].append(arrays[k])
        index = arrays["index"]
        for ep in eps:
            lo, hi = ep["dataset_from_index"], ep["dataset_to_index"]
            sel = (index >= lo) & (index < hi)
            if int(sel.sum()) != ep["length"]:
                problems.append(f"{rel}: episode {ep['episode_index']} has {int(sel.sum())} rows; meta/episodes says {ep['length']}")
                continue
            rows = {k: arrays[k][sel] for k in DEFAULT_COLUMNS}
            if not np.array_equal(rows["index"], np.arange(lo, hi)):
                problems.append(f"{rel}: episode {ep['episode_index']} index is not {lo}..{hi - 1} in order")
            if not np.all(rows["episode_index"] == ep["episode_index"]):
                bad = sorted(set(rows["episode_index"].tolist()) - {ep["episode_index"]})
                problems.append(f"{rel}: rows of episode {ep['episode_index']} carry episode_index {bad}")
            if not np.array_equal(rows["frame_index"], np.arange(ep["length"])):
                problems.append(f"{rel}: episode {ep['episode_index']} frame_index is not 0..{ep['length'] - 1}")
            if np.abs(rows["timestamp"] - rows["frame_index"] / fps).max() > TIMESTAMP_TOL_S:
                problems.append(f"{rel}: episode {ep['episode_index']} timestamps are not frame_index / {fps}")
            task_ids = set(rows["task_index"].tolist())
            if any(not 0 <= t < len(tasks) for t in task_ids) or [tasks[t] for t in sorted(task_ids)] != list(ep["tasks"])[: len(task_ids)]:
                problems.append(f"{rel}: episode {ep['episode_index']} task_index {sorted(task_ids)} does not match its tasks {ep['tasks']}")
    referenced = {ds.data_path(c, f).resolve() for c, f in by_file}
    stray = sorted(os.path.relpath(p, ds.root) for p in (ds.root / "data").glob("*/*.parquet") if p.resolve() not in referenced)
    if stray:
        problems.append(f"data/ holds parquet files no episode references (LeRobot would load their rows): {stray[:5]}")
    total_rows = sum(len(v) for v in columns_seen["index"])
    if total_rows != n_frames:
        problems.append(f"data files hold {total_rows} rows; info.json total_frames is {n_frames}")

    problems.extend(_check_depth_features(ds))
    problems.extend(_check_videos(ds, episodes))
    if check_stats and not problems:
        problems.extend(_check_stats(ds, {k: np.concatenate(v) for k, v in columns_seen.items() if v}))
    problems.extend(_check_simfarm(ds, episodes))
    return problems


def _check_videos(ds: LeRobotReader, episodes: list[dict]) -> list[str]:
    from simfarm.writers.video import probe_video

    problems = []
    fps = ds.fps
    for key in ds.video_keys:
        ft = ds.info["features"][key]
        files: dict[tuple[int, int], list[dict]] = {}
        for ep in episodes:
            if f"videos/{key}/chunk_index" not in ep:
                problems.append(f"meta/episodes lacks videos/{key}/* columns")
                return problems
            files.setdefault((ep[f"videos/{key}/chunk_index"], ep[f"videos/{key}/file_index"]), []).append(ep)
        for (chunk, file), eps in files.items():
            path = ds.video_path(key, chunk, file)
            rel = os.path.relpath(path, ds.root)
            if not path.exists():
                problems.append(f"{rel} is missing (referenced by episodes {[e['episode_index'] for e in eps][:5]})")
                continue
            try:
                probe = probe_video(str(path))
            except Exception as exc:  # PyAV raises its own error types for broken containers
                problems.append(f"{rel} cannot be decoded: {exc}")
                continue
            h, w = ft["shape"][0], ft["shape"][1]
            if (probe["height"], probe["width"]) != (h, w):
                problems.append(f"{rel} is {probe['height']}x{probe['width']}; info.json says {h}x{w}")
            declared = (ft.get("info") or {}).get("video.pix_fmt")
            if (key.endswith("_depth") or is_depth_feature(ft) or key.endswith("_segmentation")) and probe["pix_fmt"] != declared:
                problems.append(f"{rel} has pix_fmt {probe['pix_fmt']}; info.json {key} says {declared}")
            for ep in eps:
                t0, t1 = ep[f"videos/{key}/from_timestamp"], ep[f"videos/{key}/to_timestamp"]
                if abs(t0 * fps - round(t0 * fps)) > TIMESTAMP_TOL_S * fps:
                    problems.append(f"episode {ep['episode_index']}: {key} from_timestamp {t0} is not on a frame (fps {fps})")
                if abs((t1 - t0) - ep["length"] / fps) > TIMESTAMP_TOL_S:
                    problems.append(f"episode {ep['episode_index']}: {key} spans {t1 - t0:.4f}s for {ep['length']} frames at {fps} fps")
                if round(t1 * fps) > probe["frames"]:
                    problems.append(
                        f"episode {ep['episode_index']}: {key} ends at frame {round(t1 * fps)} but {rel} has {probe['frames']} frames"
                    )
    return problems


def _check_depth_features(ds: LeRobotReader) -> list[str]:
    """Depth videos as LeRobot reads them: flagged is_depth_map, with a usable quantizer, 12-bit."""
    from simfarm.writers.depth import DepthCoding

    problems = []
    for key in ds.video_keys:
        ft = ds.info["features"][key]
        info = ft.get("info") or {}
        looks_depth = key.endswith("_depth") or info.get("video.pix_fmt") == DEPTH_PIX_FMT
        if looks_depth and not is_depth_feature(ft):
            problems.append(f"meta/info.json {key} is a depth video without info.is_depth_map: true; "
                            "LeRobot would decode its 12-bit codes as RGB")
            continue
        if not is_depth_feature(ft):
            continue
        missing = [f"video.{k}" for k in ("depth_min", "depth_max", "shift", "use_log") if f"video.{k}" not in info]
        if missing:
            problems.append(f"meta/info.json {key} lacks {missing}: its codes cannot be turned back into metres")
            continue
        try:
            DepthCoding.from_info(info)
        except Exception as exc:  # ConfigError from DepthCoding: an impossible range
            problems.append(f"meta/info.json {key}: {exc}")
        if info.get("video.pix_fmt") != DEPTH_PIX_FMT:
            problems.append(f"meta/info.json {key} video.pix_fmt is {info.get('video.pix_fmt')!r}; LeRobot decodes depth as {DEPTH_PIX_FMT}")
        if list(ft.get("shape", []))[2:] != [1]:
            problems.append(f"meta/info.json {key} shape is {ft.get('shape')}; a depth map is (height, width, 1)")
    return problems


def _check_segmentation(ds: LeRobotReader, episodes: list[dict], rows: dict[int, dict]) -> list[str]:
    """Every id in each segmentation frame is 0 or an instance of the episode's table."""
    problems = []
    cams = [k[len("observation.images."):-len("_segmentation")] for k in ds.video_keys if k.endswith("_segmentation")]
    for ep in episodes:
        i = ep["episode_index"]
        r = rows.get(i) or {}
        try:
            known = segmentation_ids(json.loads(r.get("segmentation") or "{}"))
        except json.JSONDecodeError as exc:
            problems.append(f"meta/simfarm/episodes.parquet episode {i} segmentation is not JSON: {exc}")
            continue
        for cam in cams:
            try:
                ids = set(np.unique(ds.segmentation(i, cam)).tolist())
            except DatasetError as exc:
                problems.append(str(exc))
                continue
            unknown = sorted(ids - known)
            if unknown:
                problems.append(f"episode {i}: {cam} segmentation holds ids {unknown[:10]} its table does not define")
    return problems


PERSISTENT_STYLES = ("subtask", "plan", "memory", "motion", "task_aug")
EVENT_STYLES = ("interjection", "vqa", "trace", None)
VIEW_DEPENDENT_STYLES = ("vqa", "trace")


def _check_rows(rel: str, key: str, episode: int, frames: list, cameras: set[str]) -> list[str]:
    """LeRobot's row rules (`src/lerobot/datasets/language.py` and the steerable pipeline's
    validator): view-dependent styles (vqa, trace) name an `observation.images.*` key the dataset
    has, every other style has no camera; at most one vqa question and one answer per frame and
    camera; vqa answers are JSON objects."""
    problems: list[str] = []
    for f, frame in enumerate(frames):
        seen: set[tuple] = set()
        for r in frame or []:
            style, camera = r.get("style"), r.get("camera")
            if style in VIEW_DEPENDENT_STYLES:
                if camera not in cameras:
                    problems.append(f"{rel}: episode {episode} frame {f}: a {style} row names camera {camera!r}; "
                                    f"view-dependent rows need one of {sorted(cameras)}")
            elif camera is not None:
                problems.append(f"{rel}: episode {episode} frame {f}: a {style} row names camera {camera!r}; only "
                                f"{sorted(VIEW_DEPENDENT_STYLES)} rows may")
            if key == "language_events" and style == "vqa":
                slot = (camera, r.get("role"))
                if slot in seen:
                    problems.append(f"{rel}: episode {episode} frame {f}: two vqa {r.get('role')} rows for {camera}")
                seen.add(slot)
                if r.get("role") == "assistant":
                    try:
                        ok = isinstance(json.loads(r.get("content") or ""), dict)
                    except ValueError:
                        ok = False
                    if not ok:
                        problems.append(f"{rel}: episode {episode} frame {f}: a vqa answer is not a JSON object")
        if len(problems) > 20:
            break
    return problems


def _check_language(rel: str, table, columns: list[str], arrays: dict, episodes: list[dict], fps: float,
                    cameras: set[str] | None = None) -> list[str]:
    """LeRobot's language columns: styles in the right column, one persistent list per episode
    (the same on every frame), persistent rows stamped at frame timestamps, the row rules of
    `_check_rows`."""
    cameras = cameras or set()
    problems = []
    for key in columns:
        if key not in table.column_names:
            problems.append(f"{rel} lacks column {key}")
            continue
        values = table.column(key).to_pylist()
        index = arrays["index"]
        styles = PERSISTENT_STYLES if key == "language_persistent" else EVENT_STYLES
        for ep in episodes:
            sel = np.flatnonzero((index >= ep["dataset_from_index"]) & (index < ep["dataset_to_index"]))
            rows = [values[i] for i in sel]
            bad = sorted({str(r.get("style")) for frame in rows for r in frame or [] if r.get("style") not in styles})
            if bad:
                problems.append(f"{rel}: episode {ep['episode_index']} {key} has rows of style {bad}; it holds {styles}")
            problems += _check_rows(rel, key, ep["episode_index"], rows, cameras)
            if key == "language_persistent" and rows:
                if any(frame != rows[0] for frame in rows):
                    problems.append(f"{rel}: episode {ep['episode_index']} language_persistent differs between frames")
                stamps = {round(float(r["timestamp"]) * fps, 3) for r in rows[0] or []}
                if any(abs(s - round(s)) > 1e-2 or not 0 <= s < ep["length"] for s in stamps):
                    problems.append(f"{rel}: episode {ep['episode_index']} language_persistent rows are not at frame timestamps")
    return problems


def _check_stats(ds: LeRobotReader, columns: dict[str, np.ndarray]) -> list[str]:
    problems = []
    try:
        stats = ds.stats
    except DatasetError as exc:
        return [str(exc)]
    for key, ft in ds.info["features"].items():
        if ft["dtype"] == "language":  # text rows: no statistics (as LeRobot)
            continue
        if key not in stats:
            problems.append(f"meta/stats.json lacks feature {key!r}")
            continue
        for s in ("min", "max", "mean", "std", "count"):
            if s not in stats[key]:
                problems.append(f"meta/stats.json {key} lacks {s!r}")
    for key, values in columns.items():
        if key not in stats or problems:
            continue
        x = values.astype(np.float64).reshape(len(values), -1)
        st = stats[key]
        for s, expect in (("min", x.min(0)), ("max", x.max(0)), ("mean", x.mean(0)), ("std", x.std(0))):
            got = np.asarray(st[s], dtype=np.float64).reshape(-1)
            if got.shape != expect.shape or not np.allclose(got, expect, rtol=1e-4, atol=1e-5):
                problems.append(f"meta/stats.json {key}/{s} does not match the data (first diff: {got[:3]} vs {expect[:3]})")
        if int(np.asarray(st["count"]).reshape(-1)[0]) != len(values):
            problems.append(f"meta/stats.json {key}/count is {st['count']}; data has {len(values)} rows")
    return problems


def _check_simfarm(ds: LeRobotReader, episodes: list[dict]) -> list[str]:
    problems = []
    try:
        rows = ds.simfarm_episodes
    except DatasetError as exc:
        return [str(exc)]
    have = {r["episode_index"]: r for r in rows}
    for ep in episodes:
        i = ep["episode_index"]
        r = have.get(i)
        if r is None:
            problems.append(f"meta/simfarm/episodes.parquet has no row for episode {i}")
            continue
        for k in ("seed", "config_hash", "task", "robot", "metadata"):
            if k not in r:
                problems.append(f"meta/simfarm/episodes.parquet lacks column {k!r}")
                return problems
        if r.get("length") != ep["length"]:
            problems.append(f"meta/simfarm/episodes.parquet episode {i} length {r.get('length')} != {ep['length']}")
        if r.get("scene_hash") and ds.scene_spec(r["scene_hash"]) is None:
            problems.append(f"meta/simfarm/scenes/{r['scene_hash']}.json (scene of episode {i}) is missing")
        spath = ds.states_path(r["states/chunk_index"], r["states/file_index"])
        if not spath.exists():
            problems.append(f"{os.path.relpath(spath, ds.root)} (physics states of episode {i}) is missing")
        else:
            import pyarrow.parquet as pq

            try:
                n = pq.read_metadata(spath).num_rows
            except Exception as exc:  # truncated parquet footers raise ArrowInvalid
                problems.append(f"{os.path.relpath(spath, ds.root)} cannot be read: {exc}")
                continue
            if r["states/to_row"] > n:
                problems.append(f"{os.path.relpath(spath, ds.root)} has {n} rows; episode {i} needs rows up to {r['states/to_row']}")
    extra = set(have) - {ep["episode_index"] for ep in episodes}
    if extra:
        problems.append(f"meta/simfarm/episodes.parquet has rows for unknown episodes {sorted(extra)[:5]}")
    problems.extend(_check_frames_table(ds, episodes, have))
    if any(k.endswith("_segmentation") for k in ds.video_keys) and not problems:
        problems.extend(_check_segmentation(ds, episodes, have))
    return problems


def _check_frames_table(ds: LeRobotReader, episodes: list[dict], rows: dict[int, dict]) -> list[str]:
    """meta/simfarm/frames: one row per data row, in the data file's order."""
    import pyarrow.parquet as pq

    problems = []
    counts: dict[tuple[int, int], int] = {}
    for ep in episodes:
        r = rows.get(ep["episode_index"]) or {}
        if r.get("frames/chunk_index") is None:
            continue
        loc = (r["frames/chunk_index"], r["frames/file_index"])
        path = ds.frames_path(*loc)
        rel = os.path.relpath(path, ds.root)
        if loc not in counts:
            if not path.exists():
                problems.append(f"{rel} (frames side table of episode {ep['episode_index']}) is missing")
                counts[loc] = -1
                continue
            try:
                counts[loc] = pq.read_metadata(path).num_rows
            except Exception as exc:  # truncated parquet footers raise ArrowInvalid
                problems.append(f"{rel} cannot be read: {exc}")
                counts[loc] = -1
                continue
            data_rows = ds.data_table(ep["data/chunk_index"], ep["data/file_index"]).num_rows
            if counts[loc] != data_rows:
                problems.append(f"{rel} has {counts[loc]} rows; its data file has {data_rows}")
        if counts[loc] >= 0 and r["frames/to_row"] - r["frames/from_row"] != ep["length"]:
            problems.append(f"meta/simfarm/episodes.parquet episode {ep['episode_index']} frames rows "
                            f"{r['frames/from_row']}..{r['frames/to_row']} do not match its length {ep['length']}")
    return problems


def _validate_hdf5(ds: Hdf5Reader) -> list[str]:
    problems: list[str] = []
    with ds.open() as f:
        if "data" not in f:
            return [f"{ds.path} has no 'data' group"]
        data = f["data"]
        for a in ("total", "env_args"):
            if a not in data.attrs:
                problems.append(f"{ds.path}: data lacks attribute {a!r}")
        try:
            json.loads(data.attrs.get("env_args", "{}"))
        except json.JSONDecodeError as exc:
            problems.append(f"{ds.path}: data.attrs['env_args'] is not JSON: {exc}")
        names = list(data.keys())
        try:
            numbers = sorted(int(n.split("_")[1]) for n in names)
        except (IndexError, ValueError):
            return problems + [f"{ds.path}: data holds groups not named demo_N: {names[:5]}"]
        if numbers != list(range(len(numbers))):
            problems.append(f"{ds.path}: demos are not numbered demo_0..demo_{len(numbers) - 1}")
        total = 0
        for n in names:
            g = data[n]
            if "num_samples" not in g.attrs:
                problems.append(f"{ds.path}: data/{n} lacks attribute num_samples")
                continue
            T = int(g.attrs["num_samples"])
            total += T
            for key in ("actions", "rewards", "dones", "obs", "next_obs"):
                if key not in g:
                    problems.append(f"{ds.path}: data/{n} lacks {key}")
            for key in ("actions", "rewards", "dones", "states"):
                if key in g and len(g[key]) != T:
                    problems.append(f"{ds.path}: data/{n}/{key} has {len(g[key])} rows; num_samples is {T}")
            for grp in ("obs", "next_obs"):
                if grp in g:
                    for k, dset in g[grp].items():
                        if len(dset) != T:
                            problems.append(f"{ds.path}: data/{n}/{grp}/{k} has {len(dset)} rows; num_samples is {T}")
                        if k.endswith("_image") and (dset.dtype != np.uint8 or dset.ndim != 4 or dset.shape[-1] != 3):
                            problems.append(f"{ds.path}: data/{n}/{grp}/{k} must be uint8 (T, H, W, 3), got {dset.dtype} {dset.shape}")
                        problems.extend(_check_hdf5_camera_array(f"{ds.path}: data/{n}/{grp}/{k}", k, dset))
                if "obs" in g and any(k.endswith("_seg") for k in g["obs"]):
                    try:
                        known = segmentation_ids(json.loads(g.attrs.get("segmentation", "{}")))
                    except json.JSONDecodeError as exc:
                        problems.append(f"{ds.path}: data/{n} attribute 'segmentation' is not JSON: {exc}")
                        known = None
                    for k in (k for k in g["obs"] if k.endswith("_seg")):
                        unknown = sorted(set(np.unique(g["obs"][k][()]).tolist()) - known) if known is not None else []
                        if unknown:
                            problems.append(f"{ds.path}: data/{n}/obs/{k} holds ids {unknown[:10]} its segmentation table does not define")
            if "simfarm" not in g.attrs:
                problems.append(f"{ds.path}: data/{n} lacks simfarm metadata (attribute 'simfarm')")
        if "total" in data.attrs and int(data.attrs["total"]) != total:
            problems.append(f"{ds.path}: data.attrs['total'] is {int(data.attrs['total'])}; demos hold {total} samples")
        if "mask" in f:
            for split, dset in f["mask"].items():
                unknown = [x.decode() for x in dset[()] if x.decode() not in data]
                if unknown:
                    problems.append(f"{ds.path}: mask/{split} names missing demos {unknown[:5]}")
        else:
            problems.append(f"{ds.path} has no 'mask' group (train/valid filter keys)")
    return problems


# robomimic obs key suffix -> (dtype, trailing shape; None: any (H, W))
HDF5_CAMERA_ARRAYS = {"_depth": (np.float32, None), "_seg": (np.uint8, None), "_intrinsics": (np.float64, (3, 3)),
                      "_extrinsics": (np.float64, (4, 4)), "_base_T_camera": (np.float64, (4, 4))}


def _check_hdf5_camera_array(where: str, key: str, dset) -> list[str]:
    for suffix, (dtype, shape) in HDF5_CAMERA_ARRAYS.items():
        if key.endswith(suffix):
            ok = dset.dtype == dtype and dset.ndim == 3 and (shape is None or tuple(dset.shape[1:]) == shape)
            if not ok:
                want = "H, W" if shape is None else ", ".join(map(str, shape))
                return [f"{where} must be {np.dtype(dtype).name} (T, {want}), got {dset.dtype} {dset.shape}"]
    return []


def summary_line(problems: list[str]) -> str:
    return "valid" if not problems else f"{len(problems)} problem(s)"


def as_json(problems: list[str]) -> dict[str, Any]:
    return {"valid": not problems, "problems": problems}
